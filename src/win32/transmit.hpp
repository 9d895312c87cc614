// TransmitFile (head buffer, file range, tail buffer, TF_DISCONNECT) and
// DisconnectEx: one OVERLAPPED and one packet for several proact
// operations, one per step.
#pragma once

#include "completion.hpp"
#include "op_record.hpp"
#include "proact/win32.h"

namespace proact::win32 {

BOOL WINAPI transmit_file(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite,
                          DWORD nNumberOfBytesPerSend, LPOVERLAPPED lpOverlapped,
                          LPTRANSMIT_FILE_BUFFERS lpTransmitBuffers, DWORD dwReserved);
BOOL WINAPI disconnect_ex(SOCKET s, LPOVERLAPPED lpOverlapped, DWORD dwFlags, DWORD dwReserved);

// A step's completion `c` (on the OVERLAPPED's record or another step's):
// the OVERLAPPED's record when it was the last step left, else nullptr.
// Does not give a step's record back.
op_record* transmit_step_done(op_record& step, const proact::completion& c) noexcept;
// The packet of a TransmitFile or DisconnectEx whose steps are all done:
// the first failed step's status (in step order) or success, and the bytes
// of every step. A TF_REUSE_SOCKET that succeeded takes effect here.
void transmit_result(op_record& whole, DWORD& status, DWORD& bytes) noexcept;
// CancelIoEx(h, ov) of a TransmitFile or DisconnectEx: every step still
// pending; the first step's refusal (not_found) when none is.
std::error_code cancel_transmit(op_record& whole) noexcept;

}  // namespace proact::win32
