#include "transmit.hpp"

#include <mutex>

#include "objects.hpp"
#include "proact/error.hpp"
#include "status.hpp"

namespace proact::win32 {
namespace {

// The flags TransmitFile acts on, and the performance hints it may ignore
// (how Windows schedules the work; the result is the same).
constexpr DWORD transmit_flags = TF_DISCONNECT | TF_REUSE_SOCKET | TF_WRITE_BEHIND |
                                 TF_USE_DEFAULT_WORKER | TF_USE_SYSTEM_THREAD | TF_USE_KERNEL_APC;

op_kind next_of(op_kind k) noexcept {
  switch (k) {
    case op_kind::transmit_head:
      return op_kind::transmit_file;
    case op_kind::transmit_file:
      return op_kind::transmit_tail;
    default:
      return op_kind::disconnect;
  }
}

// Starts the first step from `k` on that has something to do (`ec`: its
// start call's answer); false when none is left.
bool start_from(op_record& r, op_kind k, std::error_code& ec) noexcept {
  proact::tcp_socket& s = r.target->stream;
  if (k == op_kind::transmit_head) {
    if (r.buffers[0].size > 0) {
      r.kind = k;
      ec = s.send(r, r.buffers[0]);
      return true;
    }
    k = op_kind::transmit_file;
  }
  if (k == op_kind::transmit_file) {
    if (r.file != nullptr) {
      r.kind = k;
      ec = s.send_file(r, *r.file, r.file_offset, r.file_count);
      return true;
    }
    k = op_kind::transmit_tail;
  }
  if (k == op_kind::transmit_tail) {
    if (r.buffers[1].size > 0) {
      r.kind = k;
      ec = s.send(r, r.buffers[1]);
      return true;
    }
    k = op_kind::disconnect;
  }
  if ((r.flags & TF_DISCONNECT) == 0) return false;
  r.kind = op_kind::disconnect;
  ec = s.disconnect(r);
  return true;
}

// TF_REUSE_SOCKET: a Linux TCP descriptor cannot connect or be accepted into
// again, so the SOCKET gets a fresh one, opened by its next AcceptEx or
// ConnectEx. The association with the port and its key stay, as on Windows.
void make_reusable(socket_object& so) noexcept {
  std::lock_guard lock(so.mutex);
  if (so.role.load(std::memory_order_acquire) != socket_role::stream) return;  // closed meanwhile
  (void)so.stream.close();
  so.role.store(socket_role::unopened, std::memory_order_release);
}

// The start calls' answer: pending, or in skip mode perhaps done in the call.
BOOL answer(const start_outcome& o) {
  switch (o.what) {
    case start_outcome::pending:
      return refuse(WSA_IO_PENDING);
    case start_outcome::refused:
      return refuse(wsa_from(o.refusal));
    case start_outcome::done:
      break;
  }
  if (o.result.status != STATUS_SUCCESS) return refuse(wsa_from_ntstatus(o.result.status));
  return TRUE;
}

BOOL start(socket_object& so, op_record* r, OVERLAPPED* ov) {
  const bool skip = so.skip_on_success.load(std::memory_order_acquire);
  mark_pending(ov, r, skip);
  std::error_code ec;
  if (!start_from(*r, op_kind::transmit_head, ec)) {
    // Nothing to send (no file, no buffers): one empty send carries the packet.
    r->kind = op_kind::transmit_tail;
    ec = so.stream.send(*r, proact::const_buffer{});
  }
  return answer(after_start(r, ov, ec, skip, so.port));
}

}  // namespace

BOOL WINAPI transmit_file(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite,
                          DWORD /*nNumberOfBytesPerSend*/, LPOVERLAPPED lpOverlapped,
                          LPTRANSMIT_FILE_BUFFERS lpTransmitBuffers, DWORD dwReserved) {
  socket_object* so = find_socket(hSocket);
  if (so == nullptr) return refuse(WSAENOTSOCK);
  // dwReserved holds the TF_* flags.
  if ((dwReserved & ~transmit_flags) != 0) return refuse(WSAEINVAL);
  file_object* f = nullptr;
  if (hFile != nullptr) {
    f = find_file(hFile);
    if (f == nullptr) return refuse(WSAEINVAL);
  }
  if (lpOverlapped == nullptr) return refuse(WSAEOPNOTSUPP);
  if (so->role.load(std::memory_order_acquire) != socket_role::stream) return refuse(WSAENOTCONN);
  if (so->port == nullptr) return refuse(WSAEINVAL);
  const std::uint64_t offset =
      (std::uint64_t{lpOverlapped->OffsetHigh} << 32) | lpOverlapped->Offset;
  std::uint64_t count = nNumberOfBytesToWrite;
  if (f != nullptr && count == 0) {
    // 0: the rest of the file from the offset.
    std::uint64_t size = 0;
    if (auto ec = f->file.size(size)) return refuse(WSAEINVAL);
    count = size > offset ? size - offset : 0;
  }
  op_record* r = take_record(op_kind::transmit_head, lpOverlapped, so->key, so, &so->stream);
  if (r == nullptr) return refuse(WSAENOBUFS);
  r->target = so;
  r->buffers[0] = proact::buffer{};
  r->buffers[1] = proact::buffer{};
  if (lpTransmitBuffers != nullptr) {
    if (lpTransmitBuffers->Head != nullptr) {
      r->buffers[0] = proact::buffer{lpTransmitBuffers->Head, lpTransmitBuffers->HeadLength};
    }
    if (lpTransmitBuffers->Tail != nullptr) {
      r->buffers[1] = proact::buffer{lpTransmitBuffers->Tail, lpTransmitBuffers->TailLength};
    }
  }
  r->file = f == nullptr ? nullptr : &f->file;
  r->file_offset = offset;
  r->file_count = static_cast<std::size_t>(count);
  r->sent = 0;
  // TF_REUSE_SOCKET is "only valid if TF_DISCONNECT is also supplied".
  r->flags = (dwReserved & TF_DISCONNECT) != 0 ? dwReserved & (TF_DISCONNECT | TF_REUSE_SOCKET) : 0;
  return start(*so, r, lpOverlapped);
}

BOOL WINAPI disconnect_ex(SOCKET s, LPOVERLAPPED lpOverlapped, DWORD dwFlags, DWORD dwReserved) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return refuse(WSAENOTSOCK);
  if (dwReserved != 0 || (dwFlags & ~static_cast<DWORD>(TF_REUSE_SOCKET)) != 0) {
    return refuse(WSAEINVAL);
  }
  if (lpOverlapped == nullptr) return refuse(WSAEOPNOTSUPP);
  if (so->role.load(std::memory_order_acquire) != socket_role::stream) return refuse(WSAENOTCONN);
  if (so->port == nullptr) return refuse(WSAEINVAL);
  op_record* r = take_record(op_kind::disconnect, lpOverlapped, so->key, so, &so->stream);
  if (r == nullptr) return refuse(WSAENOBUFS);
  r->target = so;
  r->buffers[0] = proact::buffer{};
  r->buffers[1] = proact::buffer{};
  r->file = nullptr;
  r->sent = 0;
  r->flags = TF_DISCONNECT | (dwFlags & TF_REUSE_SOCKET);
  return start(*so, r, lpOverlapped);
}

bool transmit_step_done(op_record& r, proact::completion c, DWORD& status, DWORD& bytes) noexcept {
  for (;;) {
    r.sent += static_cast<DWORD>(c.bytes);
    bytes = r.sent;
    // A file that ends first: what was there went, and the steps go on.
    const bool file_ended = r.kind == op_kind::transmit_file && c.error == proact::errc::eof;
    if (c.error && !file_ended) {
      status = ntstatus_from(c.error);
      return true;
    }
    status = STATUS_SUCCESS;
    if (r.kind == op_kind::disconnect) {
      if ((r.flags & TF_REUSE_SOCKET) != 0) make_reusable(*r.target);
      return true;
    }
    const bool skip = r.target->skip_on_success.load(std::memory_order_acquire);
    hold_for_start(&r, skip);
    std::error_code ec;
    if (!start_from(r, next_of(r.kind), ec) || ec) {
      if (skip) give_back(&r);
      if (ec) status = ntstatus_from(ec);
      return true;
    }
    if (!skip) return false;
    const bool done = r.completed_at_start();
    c = r.result();
    give_back(&r);
    if (!done) return false;
  }
}

}  // namespace proact::win32
