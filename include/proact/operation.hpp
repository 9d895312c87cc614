// operation: the caller-owned record of one asynchronous operation (the
// OVERLAPPED analogue), and completion: what wait() hands back for it.
//
// An operation has a stable address for as long as it is in flight: from the
// start call that succeeded until wait() returns its completion. Starting (or
// posting) an operation that is in flight fails with errc::operation_in_progress.
// Derive from operation to attach your own context; the completion gives back
// the same pointer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "proact/buffer.hpp"
#include "proact/detail/config.hpp"

namespace proact {

class endpoint;

namespace detail {
struct op_access;
}

class operation {
 public:
  operation() noexcept = default;
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;
  ~operation() = default;

  // True from a successful start (or post) until wait() hands out its
  // completion.
  bool in_flight() const noexcept { return state_.load(std::memory_order_acquire) != 0; }

  // On a handle with skip_completion_on_success(): true when the last start
  // call completed the operation at once (no packet will come), with
  // result() holding the outcome. Read it right after the start call, before
  // anything can start the operation again.
  bool completed_at_start() const noexcept { return completed_at_start_; }
  struct completion result() const noexcept;
  // After a pooled recv's completion (stream_handle::recv_pooled): the
  // buffer it took from the pool, or none (no id) if it took none (end of
  // stream, an empty pool, an error). Read it before starting the operation
  // again.
  pooled_buffer pooled() const noexcept {
    if (pooled_id_ == pooled_buffer::none) return {};
    return pooled_buffer{pooled_id_, single_};
  }

 private:
  friend struct detail::op_access;

  // What was asked for, written by the backend-neutral layer at start; the
  // backend keeps its own state in backend_.
  std::atomic<std::uint8_t> state_{0};
  std::uint8_t kind_ = 0;
  std::uint16_t pooled_id_ = pooled_buffer::none;  // pooled recv: the buffer it took
  std::uint32_t buffer_count_ = 0;
  const void* buffers_ = nullptr;  // buffer[] or const_buffer[] (buffer_count_ entries)
  buffer single_;                  // storage for a single-buffer operation
  void* target_ = nullptr;         // accept: the tcp_socket to fill
  endpoint* address_ = nullptr;    // accept: where to put the peer address
  std::uintptr_t key_ = 0;         // completion key of the handle
  std::uint64_t offset_ = 0;       // file offset (read_at, write_at, send_file)
  std::size_t result_bytes_ = 0;   // outcome of a completion at start
  std::error_code result_error_;
  bool completed_at_start_ = false;
  bool associate_accepted_ = false;  // accept: associate the peer (key in offset_)
  alignas(16) unsigned char backend_[detail::op_backend_storage] = {};
};

// One dequeued completion packet.
struct completion {
  std::uintptr_t key = 0;   // the handle's completion key, or post()'s key
  operation* op = nullptr;  // the operation, or post()'s pointer (may be null)
  std::size_t bytes = 0;    // bytes transferred, or post()'s value
  std::error_code error;    // empty on success
};

inline completion operation::result() const noexcept {
  return completion{key_, const_cast<operation*>(this), result_bytes_, result_error_};
}

}  // namespace proact
