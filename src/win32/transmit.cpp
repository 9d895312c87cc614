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

enum step_index : std::uint8_t { head_step, file_step, tail_step, disconnect_step, step_count };

// What one call sends, step by step.
struct plan {
  proact::const_buffer head;
  const proact::file* file = nullptr;  // nullptr: no file step
  std::uint64_t offset = 0;
  std::size_t count = 0;
  proact::const_buffer tail;
  bool disconnect = false;
};

// With a file, the head and the tail go in the file's send_file, so that
// the head leaves with the file's first bytes; without one, as sends.
bool has_step(const plan& p, std::uint8_t step) noexcept {
  switch (step) {
    case head_step:
      return p.head.size > 0 && p.file == nullptr;
    case file_step:
      return p.file != nullptr;
    case tail_step:
      return p.tail.size > 0 && p.file == nullptr;
    default:
      return p.disconnect;
  }
}

// proact orders a socket's sends, send_file and disconnect by their start,
// so starting every step in the call sends them in order, and ahead of any
// send the caller starts afterwards.
std::error_code start_step(op_record& r, socket_object& so, const plan& p, std::uint8_t step) {
  r.step = step;
  switch (step) {
    case head_step:
      return so.stream.send(r, p.head);
    case file_step:
      r.around = proact::send_file_buffers{p.head, p.tail};
      return so.stream.send_file(r, *p.file, p.offset, p.count, r.around);
    case tail_step:
      return so.stream.send(r, p.tail);  // also the empty send of a call with no step
    default:
      return so.stream.disconnect(r);
  }
}

// A step that ended (or never started) with `status`, no bytes.
void step_failed(op_record& whole, std::uint8_t step, DWORD status) noexcept {
  whole.step_status[step] = status;
  // Never the last: the start call still holds its count.
  whole.parts_left.fetch_sub(1, std::memory_order_acq_rel);
}

// TF_REUSE_SOCKET: a Linux TCP descriptor cannot connect or be accepted into
// again, so the SOCKET gets a fresh one, opened by its next AcceptEx or
// ConnectEx. The association with the port and its key stay, as on Windows.
void make_reusable(socket_object& so) noexcept {
  std::lock_guard lock(so.mutex);
  if (so.role.load(std::memory_order_acquire) != socket_role::stream) return;  // closed meanwhile
  (void)so.stream.close();
  so.role.store(socket_role::unopened, std::memory_order_release);
  so.send_shut.store(false, std::memory_order_release);
  so.recv_shut.store(false, std::memory_order_release);
}

// Starts every step of `p` for the OVERLAPPED's record `whole`: the first
// on `whole` itself (its refusal is the call's), the others on records of
// their own. The call's answer: pending, or in skip mode perhaps done.
BOOL start(socket_object& so, op_record* whole, OVERLAPPED* ov, const plan& p) {
  const bool skip = so.skip_on_success.load(std::memory_order_acquire);
  std::uint8_t first = step_count;
  int steps = 0;
  for (std::uint8_t s = 0; s < step_count; ++s) {
    if (!has_step(p, s)) continue;
    if (first == step_count) first = s;
    ++steps;
  }
  if (steps == 0) {  // nothing to send: an empty send carries the packet
    first = tail_step;
    steps = 1;
  }
  whole->kind = op_kind::transmit_whole;
  whole->whole = whole;
  whole->target = &so;
  whole->transferred.store(0, std::memory_order_relaxed);
  for (DWORD& status : whole->step_status) status = STATUS_SUCCESS;
  whole->parts_left.store(steps + 1, std::memory_order_relaxed);  // + the start call's count
  std::size_t kept = 0;
  for (op_record*& part : whole->parts) part = nullptr;
  mark_pending(ov, whole, skip);
  if (auto ec = start_step(*whole, so, p, first)) {
    return refuse(wsa_from(after_start(whole, ov, ec, skip, so.port).refusal));
  }
  if (skip && whole->completed_at_start()) (void)transmit_step_done(*whole, whole->result());

  bool stopped = false;  // a step could not start: the later ones are not sent
  for (std::uint8_t s = first + 1; s < step_count; ++s) {
    if (!has_step(p, s)) continue;
    if (stopped) {
      step_failed(*whole, s, STATUS_SUCCESS);
      continue;
    }
    op_record* part = take_record(op_kind::transmit_part, nullptr, whole->key, &so, &so.stream);
    if (part == nullptr) {
      step_failed(*whole, s, ntstatus_from(std::make_error_code(std::errc::not_enough_memory)));
      stopped = true;
      continue;
    }
    part->whole = whole;
    part->target = &so;
    hold_for_start(part, skip);
    if (auto ec = start_step(*part, so, p, s)) {
      drop_after_failed_start(part, skip);
      step_failed(*whole, s, ntstatus_from(ec));
      stopped = true;
      continue;
    }
    // Kept for CancelIoEx until the packet (transmit_result) gives it back.
    part->holds.fetch_add(1, std::memory_order_relaxed);
    whole->parts[kept++] = part;
    if (skip) {
      // Done in the call: no completion comes, so its packet hold goes too.
      if (part->completed_at_start()) {
        (void)transmit_step_done(*part, part->result());
        give_back(part);
      }
      give_back(part);
    }
  }

  if (whole->parts_left.fetch_sub(1, std::memory_order_acq_rel) != 1) {
    if (skip) give_back(whole);  // the last step's finisher makes the packet
    return refuse(WSA_IO_PENDING);
  }
  // Every step finished before this: nobody made the packet.
  DWORD status = STATUS_SUCCESS;
  DWORD bytes = 0;
  if (skip) {
    transmit_result(*whole, status, bytes);
    publish(ov, status, bytes);
    give_back(whole);
    give_back(whole);
    return status == STATUS_SUCCESS ? TRUE : refuse(wsa_from_ntstatus(status));
  }
  whole->kind = op_kind::transmit_done;
  if (so.port->port->post(0, 0, whole)) {
    transmit_result(*whole, status, bytes);
    publish(ov, status, bytes);
    give_back(whole);
    return refuse(WSAENOBUFS);
  }
  return refuse(WSA_IO_PENDING);
}

}  // namespace

op_record* transmit_step_done(op_record& step, const proact::completion& c) noexcept {
  op_record& whole = *step.whole;
  whole.transferred.fetch_add(static_cast<std::uint32_t>(c.bytes), std::memory_order_relaxed);
  // A file that ends first: what was there went, success.
  const bool file_ended = step.step == file_step && c.error == proact::errc::eof;
  whole.step_status[step.step] = c.error && !file_ended ? ntstatus_from(c.error) : STATUS_SUCCESS;
  return whole.parts_left.fetch_sub(1, std::memory_order_acq_rel) == 1 ? &whole : nullptr;
}

void transmit_result(op_record& whole, DWORD& status, DWORD& bytes) noexcept {
  status = STATUS_SUCCESS;
  for (const DWORD s : whole.step_status) {
    if (s != STATUS_SUCCESS) {
      status = s;
      break;
    }
  }
  bytes = whole.transferred.load(std::memory_order_relaxed);
  for (op_record*& part : whole.parts) {
    if (part == nullptr) continue;
    give_back(part);
    part = nullptr;
  }
  if (status == STATUS_SUCCESS && (whole.flags & TF_REUSE_SOCKET) != 0) {
    make_reusable(*whole.target);
  }
}

std::error_code cancel_transmit(op_record& whole) noexcept {
  const std::error_code first = whole.started_on->cancel(whole);
  bool any = !first;
  for (op_record* part : whole.parts) {
    if (part != nullptr && !part->started_on->cancel(*part)) any = true;
  }
  return any ? std::error_code{} : first;  // first: not_found when no step was pending
}

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
  plan p;
  if (f != nullptr) {
    p.file = &f->file;
    p.offset = (std::uint64_t{lpOverlapped->OffsetHigh} << 32) | lpOverlapped->Offset;
    std::uint64_t count = nNumberOfBytesToWrite;
    if (count == 0) {
      // 0: the rest of the file from the offset.
      std::uint64_t size = 0;
      if (auto ec = f->file.size(size)) return refuse(WSAEINVAL);
      count = size > p.offset ? size - p.offset : 0;
    }
    p.count = static_cast<std::size_t>(count);
  }
  if (lpTransmitBuffers != nullptr) {
    if (lpTransmitBuffers->Head != nullptr) {
      p.head = proact::const_buffer{lpTransmitBuffers->Head, lpTransmitBuffers->HeadLength};
    }
    if (lpTransmitBuffers->Tail != nullptr) {
      p.tail = proact::const_buffer{lpTransmitBuffers->Tail, lpTransmitBuffers->TailLength};
    }
  }
  p.disconnect = (dwReserved & TF_DISCONNECT) != 0;
  op_record* r = take_record(op_kind::transmit_whole, lpOverlapped, so->key, so, &so->stream);
  if (r == nullptr) return refuse(WSAENOBUFS);
  // TF_REUSE_SOCKET is "only valid if TF_DISCONNECT is also supplied".
  r->flags = p.disconnect ? dwReserved & TF_REUSE_SOCKET : 0;
  return start(*so, r, lpOverlapped, p);
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
  op_record* r = take_record(op_kind::transmit_whole, lpOverlapped, so->key, so, &so->stream);
  if (r == nullptr) return refuse(WSAENOBUFS);
  r->flags = dwFlags & TF_REUSE_SOCKET;
  plan p;
  p.disconnect = true;
  return start(*so, r, lpOverlapped, p);
}

}  // namespace proact::win32
