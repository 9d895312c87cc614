// From a proact completion to the Windows packet a caller dequeues.
#pragma once

#include "objects.hpp"
#include "op_record.hpp"
#include "proact/win32.h"

namespace proact::win32 {

struct packet {
  ULONG_PTR key = 0;
  OVERLAPPED* overlapped = nullptr;
  DWORD bytes = 0;
  DWORD status = STATUS_SUCCESS;  // NTSTATUS
};

// Finishes the record behind `c` and fills `out`: writes the status and
// bytes into its OVERLAPPED (Internal, InternalHigh) as the kernel does, and
// returns the record to the pool. Returns false when the operation went on
// with its next step instead (AcceptEx receiving its initial data, ConnectEx
// sending its buffer): no packet yet.
bool finish(const proact::completion& c, port_object& port, packet& out) noexcept;

// Skip mode (SetFileCompletionNotificationModes): before the start call the
// caller takes a second hold on the record; after a successful one,
// completed_in_call says whether the operation finished in the call (then no
// packet comes and `out` holds its result; the OVERLAPPED is updated) and
// drops that hold. `skip` false: nothing to do, false.
void hold_for_start(op_record* r, bool skip) noexcept;
bool completed_in_call(op_record* r, bool skip, port_object& port, packet& out) noexcept;

// What a start call ended in: pending (a packet will come); done in the call
// (skip mode; `result` holds it, no packet comes); or refused (`refusal`,
// the OVERLAPPED says so, no packet).
struct start_outcome {
  enum { pending, done, refused } what = pending;
  packet result;
  std::error_code refusal;
};
start_outcome after_start(op_record* r, OVERLAPPED* ov, const std::error_code& ec, bool skip,
                          port_object* port) noexcept;

// Writes a result into an OVERLAPPED as the kernel does (Internal last).
void publish(OVERLAPPED* ov, DWORD status, DWORD bytes) noexcept;

// Marks an OVERLAPPED pending on `record` before its start call.
// In skip mode it also takes the starting thread's hold (hold_for_start).
void mark_pending(OVERLAPPED* ov, op_record* record, bool skip = false) noexcept;
// Undoes mark_pending's holds after a start call that failed.
void drop_after_failed_start(op_record* r, bool skip) noexcept;
DWORD read_status(const OVERLAPPED* ov) noexcept;

}  // namespace proact::win32
