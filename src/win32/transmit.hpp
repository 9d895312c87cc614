// TransmitFile (head buffer, file range, tail buffer, TF_DISCONNECT) and
// DisconnectEx: one OVERLAPPED, one packet, proact operations in steps.
#pragma once

#include "completion.hpp"
#include "op_record.hpp"
#include "proact/win32.h"

namespace proact::win32 {

BOOL WINAPI transmit_file(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite,
                          DWORD nNumberOfBytesPerSend, LPOVERLAPPED lpOverlapped,
                          LPTRANSMIT_FILE_BUFFERS lpTransmitBuffers, DWORD dwReserved);
BOOL WINAPI disconnect_ex(SOCKET s, LPOVERLAPPED lpOverlapped, DWORD dwFlags, DWORD dwReserved);

// A step of either is done (`c`): starts the next one and answers false (no
// packet yet), or answers true with the packet's status and bytes (all the
// steps' bytes).
bool transmit_step_done(op_record& r, proact::completion c, DWORD& status, DWORD& bytes) noexcept;

}  // namespace proact::win32
