#include "completion.hpp"

#include <atomic>
#include <span>

#include "proact/error.hpp"
#include "sockaddr.hpp"
#include "status.hpp"
#include "transmit.hpp"

namespace proact::win32 {
namespace {

// A recv that found the peer's orderly close completes with 0 bytes and
// success on Windows; proact says eof.
DWORD recv_status(const std::error_code& ec) noexcept {
  return ec == proact::errc::eof ? STATUS_SUCCESS : ntstatus_from(ec);
}

void write_accept_addresses(op_record& r, socket_object& accepted) noexcept {
  std::error_code ec;
  const proact::endpoint local = accepted.stream.local_endpoint(ec);
  char* area = r.output + r.receive_length;
  if (!ec) (void)sockaddr_from(local, area, static_cast<int>(r.local_length));
  (void)sockaddr_from(r.peer, area + r.local_length, static_cast<int>(r.remote_length));
}

// The accept step is done (either way): the target socket is no longer
// claimed, and a closesocket that came meanwhile takes effect now.
// Returns false if the socket was closed.
bool release_accept_target(socket_object& s) noexcept {
  std::lock_guard lock(s.mutex);
  s.accept_target.store(false, std::memory_order_release);
  if (!s.close_deferred) return true;
  close_socket_locked(s);
  free_socket(&s);
  return false;
}

// AcceptEx's connection is in: the socket becomes a stream; with initial
// data it is associated with the listener's port (the caller's own
// association later only sets its key) and receives into the output buffer.
bool after_accept(op_record& r, port_object& port, DWORD& status) noexcept {
  socket_object& accepted = *r.target;
  if (!release_accept_target(accepted)) {
    status = status_cancelled;
    return true;
  }
  accepted.role.store(socket_role::stream, std::memory_order_release);
  mark_connected(accepted);
  write_accept_addresses(r, accepted);
  {
    std::lock_guard lock(accepted.mutex);
    // Options set on the accept socket before its AcceptEx.
    apply_pending_options(accepted, accepted.stream);
    // To receive its initial data the connection must be associated: with
    // the listener's port (the caller's own association later only sets
    // the key). A socket the caller associated before its AcceptEx, as
    // Windows allows, is associated now.
    if (accepted.port == nullptr && r.receive_length > 0) {
      port.refs.fetch_add(1, std::memory_order_acq_rel);
      accepted.port = &port;
    }
    if (auto ec = associate_with_port(accepted, accepted.stream)) {
      status = ntstatus_from(ec);
      return true;
    }
  }
  if (r.receive_length == 0) return true;
  r.kind = op_kind::accept_data;
  r.started_on = &accepted.stream;
  if (auto ec = accepted.stream.recv(r, proact::buffer{r.output, r.receive_length})) {
    status = ntstatus_from(ec);
    return true;
  }
  return false;
}

}  // namespace

void publish(OVERLAPPED* ov, DWORD status, DWORD bytes) noexcept {
  if (ov == nullptr) return;
  ov->InternalHigh = bytes;
  std::atomic_ref<ULONG_PTR>(ov->Internal).store(status, std::memory_order_release);
}

start_outcome after_start(op_record* r, OVERLAPPED* ov, const std::error_code& ec, bool skip,
                          port_object* port) noexcept {
  start_outcome o;
  if (ec) {
    drop_after_failed_start(r, skip);
    ov->Internal = ntstatus_from(ec);
    ov->InternalHigh = 0;
    o.what = start_outcome::refused;
    o.refusal = ec;
    return o;
  }
  if (port != nullptr && completed_in_call(r, skip, *port, o.result)) o.what = start_outcome::done;
  return o;
}

void hold_for_start(op_record* r, bool skip) noexcept {
  // One more hold, not "two": a next step (ConnectEx's send, TransmitFile's
  // file) may be started from within completed_in_call, while the first
  // start call's hold is still there.
  if (skip) r->holds.fetch_add(1, std::memory_order_relaxed);
}

bool completed_in_call(op_record* r, bool skip, port_object& port, packet& out) noexcept {
  if (!skip) return false;
  const bool done = r->completed_at_start();
  // finish() may start a next step (AcceptEx's data), which then completes
  // through the port: not done in the call after all.
  const bool finished = done && finish(r->result(), port, out);
  give_back(r);
  return finished;
}

void drop_after_failed_start(op_record* r, bool skip) noexcept {
  if (skip) give_back(r);
  give_back(r);
}

void mark_pending(OVERLAPPED* ov, op_record* record, bool skip) noexcept {
  hold_for_start(record, skip);
  ov->InternalHigh = reinterpret_cast<ULONG_PTR>(record);
  std::atomic_ref<ULONG_PTR>(ov->Internal).store(STATUS_PENDING, std::memory_order_release);
}

DWORD read_status(const OVERLAPPED* ov) noexcept {
  // Internal is written by the dequeuing thread; const_cast only to load it.
  return static_cast<DWORD>(std::atomic_ref<ULONG_PTR>(const_cast<OVERLAPPED*>(ov)->Internal)
                                .load(std::memory_order_acquire));
}

bool finish(const proact::completion& c, port_object& port, packet& out) noexcept {
  auto* r = static_cast<op_record*>(c.op);
  DWORD status = STATUS_SUCCESS;
  auto bytes = static_cast<DWORD>(c.bytes);
  switch (r->kind) {
    case op_kind::post:
      out = {r->key, r->overlapped, r->posted_bytes, STATUS_SUCCESS};
      give_back(r);
      return true;
    case op_kind::recv:
    case op_kind::accept_data:
      status = recv_status(c.error);
      break;
    case op_kind::transmit_whole:
    case op_kind::transmit_part: {
      op_record* whole = transmit_step_done(*r, c);
      if (r != whole && r->kind == op_kind::transmit_part) give_back(r);
      if (whole == nullptr) return false;
      r = whole;
      transmit_result(*r, status, bytes);
      break;
    }
    case op_kind::transmit_done:
      transmit_result(*r, status, bytes);
      break;
    case op_kind::read_file:  // at or past the end: STATUS_END_OF_FILE
    case op_kind::write_file:
    case op_kind::send:
    case op_kind::send_to:
    case op_kind::connect_data:
      status = ntstatus_from(c.error);
      break;
    case op_kind::recv_from:
      // A truncated datagram still has a source.
      status = ntstatus_from(c.error);
      if (r->from != nullptr && r->from_length != nullptr && !r->peer.empty()) {
        const int n = sockaddr_from(r->peer, r->from, *r->from_length);
        if (n != 0) *r->from_length = n;
      }
      break;
    case op_kind::accept:
      bytes = 0;
      if (c.error) {
        status = ntstatus_from(c.error);
        (void)release_accept_target(*r->target);
      } else if (!after_accept(*r, port, status)) {
        return false;
      }
      break;
    case op_kind::connect:
      status = ntstatus_from(c.error);
      if (!c.error) mark_connected(*r->target);
      r->target->connecting.store(false, std::memory_order_release);
      if (!c.error && r->buffer_count == 1) {
        r->kind = op_kind::connect_data;
        const proact::const_buffer data = r->buffers[0];
        const bool skip = r->target->skip_on_success.load(std::memory_order_acquire);
        hold_for_start(r, skip);
        if (auto ec = r->target->stream.send(*r, data)) {
          if (skip) give_back(r);
          status = ntstatus_from(ec);
          break;
        }
        if (!skip) return false;
        const bool done = r->completed_at_start();
        const proact::completion sent = r->result();
        give_back(r);
        if (!done) return false;
        status = ntstatus_from(sent.error);
        bytes = static_cast<DWORD>(sent.bytes);
      }
      break;
  }
  out = {r->key, r->overlapped, bytes, status};
  publish(r->overlapped, status, bytes);
  give_back(r);
  return true;
}

}  // namespace proact::win32
