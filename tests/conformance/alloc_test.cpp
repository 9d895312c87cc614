// The steady-state recv/send path allocates nothing: the count of global
// operator new calls (alloc_counting.cpp) over many rounds of recv + send +
// wait must be zero.
#include "fixture.hpp"

namespace proact_test {
namespace {

// Heap allocations during `rounds` calls of round(i) (after 50 warm-up
// rounds); `completed` counts the rounds that succeeded.
template <class Round>
std::size_t allocations_over(int rounds, Round&& round, int& completed) {
  completed = 0;
  for (int i = 0; i < 50; ++i)
    if (!round(i)) return 0;
  start_counting_allocations();
  for (int i = 0; i < rounds; ++i) {
    if (!round(i)) break;
    ++completed;
  }
  return stop_counting_allocations();
}

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
  start_counting_allocations();
  probe = new int(5);
  const std::size_t probe_allocations = stop_counting_allocations();
  delete probe;
  ASSERT_EQ(probe_allocations, 1u) << "the counting operator new is not in use";

  constexpr int rounds = 1000;
  int completed_rounds = 0;
  const std::size_t allocations = allocations_over(
      rounds, [this](int i) { return round(i); }, completed_rounds);
  EXPECT_EQ(completed_rounds, rounds);
  EXPECT_EQ(allocations, 0u) << "heap allocations during " << rounds
                             << " rounds of recv + send + wait";
}

TEST_F(Alloc, SteadyStatePooledRecvAllocatesNothing) {
  proact::buffer_pool pool;
  ASSERT_OK(pool.open(port_, 4, 64));
  proact::operation recv_op;
  proact::operation send_op;
  char out[16] = {};
  // One round: a pooled recv, a send, both completions, the buffer released.
  auto round = [&](int i) {
    if (pair_.server.recv_pooled(recv_op, pool)) return false;
    out[0] = static_cast<char>(i);
    if (pair_.client.send(send_op, proact::buffer{out, sizeof(out)})) return false;
    std::size_t received = 0;
    for (int seen = 0; seen < 2; ++seen) {
      proact::completion c;
      if (port_.wait(c, must_happen_within) || c.error) return false;
      if (c.op != &recv_op) continue;
      const proact::pooled_buffer b = recv_op.pooled();
      if (!b || static_cast<const char*>(b.data.data)[0] != static_cast<char>(i)) return false;
      received = c.bytes;
      if (pool.release(b.id)) return false;
    }
    // 16 bytes sent at once arrive at once on loopback; read any rest.
    char rest[16];
    return received == sizeof(out) ||
           recv_exactly(port_, pair_.server, rest, sizeof(out) - received);
  };
  constexpr int rounds = 1000;
  int completed_rounds = 0;
  const std::size_t allocations = allocations_over(rounds, round, completed_rounds);
  EXPECT_EQ(completed_rounds, rounds);
  EXPECT_EQ(allocations, 0u) << "heap allocations during " << rounds
                             << " rounds of pooled recv + send + wait + release";
  EXPECT_EQ(pool.available(), 4u);
}

TEST_F(Alloc, PostAndWaitAllocateNothing) {
  proact::operation op;
  proact::completion c;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(port_.post(1, 2, &op));
    ASSERT_TRUE(wait_one(port_, c));
  }
  int completed = 0;
  start_counting_allocations();
  for (int i = 0; i < 10000; ++i) {
    if (port_.post(static_cast<std::uintptr_t>(i), 0, &op)) break;
    if (port_.wait(c, must_happen_within) || c.op != &op) break;
    ++completed;
  }
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_EQ(completed, 10000);
  EXPECT_EQ(allocations, 0u) << "heap allocations during 10,000 post + wait";
}

}  // namespace
}  // namespace proact_test
