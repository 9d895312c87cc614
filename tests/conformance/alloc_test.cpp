// The steady-state recv/send path allocates nothing: every global operator
// new of this executable is replaced by a counting one, and the count over
// many rounds of recv + send + wait must be zero.
#include <atomic>
#include <cstdlib>
#include <new>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

// For the other files' allocation checks (tests/loop/): see fixture.hpp.
void start_counting_allocations() noexcept {
  allocations.store(0);
  counting.store(true);
}
std::size_t stop_counting_allocations() noexcept {
  counting.store(false);
  return allocations.exchange(0);
}

namespace {

void* allocate(std::size_t size) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  return raw_allocate(size);
}
void* allocate_aligned(std::size_t size, std::align_val_t alignment) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  return aligned_allocate(size, static_cast<std::size_t>(alignment));
}
}  // namespace
}  // namespace proact_test

// ---- the replaced allocation functions (all of them) ------------------------

void* operator new(std::size_t size) {
  if (void* p = proact_test::allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = proact_test::allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return proact_test::allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return proact_test::allocate(size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (void* p = proact_test::allocate_aligned(size, alignment)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  if (void* p = proact_test::allocate_aligned(size, alignment)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return proact_test::allocate_aligned(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return proact_test::allocate_aligned(size, alignment);
}

void operator delete(void* p) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete[](void* p) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete(void* p, std::size_t) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  proact_test::aligned_deallocate(p);
}

namespace proact_test {
namespace {

class Alloc : public PairTest {
 protected:
  // One round: a recv pending on the server, a send from the client, both
  // completions dequeued (one with wait, the next round with wait_many).
  bool round(int i);

  proact::operation recv_op_;
  proact::operation send_op_;
  char in_[64] = {};
  char out_[64] = {};
  std::size_t failures_ = 0;
};

bool Alloc::round(int i) {
  if (pair_.server.recv(recv_op_, proact::make_buffer(in_))) return false;
  out_[0] = static_cast<char>(i);
  if (pair_.client.send(send_op_, proact::buffer{out_, sizeof(out_)})) return false;
  std::size_t seen = 0;
  bool recv_done = false;
  while (seen < 2) {
    proact::completion batch[2];
    std::size_t n = 0;
    if (i % 2 == 0) {
      if (port_.wait(batch[0], must_happen_within)) return false;
      n = 1;
    } else if (port_.wait_many(batch, n, must_happen_within)) {
      return false;
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (batch[k].error) return false;
      if (batch[k].op == &recv_op_) {
        recv_done = true;
        // 64 bytes sent at once arrive at once on loopback; read any rest.
        if (batch[k].bytes < sizeof(in_) &&
            !recv_exactly(port_, pair_.server, in_ + batch[k].bytes, sizeof(in_) - batch[k].bytes))
          return false;
      }
      ++seen;
    }
  }
  return recv_done && in_[0] == static_cast<char>(i);
}

TEST_F(Alloc, SteadyStateRecvSendAllocatesNothing) {
  // The counter itself works.
  static int* volatile probe = nullptr;  // escapes: the allocation cannot be elided
  counting.store(true);
  probe = new int(5);
  counting.store(false);
  delete probe;
  ASSERT_EQ(allocations.exchange(0), 1u) << "the counting operator new is not in use";

  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(round(i)) << "warm-up round " << i;
  }
  constexpr int rounds = 1000;
  int completed_rounds = 0;
  counting.store(true);
  for (int i = 0; i < rounds; ++i) {
    if (!round(i)) break;
    ++completed_rounds;
  }
  counting.store(false);
  EXPECT_EQ(completed_rounds, rounds);
  EXPECT_EQ(allocations.exchange(0), 0u)
      << "heap allocations during " << rounds << " rounds of recv + send + wait";
}

TEST_F(Alloc, PostAndWaitAllocateNothing) {
  proact::operation op;
  proact::completion c;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(port_.post(1, 2, &op));
    ASSERT_TRUE(wait_one(port_, c));
  }
  int completed = 0;
  counting.store(true);
  for (int i = 0; i < 10000; ++i) {
    if (port_.post(static_cast<std::uintptr_t>(i), 0, &op)) break;
    if (port_.wait(c, must_happen_within) || c.op != &op) break;
    ++completed;
  }
  counting.store(false);
  EXPECT_EQ(completed, 10000);
  EXPECT_EQ(allocations.exchange(0), 0u) << "heap allocations during 10,000 post + wait";
}

}  // namespace
}  // namespace proact_test
