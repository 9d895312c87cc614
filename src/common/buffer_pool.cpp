#include "proact/buffer_pool.hpp"

#include <new>
#include <utility>

#include "common/backend.hpp"
#include "common/handle_access.hpp"
#include "common/pool_state.hpp"
#include "common/start.hpp"
#include "proact/loop.hpp"
#include "proact/port.hpp"
#include "proact/stream.hpp"

namespace proact {
namespace detail {

pool_state::pool_state(port_backend& backend, std::byte* memory, std::unique_ptr<std::byte[]> owned,
                       std::size_t size, std::uint16_t count)
    : backend_(backend),
      memory_(memory),
      owned_(std::move(owned)),
      size_(size),
      count_(count),
      lent_(new (std::nothrow) std::atomic<std::uint8_t>[count_]),
      free_(new (std::nothrow) std::uint16_t[count_]) {
  backend_.add_ref();
  if (!allocated()) return;
  for (std::uint32_t i = 0; i < count_; ++i) lent_[i].store(0, std::memory_order_relaxed);
  // Lowest ids on top: taken first.
  for (std::uint32_t i = count_; i > 0; --i)
    free_[free_count_++] = static_cast<std::uint16_t>(i - 1);
}

pool_state::~pool_state() {
  backend_.release();
}

bool pool_state::take(std::uint16_t& id) noexcept {
  std::lock_guard guard(lock_);
  if (free_count_ == 0) return false;
  id = free_[--free_count_];
  lent_[id].store(1, std::memory_order_relaxed);
  return true;
}

void pool_state::put_back(std::uint16_t id) noexcept {
  lent_[id].store(0, std::memory_order_relaxed);
  push_free(id);
}

void pool_state::push_free(std::uint16_t id) noexcept {
  std::lock_guard guard(lock_);
  free_[free_count_++] = id;
}

std::error_code pool_state::release(std::uint32_t id) noexcept {
  if (id >= count_) return make_error_code(error::invalid_argument);
  if (lent_[id].exchange(0, std::memory_order_acq_rel) != 1)
    return make_error_code(error::invalid_argument);  // not lent, or released already
  const auto small_id = static_cast<std::uint16_t>(id);
  if (keeper_ != nullptr) {
    lent_count_.fetch_sub(1, std::memory_order_relaxed);
    keeper_->give_back(*this, small_id);
  } else {
    push_free(small_id);
  }
  return {};
}

std::size_t pool_state::available() const noexcept {
  if (keeper_ != nullptr) return count_ - lent_count_.load(std::memory_order_relaxed);
  std::lock_guard guard(lock_);
  return free_count_;
}

bool take_pool_buffer(operation& op) noexcept {
  pool_state* pool = pool_of(op);
  std::uint16_t id = 0;
  if (!pool->take(id)) return false;
  const buffer b = pool->at(id);
  op_access::set_single_buffer(op, b.data, b.size);
  op_access::set_pooled_id(op, id);
  return true;
}

void put_back_pool_buffer(operation& op) noexcept {
  const std::uint32_t id = op_access::pooled_id(op);
  if (id == pooled_buffer::none) return;
  pool_of(op)->put_back(static_cast<std::uint16_t>(id));
  op_access::set_pooled_id(op, pooled_buffer::none);
  op_access::set_single_buffer(op, nullptr, 0);
}

void lend_pool_buffer(operation& op, std::uint16_t id) noexcept {
  pool_state* pool = pool_of(op);
  pool->lend(id);
  const buffer b = pool->at(id);
  op_access::set_single_buffer(op, b.data, b.size);
  op_access::set_pooled_id(op, id);
}

}  // namespace detail

namespace {

std::error_code no_memory() noexcept {
  return std::make_error_code(std::errc::not_enough_memory);
}

std::error_code open_pool(detail::port_backend* backend, std::byte* memory,
                          std::unique_ptr<std::byte[]> owned, std::size_t count, std::size_t size,
                          detail::pool_state*& out) {
  auto* state = new (std::nothrow) detail::pool_state(*backend, memory, std::move(owned), size,
                                                      static_cast<std::uint16_t>(count));
  if (state == nullptr || !state->allocated()) {
    delete state;
    return no_memory();
  }
  if (std::error_code ec = backend->adopt_pool(*state)) {
    delete state;
    return ec;
  }
  out = state;
  return {};
}

}  // namespace

buffer_pool::buffer_pool(buffer_pool&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)) {}

buffer_pool& buffer_pool::operator=(buffer_pool&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

buffer_pool::~buffer_pool() {
  close();
}

std::error_code buffer_pool::open(port& p, std::size_t count, std::size_t size) {
  if (state_ != nullptr) return make_error_code(error::already_associated);
  if (p.backend_ == nullptr) return make_error_code(error::bad_handle);
  if (count == 0 || count > max_count || size == 0 || size > max_transfer_size)
    return make_error_code(error::invalid_argument);
  if (size > static_cast<std::size_t>(-1) / count) return make_error_code(error::invalid_argument);
  std::unique_ptr<std::byte[]> memory(new (std::nothrow) std::byte[count * size]);
  if (memory == nullptr) return no_memory();
  std::byte* data = memory.get();
  return open_pool(p.backend_, data, std::move(memory), count, size, state_);
}

std::error_code buffer_pool::open(port& p, std::span<std::byte> memory, std::size_t size) {
  if (state_ != nullptr) return make_error_code(error::already_associated);
  if (p.backend_ == nullptr) return make_error_code(error::bad_handle);
  if (size == 0 || size > max_transfer_size || memory.data() == nullptr)
    return make_error_code(error::invalid_argument);
  const std::size_t count = memory.size() / size;
  if (count == 0 || count > max_count) return make_error_code(error::invalid_argument);
  return open_pool(p.backend_, memory.data(), nullptr, count, size, state_);
}

std::error_code buffer_pool::open(loop& l, std::size_t count, std::size_t size) {
  return open(l.port_, count, size);
}

std::error_code buffer_pool::open(loop& l, std::span<std::byte> memory, std::size_t size) {
  return open(l.port_, memory, size);
}

void buffer_pool::close() noexcept {
  if (state_ == nullptr) return;
  state_->backend().forget_pool(*state_);
  delete std::exchange(state_, nullptr);
}

std::error_code buffer_pool::release(std::uint32_t id) noexcept {
  if (state_ == nullptr) return make_error_code(error::bad_handle);
  return state_->release(id);
}

std::size_t buffer_pool::buffer_count() const noexcept {
  return state_ == nullptr ? 0 : state_->count();
}

std::size_t buffer_pool::buffer_size() const noexcept {
  return state_ == nullptr ? 0 : state_->size();
}

std::size_t buffer_pool::available() const noexcept {
  return state_ == nullptr ? 0 : state_->available();
}

// ---- stream_handle ----------------------------------------------------------------

std::error_code stream_handle::recv_pooled(operation& op, buffer_pool& pool) {
  detail::pool_state* state = pool.state_;
  if (state == nullptr) return make_error_code(error::invalid_argument);
  detail::io_handle* io = detail::handle_access::io(*this);
  if (io != nullptr && &io->backend != &state->backend())
    return make_error_code(error::invalid_argument);  // another port's pool
  return detail::start(*this, op, detail::op_kind::recv, nullptr, [&](operation& o) {
    detail::op_access::set_target(o, state, nullptr);
    detail::op_access::set_single_buffer(o, nullptr, 0);
  });
}

}  // namespace proact
