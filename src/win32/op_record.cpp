#include "op_record.hpp"

#include <atomic>
#include <mutex>
#include <new>

namespace proact::win32 {
namespace {

constexpr std::uint32_t chunk_records = 256;
constexpr std::uint32_t max_chunks = 4096;  // a million operations in flight

std::atomic<op_record*> chunks[max_chunks];
std::atomic<std::uint32_t> chunk_count{0};
std::mutex grow_mutex;  // taken only when the pool runs dry

// (generation << 32) | (index + 1); 0 in the low half = empty.
std::atomic<std::uint64_t> free_head{0};

op_record* at(std::uint32_t index) noexcept {
  return &chunks[index / chunk_records].load(std::memory_order_acquire)[index % chunk_records];
}

void push(op_record* r) noexcept {
  std::uint64_t head = free_head.load(std::memory_order_acquire);
  std::uint64_t next = 0;
  do {
    r->next_free.store(static_cast<std::uint32_t>(head), std::memory_order_relaxed);
    next = ((head >> 32) + 1) << 32 | (r->index + 1);
  } while (!free_head.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire));
}

op_record* pop() noexcept {
  std::uint64_t head = free_head.load(std::memory_order_acquire);
  for (;;) {
    const auto low = static_cast<std::uint32_t>(head);
    if (low == 0) return nullptr;
    op_record* r = at(low - 1);
    // next_free may be stale if another thread took r meanwhile; the
    // generation then differs and the exchange fails.
    const std::uint64_t next =
        ((head >> 32) + 1) << 32 | r->next_free.load(std::memory_order_relaxed);
    if (free_head.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return r;
    }
  }
}

bool grow() noexcept {
  std::lock_guard lock(grow_mutex);
  if ((free_head.load(std::memory_order_acquire) & 0xffffffffu) != 0) return true;
  const std::uint32_t n = chunk_count.load(std::memory_order_relaxed);
  if (n == max_chunks) return false;
  auto* chunk = new (std::nothrow) op_record[chunk_records];
  if (chunk == nullptr) return false;
  for (std::uint32_t i = 0; i < chunk_records; ++i) chunk[i].index = n * chunk_records + i;
  chunks[n].store(chunk, std::memory_order_release);
  chunk_count.store(n + 1, std::memory_order_release);
  for (std::uint32_t i = 0; i < chunk_records; ++i) push(&chunk[i]);
  return true;
}

}  // namespace

op_record* take_record() noexcept {
  for (;;) {
    if (op_record* r = pop()) {
      r->holds.store(1, std::memory_order_relaxed);
      return r;
    }
    if (!grow()) return nullptr;
  }
}

op_record* take_record(op_kind kind, OVERLAPPED* ov, ULONG_PTR key, const void* owner,
                       proact::handle* on) noexcept {
  op_record* r = take_record();
  if (r == nullptr) return nullptr;
  r->kind = kind;
  r->overlapped = ov;
  r->key = key;
  r->owner = owner;
  r->started_on = on;
  return r;
}

void give_back(op_record* r) noexcept {
  if (r->holds.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  r->overlapped = nullptr;
  r->owner = nullptr;
  r->started_on = nullptr;
  r->target = nullptr;
  r->from = nullptr;
  r->from_length = nullptr;
  push(r);
}

op_record* record_of(const OVERLAPPED* ov) noexcept {
  if (ov == nullptr) return nullptr;
  const ULONG_PTR candidate = ov->InternalHigh;
  const std::uint32_t n = chunk_count.load(std::memory_order_acquire);
  // Only an address inside one of the pool's chunks is a record.
  for (std::uint32_t c = 0; c < n; ++c) {
    const auto base = reinterpret_cast<ULONG_PTR>(chunks[c].load(std::memory_order_acquire));
    if (candidate >= base && candidate < base + chunk_records * sizeof(op_record) &&
        (candidate - base) % sizeof(op_record) == 0) {
      return reinterpret_cast<op_record*>(candidate);  // NOLINT(performance-no-int-to-ptr)
    }
  }
  return nullptr;
}

}  // namespace proact::win32
