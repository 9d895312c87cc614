// The port's queue: opening, post (item 9), wait and wait_many (item 10),
// FIFO order of packets (item 3).
#include <array>
#include <limits>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

// ---- the port itself -------------------------------------------------------

class Port : public PortTest {};

TEST_F(Port, OpensWithTheRequestedBackend) {
  EXPECT_TRUE(port_.is_open());
  EXPECT_NE(port_.backend(), proact::backend_kind::automatic);
  if (backend_under_test() != proact::backend_kind::automatic) {
    EXPECT_EQ(port_.backend(), backend_under_test())
        << "asked for " << proact::to_string(backend_under_test()) << ", got "
        << proact::to_string(port_.backend());
  }
}

TEST_F(Port, MoveKeepsQueuedPackets) {
  ASSERT_OK(port_.post(7, 70, nullptr));
  proact::port moved(std::move(port_));
  EXPECT_FALSE(port_.is_open());  // NOLINT(bugprone-use-after-move): documented state
  ASSERT_TRUE(moved.is_open());
  proact::completion c;
  ASSERT_TRUE(wait_one(moved, c));
  EXPECT_EQ(c.key, 7u);
  EXPECT_EQ(c.bytes, 70u);
  EXPECT_ERRC(port_.post(1, 1, nullptr), port_closed);
}

// ---- item 9: post ----------------------------------------------------------

class Item09_Post : public PortTest {};

TEST_F(Item09_Post, DeliversKeyBytesAndOperationVerbatim) {
  proact::operation op;
  const std::uintptr_t key = std::numeric_limits<std::uintptr_t>::max();
  const std::size_t bytes = std::numeric_limits<std::size_t>::max();
  ASSERT_OK(port_.post(key, bytes, &op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.key, key);
  EXPECT_EQ(c.bytes, bytes);
  EXPECT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
}

TEST_F(Item09_Post, NullOperationAndZeroValuesAreDelivered) {
  ASSERT_OK(port_.post(0, 0, nullptr));
  proact::completion c;
  c.key = 99;
  c.bytes = 99;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.key, 0u);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_EQ(c.op, nullptr);
  EXPECT_FALSE(c.error) << describe(c.error);
}

TEST_F(Item09_Post, PostedOperationIsInFlightUntilDequeued) {
  proact::operation op;
  EXPECT_FALSE(op.in_flight());
  ASSERT_OK(port_.post(1, 2, &op));
  EXPECT_TRUE(op.in_flight());
  EXPECT_ERRC(port_.post(3, 4, &op), operation_in_progress);
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, 1u);  // the refused second post changed nothing
  EXPECT_EQ(c.bytes, 2u);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
  // Free again: it can be posted once more.
  ASSERT_OK(port_.post(5, 6, &op));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.key, 5u);
}

struct tagged_operation : proact::operation {
  int tag = 0;
};

TEST_F(Item09_Post, DerivedOperationComesBackAsTheSameObject) {
  std::array<tagged_operation, 3> ops;
  for (int i = 0; i < 3; ++i) {
    ops[static_cast<std::size_t>(i)].tag = 100 + i;
    ASSERT_OK(port_.post(static_cast<std::uintptr_t>(i), 0, &ops[static_cast<std::size_t>(i)]));
  }
  for (int i = 0; i < 3; ++i) {
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    auto* back = static_cast<tagged_operation*>(c.op);
    ASSERT_EQ(back, &ops[static_cast<std::size_t>(i)]);
    EXPECT_EQ(back->tag, 100 + i);
  }
}

// ---- item 10: wait ---------------------------------------------------------

class Item10_Wait : public PortTest {};

TEST_F(Item10_Wait, TimeoutReturnsTimedOutAfterTheTimeout) {
  proact::completion c;
  const auto start = clock_type::now();
  EXPECT_ERRC(port_.wait(c, proact::timeout{200}), timed_out);
  const auto elapsed = clock_type::now() - start;
  // Windows' timer granularity is ~16 ms; allow that much early return.
  EXPECT_GE(elapsed, 180ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(Item10_Wait, ZeroTimeoutPolls) {
  proact::completion c;
  auto start = clock_type::now();
  EXPECT_ERRC(port_.wait(c, proact::timeout::zero()), timed_out);
  EXPECT_ERRC(port_.wait(c, proact::timeout{-5}), timed_out);  // negative = poll
  EXPECT_LT(clock_type::now() - start, 500ms);

  ASSERT_OK(port_.post(42, 1, nullptr));
  start = clock_type::now();
  ASSERT_OK(port_.wait(c, proact::timeout::zero()));
  EXPECT_EQ(c.key, 42u);
  EXPECT_LT(clock_type::now() - start, 500ms);
  EXPECT_ERRC(port_.wait(c, proact::timeout::zero()), timed_out);
}

TEST_F(Item10_Wait, BlockedWaitWakesOnPostFromAnotherThread) {
  std::thread poster([this] {
    std::this_thread::sleep_for(100ms);
    (void)port_.post(5, 55, nullptr);
  });
  proact::completion c;
  const auto start = clock_type::now();
  EXPECT_TRUE(wait_one(port_, c));
  const auto elapsed = clock_type::now() - start;
  poster.join();
  EXPECT_EQ(c.key, 5u);
  EXPECT_EQ(c.bytes, 55u);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(Item10_Wait, WaitManyReturnsUpToNInQueueOrder) {
  for (std::uintptr_t k = 0; k < 10; ++k) {
    ASSERT_OK(port_.post(k, k * 10, nullptr));
  }
  std::array<proact::completion, 4> batch;
  std::size_t count = 99;
  std::uintptr_t expected = 0;
  for (const std::size_t expected_count : {4u, 4u, 2u}) {
    ASSERT_OK(port_.wait_many(batch, count, must_happen_within));
    ASSERT_EQ(count, expected_count);
    for (std::size_t i = 0; i < count; ++i, ++expected) {
      EXPECT_EQ(batch[i].key, expected);
      EXPECT_EQ(batch[i].bytes, expected * 10);
    }
  }
  EXPECT_ERRC(port_.wait_many(batch, count, proact::timeout{50}), timed_out);
  EXPECT_EQ(count, 0u);
}

TEST_F(Item10_Wait, WaitManyDoesNotWaitToFillTheSpan) {
  ASSERT_OK(port_.post(1, 0, nullptr));
  std::array<proact::completion, 16> batch;
  std::size_t count = 0;
  const auto start = clock_type::now();
  ASSERT_OK(port_.wait_many(batch, count, must_happen_within));
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(batch[0].key, 1u);
  EXPECT_LT(clock_type::now() - start, 2s);
}

TEST_F(Item10_Wait, WaitManyWithOneSlotBehavesLikeWait) {
  for (std::uintptr_t k = 0; k < 3; ++k) {
    ASSERT_OK(port_.post(k, 0, nullptr));
  }
  std::array<proact::completion, 1> one;
  for (std::uintptr_t k = 0; k < 3; ++k) {
    std::size_t count = 0;
    ASSERT_OK(port_.wait_many(one, count, must_happen_within));
    ASSERT_EQ(count, 1u);
    EXPECT_EQ(one[0].key, k);
  }
  std::size_t count = 7;
  EXPECT_ERRC(port_.wait_many(one, count, proact::timeout::zero()), timed_out);
  EXPECT_EQ(count, 0u);
}

// ---- item 3: FIFO for posted packets ---------------------------------------

class Item03_Fifo : public PairTest {};

TEST_F(Item03_Fifo, PostedPacketsDequeueInPostOrder) {
  constexpr std::uintptr_t count = 2000;
  for (std::uintptr_t k = 0; k < count; ++k) {
    ASSERT_OK(port_.post(k, 0, nullptr));
  }
  // Mix wait and wait_many: order holds across both.
  std::array<proact::completion, 7> batch;
  std::uintptr_t expected = 0;
  while (expected < count) {
    if (expected % 2 == 0) {
      proact::completion c;
      ASSERT_TRUE(wait_one(port_, c));
      ASSERT_EQ(c.key, expected);
      ++expected;
    } else {
      std::size_t n = 0;
      ASSERT_OK(port_.wait_many(batch, n, must_happen_within));
      ASSERT_GE(n, 1u);
      for (std::size_t i = 0; i < n; ++i, ++expected) {
        ASSERT_EQ(batch[i].key, expected);
      }
    }
  }
  EXPECT_TRUE(stays_idle(port_, proact::timeout{20}));
}

TEST_F(Item03_Fifo, PacketPostedBeforeAnOperationStartedDequeuesFirst) {
  // The send starts after the post, so it completes after it: a backend that
  // favours I/O results over queued packets breaks FIFO here.
  const char message[] = "ping";
  proact::operation send_op;
  ASSERT_OK(port_.post(1234, 1, nullptr));
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer(message, sizeof(message))));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_EQ(got[0].key, 1234u);
  EXPECT_EQ(got[0].op, nullptr);
  EXPECT_EQ(got[1].op, &send_op);
  EXPECT_EQ(got[1].key, client_key);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item03_Fifo, PacketPostedBeforeARecvWithDataWaitingDequeuesFirst) {
  const char message[] = "data";
  ASSERT_TRUE(send_all(port_, pair_.client, message, sizeof(message)));
  std::this_thread::sleep_for(20ms);  // the bytes reach the server's socket
  char in[16] = {};
  proact::operation recv_op;
  ASSERT_OK(port_.post(99, 3, nullptr));
  ASSERT_OK(pair_.server.recv(recv_op, proact::make_buffer(in)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_EQ(got[0].key, 99u);
  EXPECT_EQ(got[1].op, &recv_op);
  EXPECT_EQ(got[1].bytes, sizeof(message));
  EXPECT_TRUE(stays_idle(port_));
}

}  // namespace
}  // namespace proact_test
