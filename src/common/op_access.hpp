// Backend-side access to proact::operation internals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "proact/operation.hpp"
#include "proact/socket.hpp"

namespace proact::detail {

enum class op_kind : std::uint8_t {
  none,
  post,
  accept,      // tcp_listener: target = tcp_socket*, address = peer out (or null)
  connect,     // tcp_socket: the remote endpoint is passed to start(); target = the socket
  recv,        // stream: buffers
  send,        // stream: buffers (const)
  recv_from,   // udp: buffers, address = source out (or null)
  send_to,     // udp: buffers (const), address = destination
  read_at,     // file: one buffer, offset
  write_at,    // file: one buffer (const), offset
  send_file,   // tcp_socket: target = const file*, offset, count, head and tail (send_file_around)
  disconnect,  // tcp_socket: target = the tcp_socket itself
  flush,       // file: no buffer; offset = 1 for data only (fdatasync), 0 for all (fsync)
};

// An accept's completion is out: its target socket may be the target of
// another accept again (tcp.cpp).
void release_accept_target(operation& op) noexcept;

class port_backend;
// A successful accept of a listener with tcp_listener::associate_accepted():
// associates the accepted socket with `backend` (the listener's port) before
// the completion is handed out. On failure the socket is closed and the
// error becomes the accept's (tcp.cpp).
std::error_code associate_accepted(port_backend& backend, operation& op) noexcept;

struct op_access {
  // in_flight flag: 0 idle, 1 in flight.
  static bool try_begin(operation& op) noexcept {
    std::uint8_t idle = 0;
    return op.state_.compare_exchange_strong(idle, 1, std::memory_order_acq_rel);
  }
  // The operation's completion was handed out (or returned at start): it is
  // the caller's again.
  static void end(operation& op) noexcept {
    if (kind(op) == op_kind::accept) release_accept_target(op);
    op.state_.store(0, std::memory_order_release);
  }
  // Its start call failed: no completion will come, and what the start
  // claimed is the start call's to give back.
  static void abandon(operation& op) noexcept { op.state_.store(0, std::memory_order_release); }

  static op_kind kind(const operation& op) noexcept { return static_cast<op_kind>(op.kind_); }
  static void set_kind(operation& op, op_kind k) noexcept {
    op.kind_ = static_cast<std::uint8_t>(k);
  }

  // Buffers: for recv a buffer[], for send a const_buffer[]; both are
  // {pointer, size} pairs, laid out like struct iovec on POSIX.
  static void set_buffers(operation& op, const void* buffers, std::size_t count) noexcept {
    op.buffers_ = buffers;
    op.buffer_count_ = static_cast<std::uint32_t>(count);
  }
  static void set_single_buffer(operation& op, void* data, std::size_t size) noexcept {
    op.single_ = buffer{data, size};
    op.buffers_ = &op.single_;
    op.buffer_count_ = 1;
  }
  // Pooled recv: the buffer it took (none: pooled_buffer::none).
  static void set_pooled_id(operation& op, std::uint32_t id) noexcept {
    op.pooled_id_ = static_cast<std::uint16_t>(id);
  }
  static std::uint32_t pooled_id(const operation& op) noexcept { return op.pooled_id_; }
  static const buffer* buffers(const operation& op) noexcept {
    return static_cast<const buffer*>(op.buffers_);
  }
  static std::size_t buffer_count(const operation& op) noexcept { return op.buffer_count_; }

  static void set_target(operation& op, void* target, endpoint* address) noexcept {
    op.target_ = target;
    op.address_ = address;
  }
  static void* target(const operation& op) noexcept { return op.target_; }
  static endpoint* address(const operation& op) noexcept { return op.address_; }

  static void set_offset(operation& op, std::uint64_t offset) noexcept { op.offset_ = offset; }

  // send_file: the range's length, and what goes around it (null: nothing).
  // The count is kept as the size of a buffer that is never dereferenced.
  static void set_send_file(operation& op, std::size_t count,
                            const send_file_buffers* around) noexcept {
    op.single_ = buffer{nullptr, count};
    op.buffers_ = around;
    op.buffer_count_ = 0;
  }
  static std::size_t send_file_count(const operation& op) noexcept { return op.single_.size; }
  static const send_file_buffers* send_file_around(const operation& op) noexcept {
    return static_cast<const send_file_buffers*>(op.buffers_);
  }
  // accept: whether the accepted socket is to be associated, and with which key.
  static void set_accepted_association(operation& op, bool on, std::uintptr_t key) noexcept {
    op.associate_accepted_ = on;
    op.offset_ = key;
  }
  static bool associates_accepted(const operation& op) noexcept {
    return op.associate_accepted_ && kind(op) == op_kind::accept;
  }
  static std::uintptr_t accepted_key(const operation& op) noexcept {
    return static_cast<std::uintptr_t>(op.offset_);
  }
  // flush: whether only the data (and what reading it back needs) must be durable.
  static void set_flush_data_only(operation& op, bool data_only) noexcept {
    op.offset_ = data_only ? 1 : 0;
  }
  static bool flush_data_only(const operation& op) noexcept { return op.offset_ == 1; }
  static std::uint64_t offset(const operation& op) noexcept { return op.offset_; }

  // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: the backend records an outcome that
  // is returned to the caller instead of queued.
  static void clear_completed_at_start(operation& op) noexcept { op.completed_at_start_ = false; }
  static void complete_at_start(operation& op, std::size_t bytes, std::error_code ec) noexcept {
    op.result_bytes_ = bytes;
    op.result_error_ = ec;
    op.completed_at_start_ = true;
  }

  static void set_key(operation& op, std::uintptr_t key) noexcept { op.key_ = key; }
  static std::uintptr_t key(const operation& op) noexcept { return op.key_; }

  // The backend's per-operation state, constructed in place.
  template <class T>
  static T& backend(operation& op) noexcept {
    static_assert(sizeof(T) <= sizeof(op.backend_), "backend op state too large");
    static_assert(alignof(T) <= 16, "backend op state over-aligned");
    static_assert(std::is_trivially_destructible_v<T>, "backend op state must be trivial");
    return *std::launder(reinterpret_cast<T*>(op.backend_));
  }
  template <class T>
  static T& construct_backend(operation& op) noexcept {
    static_assert(sizeof(T) <= sizeof(op.backend_), "backend op state too large");
    return *::new (static_cast<void*>(op.backend_)) T{};
  }
  // The operation that owns a backend state (e.g. from an OVERLAPPED*).
  static operation* from_backend(void* state) noexcept {
    return reinterpret_cast<operation*>(static_cast<unsigned char*>(state) -
                                        offsetof(operation, backend_));
  }
};

}  // namespace proact::detail
