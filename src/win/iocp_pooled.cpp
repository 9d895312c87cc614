// Pooled recvs on IOCP: a zero-length read waits for data, then the bytes
// there are read into a pool buffer (iocp_io.cpp). The kernel would hand
// data that arrives meanwhile to a recv started after the pooled one, so
// such recvs are held here until the pooled recv has taken its bytes, then
// issued in start order (item 3). A pooled recv itself is held until the
// recvs ahead of it are done: its turn, when an empty pool ends it.
#include "common/pool_state.hpp"
#include "iocp_backend.hpp"
#include "iocp_io.hpp"

namespace proact::detail {
namespace {

bool is_stream_recv(const iocp_handle& h, const operation& op) noexcept {
  return (h.kind == handle_kind::tcp_stream || h.kind == handle_kind::local_stream) &&
         op_access::kind(op) == op_kind::recv;
}

// A recv of h is in the kernel (started and not held, its packet not handled).
bool recv_in_kernel(const iocp_handle& h) noexcept {
  for (iocp_op* s = h.first; s != nullptr; s = s->next)
    if (!s->held && op_access::kind(*op_access::from_backend(s)) == op_kind::recv) return true;
  return false;
}

}  // namespace

bool iocp_backend::hold_behind_pooled(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  if (!is_stream_recv(h, op)) return false;
  // A pooled recv waits for its turn (the recvs ahead of it done), as on
  // the other backends: an empty pool ends it then.
  const bool pooled_behind_recv = pool_of(op) != nullptr && recv_in_kernel(h);
  if (h.pooled_waiting == nullptr && h.held == 0 && !pooled_behind_recv) return false;
  track(h, op, s);  // cancel and close find it in start order
  s.held = true;
  ++h.held;
  return true;
}

bool iocp_backend::withdraw_held(iocp_handle& h, iocp_op& s) noexcept {
  if (!s.held) return false;
  s.held = false;
  --h.held;
  (void)post_result(h, s, ERROR_OPERATION_ABORTED, 0);  // untracked with its packet
  return true;
}

void iocp_backend::note_issued_recv(iocp_handle& h, operation& op,
                                    std::error_code started) noexcept {
  if (!started && is_stream_recv(h, op) && pool_of(op) != nullptr) h.pooled_waiting = &op;
}

void iocp_backend::recv_done(iocp_handle& h, operation& op) noexcept {
  if (&op == h.pooled_waiting) h.pooled_waiting = nullptr;
  if (h.held == 0 || h.pooled_waiting != nullptr) return;
  // Closed (cancel_each withdrew what was held) or disconnecting: the held
  // recvs end aborted, as those in the kernel do.
  const bool open = h.gate.enter();
  for (iocp_op* r = h.first; r != nullptr && h.held != 0 && h.pooled_waiting == nullptr;) {
    iocp_op* next = r->next;  // r may leave the list
    if (r->held) {
      operation& held_op = *op_access::from_backend(r);
      const pool_state* pool = pool_of(held_op);
      // A pooled recv's turn comes when no recv ahead of it is in the kernel.
      if (pool != nullptr && open && h.disconnecting == nullptr && recv_in_kernel(h)) break;
      r->held = false;
      --h.held;
      int code = 0;
      if (!open || h.disconnecting != nullptr) {
        code = ERROR_OPERATION_ABORTED;
      } else if (pool != nullptr && pool->available() == 0) {
        code = pool_empty_code;  // its turn came with the pool empty
      } else {
        DWORD bytes = 0;
        const std::error_code ec = issue(h, held_op, *r, nullptr, bytes);
        code = ec.category() == native_category() ? ec.value() : ERROR_INVALID_PARAMETER;
        if (code == 0 && h.skip_on_success) {
          // Done at once and no packet queued: its start call is long over,
          // so its result goes through the port.
          untrack(h, held_op, *r);
          (void)post_result(h, *r, 0, bytes);
        }
        if (code == 0 || code == ERROR_IO_PENDING) {
          note_issued_recv(h, held_op, {});
          code = 0;
        }
      }
      if (code != 0) {  // no packet will come from the kernel: post the result
        untrack(h, held_op, *r);
        (void)post_result(h, *r, code, 0);
      }
    }
    r = next;
  }
  if (open) h.gate.leave();
}

}  // namespace proact::detail
