// local_stream: a connected byte stream between two ends in this process or,
// by handing one end's native handle to a child, between processes (a
// socketpair on Linux, a named pipe on Windows). Stream recv/send semantics,
// as for TCP.
#pragma once

#include <system_error>

#include "proact/export.hpp"
#include "proact/handle.hpp"
#include "proact/stream.hpp"

namespace proact {

class PROACT_API local_stream : public stream_handle {
 public:
  local_stream() noexcept = default;

  // Opens a connected pair; `a` and `b` must not be open.
  [[nodiscard]] static std::error_code pair(local_stream& a, local_stream& b);

  // Takes ownership of an end received from another process (inherited or
  // passed): a socketpair end on Linux, an overlapped pipe handle on Windows.
  [[nodiscard]] std::error_code adopt(native_handle_type native);
  // Gives up ownership of an unassociated end (to pass it to another
  // process); the object is left closed. Ends are created close-on-exec
  // (Linux) and not inheritable (Windows): to hand one to a child, clear
  // FD_CLOEXEC with fcntl, or mark the handle inheritable with
  // SetHandleInformation(HANDLE_FLAG_INHERIT), before starting the child.
  native_handle_type release() noexcept;
};

}  // namespace proact
