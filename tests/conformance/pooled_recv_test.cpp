// Item 28: a pooled recv holds no buffer while it waits; it takes one from
// the buffer_pool when data arrives and hands it over in the completion.
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"

namespace proact_test {
namespace {

class Item28_PooledRecv : public PairTest {
 protected:
  void SetUp() override {
    PairTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_OK(pool_.open(port_, 4, 64));
  }

  // The text that the completion `c` of `op` carries in its pooled buffer.
  static std::string pooled_text(const proact::operation& op, const proact::completion& c) {
    const proact::pooled_buffer b = op.pooled();
    if (!b) return "<no buffer>";
    return text(b.data.data, c.bytes);
  }

  // The client sends `data` while `op` is pending on the server: waits for
  // both (in either order: on IOCP the data may complete the recv before
  // the send's own packet is queued); `c` gets op's completion.
  ::testing::AssertionResult send_and_wait(const proact::operation& op, const std::string& data,
                                           proact::completion& c, tcp_pair* pair = nullptr) {
    tcp_pair& p = pair != nullptr ? *pair : pair_;
    proact::operation send_op;
    if (std::error_code ec = p.client.send(send_op, proact::make_buffer(data)))
      return ::testing::AssertionFailure() << "send: " << describe(ec);
    std::vector<proact::completion> got;
    if (::testing::AssertionResult r = wait_for(port_, {&send_op, &op}, got); !r) return r;
    if (completion_of(got, &send_op).error) return ::testing::AssertionFailure() << "send failed";
    c = completion_of(got, &op);
    return ::testing::AssertionSuccess();
  }

  // Opens `one` with a single 16-byte buffer and lends it: `taker` receives
  // `data` into it. The pool is empty from then on, until it is released.
  ::testing::AssertionResult lend_the_only_buffer(proact::buffer_pool& one,
                                                  proact::operation& taker,
                                                  const std::string& data) {
    if (std::error_code ec = one.open(port_, 1, 16))
      return ::testing::AssertionFailure() << "open: " << describe(ec);
    if (std::error_code ec = pair_.server.recv_pooled(taker, one))
      return ::testing::AssertionFailure() << "recv_pooled: " << describe(ec);
    proact::completion c;
    if (::testing::AssertionResult r = send_and_wait(taker, data, c); !r) return r;
    if (c.error || pooled_text(taker, c) != data)
      return ::testing::AssertionFailure() << "received " << describe(c.error);
    return ::testing::AssertionSuccess();
  }

  // Waits for the pooled recv `op` alone; `c` gets its completion.
  ::testing::AssertionResult wait_pooled(const proact::operation& op, proact::completion& c) {
    if (::testing::AssertionResult got = wait_one(port_, c); !got) return got;
    if (c.op != &op) return ::testing::AssertionFailure() << "another operation completed";
    return ::testing::AssertionSuccess();
  }

  // Waits for the pooled recv `op`, which must end with `expected`, 0 bytes
  // and no buffer, every buffer of pool_ back.
  void expect_ends_without_buffer(const proact::operation& op, proact::errc expected) {
    proact::completion c;
    ASSERT_TRUE(wait_pooled(op, c));
    EXPECT_TRUE(is(c.error, expected));
    EXPECT_EQ(c.bytes, 0u);
    EXPECT_FALSE(op.pooled());
    EXPECT_EQ(pool_.available(), 4u);
  }

  proact::buffer_pool pool_;
};

TEST_F(Item28_PooledRecv, DataArrivesInABufferTakenFromThePool) {
  proact::operation op;
  ASSERT_OK(pair_.server.recv_pooled(op, pool_));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  EXPECT_EQ(pool_.available(), 4u) << "a waiting pooled recv holds no buffer";
  proact::completion c;
  ASSERT_TRUE(send_and_wait(op, "hello", c));
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.key, server_key);
  ASSERT_EQ(c.bytes, 5u);
  const proact::pooled_buffer b = op.pooled();
  ASSERT_TRUE(b);
  EXPECT_LT(b.id, 4u);
  EXPECT_EQ(b.data.size, 64u);
  EXPECT_EQ(pooled_text(op, c), "hello");
  EXPECT_EQ(pool_.available(), 3u);
  ASSERT_OK(pool_.release(b.id));
  EXPECT_EQ(pool_.available(), 4u);
  EXPECT_ERRC(pool_.release(b.id), invalid_argument) << "released twice";
  EXPECT_ERRC(pool_.release(4), invalid_argument) << "no such buffer";
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item28_PooledRecv, DataAlreadyWaitingCompletesThroughThePortEvenWithSkipOnSuccess) {
  ASSERT_OK(pair_.server.skip_completion_on_success());
  ASSERT_TRUE(send_all(port_, pair_.client, "early", 5));
  std::this_thread::sleep_for(20ms);
  proact::operation op;
  ASSERT_OK(pair_.server.recv_pooled(op, pool_));
  EXPECT_FALSE(op.completed_at_start());
  proact::completion c;
  ASSERT_TRUE(wait_pooled(op, c));
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(pooled_text(op, c), "early");
  ASSERT_OK(pool_.release(op.pooled().id));
}

TEST_F(Item28_PooledRecv, EachCompletionHasItsOwnBufferUntilReleased) {
  std::vector<std::uint32_t> held;
  for (int i = 0; i < 4; ++i) {
    proact::operation op;
    ASSERT_OK(pair_.server.recv_pooled(op, pool_));
    const std::string piece = "piece" + std::to_string(i);
    proact::completion c;
    ASSERT_TRUE(send_and_wait(op, piece, c));
    ASSERT_FALSE(c.error) << describe(c.error);
    EXPECT_EQ(pooled_text(op, c), piece);
    for (std::uint32_t id : held) EXPECT_NE(id, op.pooled().id);
    held.push_back(op.pooled().id);
  }
  EXPECT_EQ(pool_.available(), 0u);
  for (std::uint32_t id : held) EXPECT_OK(pool_.release(id));
  EXPECT_EQ(pool_.available(), 4u);
}

TEST_F(Item28_PooledRecv, OrderlyShutdownIsEofWithoutABuffer) {
  proact::operation op;
  ASSERT_OK(pair_.server.recv_pooled(op, pool_));
  ASSERT_OK(pair_.client.shutdown_send());
  expect_ends_without_buffer(op, proact::errc::eof);
  // And again at start.
  ASSERT_OK(pair_.server.recv_pooled(op, pool_));
  expect_ends_without_buffer(op, proact::errc::eof);
}

TEST_F(Item28_PooledRecv, AnEmptyPoolLeavesTheDataForALaterRecv) {
  proact::buffer_pool one;
  proact::operation op;
  ASSERT_TRUE(lend_the_only_buffer(one, op, "a"));
  const std::uint32_t kept = op.pooled().id;
  proact::completion c;
  // The pool is empty, data is waiting: pool_empty, nothing consumed.
  ASSERT_TRUE(send_all(port_, pair_.client, "bcd", 3));
  std::this_thread::sleep_for(20ms);
  proact::operation second;
  ASSERT_OK(pair_.server.recv_pooled(second, one));
  ASSERT_TRUE(wait_pooled(second, c));
  EXPECT_ERRC(c.error, pool_empty);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(second.pooled());
  // With the buffer back, the data is all there.
  ASSERT_OK(one.release(kept));
  ASSERT_OK(pair_.server.recv_pooled(second, one));
  ASSERT_TRUE(wait_pooled(second, c));
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(pooled_text(second, c), "bcd");
  ASSERT_OK(one.release(second.pooled().id));
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item28_PooledRecv, AnEmptyPoolEndsARecvAtItsTurnEvenWithoutData) {
  proact::buffer_pool one;
  proact::operation first;
  ASSERT_TRUE(lend_the_only_buffer(one, first, "x"));
  proact::completion c;
  proact::operation second;
  ASSERT_OK(pair_.server.recv_pooled(second, one));
  ASSERT_TRUE(wait_pooled(second, c));
  EXPECT_ERRC(c.error, pool_empty);
  EXPECT_FALSE(second.pooled());
  ASSERT_OK(one.release(first.pooled().id));
}

TEST_F(Item28_PooledRecv, AnEmptyPoolEndsARecvWhenTheRecvAheadOfItIsDone) {
  proact::buffer_pool one;
  proact::operation taker;
  ASSERT_TRUE(lend_the_only_buffer(one, taker, "t"));
  // Behind a plain recv: its turn comes when that recv completes.
  char in[8];
  proact::operation plain;
  proact::operation pooled;
  ASSERT_OK(pair_.server.recv(plain, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.recv_pooled(pooled, one));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("p", 1)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &plain, &pooled}, got));
  EXPECT_EQ(text(in, completion_of(got, &plain).bytes), "p");
  EXPECT_ERRC(completion_of(got, &pooled).error, pool_empty);
  // Behind a recv that is cancelled: the same.
  ASSERT_OK(pair_.server.recv(plain, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.recv_pooled(pooled, one));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  ASSERT_OK(pair_.server.cancel(plain));
  got.clear();
  ASSERT_TRUE(wait_for(port_, {&plain, &pooled}, got));
  EXPECT_EQ(got[0].op, &plain);
  EXPECT_ERRC(completion_of(got, &plain).error, operation_aborted);
  EXPECT_ERRC(completion_of(got, &pooled).error, pool_empty);
  EXPECT_FALSE(pooled.pooled());
  ASSERT_OK(one.release(taker.pooled().id));
}

TEST_F(Item28_PooledRecv, APoolEmptiedWhileItWaitsEndsItWhenDataArrives) {
  tcp_pair other;
  ASSERT_TRUE(
      connect_pair(port_, other, proact::address_family::ipv4, client_key + 100, server_key + 100));
  proact::buffer_pool one;
  ASSERT_OK(one.open(port_, 1, 16));
  proact::operation here;
  proact::operation there;
  ASSERT_OK(pair_.server.recv_pooled(here, one));
  ASSERT_OK(other.server.recv_pooled(there, one));
  ASSERT_TRUE(stays_idle(port_, proact::timeout{50}));
  // The other connection takes the only buffer.
  proact::completion c;
  ASSERT_TRUE(send_and_wait(there, "T", c, &other));
  ASSERT_EQ(pooled_text(there, c), "T");
  // Data for this one: nothing to put it in.
  ASSERT_TRUE(send_and_wait(here, "H", c));
  EXPECT_ERRC(c.error, pool_empty);
  EXPECT_FALSE(here.pooled());
  ASSERT_OK(one.release(there.pooled().id));
  ASSERT_OK(pair_.server.recv_pooled(here, one));
  ASSERT_TRUE(wait_pooled(here, c));
  EXPECT_EQ(pooled_text(here, c), "H");
  ASSERT_OK(one.release(here.pooled().id));
}

TEST_F(Item28_PooledRecv, KeepsItsPlaceAmongOtherRecvs) {
  char first[2] = {};
  char last[8] = {};
  proact::operation a;
  proact::operation b;
  proact::operation d;
  ASSERT_OK(pair_.server.recv(a, proact::make_buffer(first)));
  ASSERT_OK(pair_.server.recv_pooled(b, pool_));
  ASSERT_OK(pair_.server.recv(d, proact::make_buffer(last)));
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("abcdef", 6)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &a, &b}, got));
  std::vector<const proact::operation*> recvs;
  for (const proact::completion& c : got)
    if (c.op != &send_op) recvs.push_back(c.op);
  EXPECT_EQ(recvs, (std::vector<const proact::operation*>{&a, &b})) << "in start order";
  EXPECT_EQ(text(first, completion_of(got, &a).bytes), "ab");
  EXPECT_EQ(pooled_text(b, completion_of(got, &b)), "cdef");
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  proact::completion c;
  ASSERT_TRUE(send_and_wait(d, "g", c));
  EXPECT_EQ(c.op, &d);
  EXPECT_EQ(text(last, c.bytes), "g");
  ASSERT_OK(pool_.release(b.pooled().id));
}

TEST_F(Item28_PooledRecv, CancelAndCloseEndItWithoutABuffer) {
  proact::operation op;
  ASSERT_OK(pair_.server.recv_pooled(op, pool_));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  ASSERT_OK(pair_.server.cancel(op));
  expect_ends_without_buffer(op, proact::errc::operation_aborted);
  ASSERT_OK(pair_.server.recv_pooled(op, pool_));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  ASSERT_OK(pair_.server.close());
  expect_ends_without_buffer(op, proact::errc::operation_aborted);
}

TEST_F(Item28_PooledRecv, PortCloseEndsItWithoutABuffer) {
  proact::operation op;
  ASSERT_OK(pair_.server.recv_pooled(op, pool_));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  ASSERT_OK(port_.close());
  expect_ends_without_buffer(op, proact::errc::operation_aborted);
}

TEST_F(Item28_PooledRecv, OnALocalStreamToo) {
  proact::local_stream a;
  proact::local_stream b;
  ASSERT_OK(proact::local_stream::pair(a, b));
  ASSERT_OK(port_.associate(a, local_key_a));
  ASSERT_OK(port_.associate(b, local_key_b));
  proact::operation op;
  ASSERT_OK(b.recv_pooled(op, pool_));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  proact::operation send_op;
  ASSERT_OK(a.send(send_op, proact::make_buffer("pipe", 4)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &op}, got));
  const proact::completion c = completion_of(got, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(pooled_text(op, c), "pipe");
  ASSERT_OK(pool_.release(op.pooled().id));
  ASSERT_OK(a.close());
  ASSERT_OK(b.recv_pooled(op, pool_));
  proact::completion end;
  ASSERT_TRUE(wait_pooled(op, end));
  EXPECT_ERRC(end.error, eof);
  EXPECT_FALSE(op.pooled());
}

TEST_F(Item28_PooledRecv, BadInputIsRefused) {
  proact::operation op;
  proact::buffer_pool closed;
  EXPECT_ERRC(pair_.server.recv_pooled(op, closed), invalid_argument);
  proact::port other_port;
  ASSERT_OK(other_port.open(options()));
  proact::buffer_pool foreign;
  ASSERT_OK(foreign.open(other_port, 1, 16));
  EXPECT_ERRC(pair_.server.recv_pooled(op, foreign), invalid_argument);
  EXPECT_FALSE(op.in_flight());
  proact::tcp_socket unopened;
  EXPECT_ERRC(unopened.recv_pooled(op, pool_), bad_handle);

  proact::buffer_pool p;
  EXPECT_ERRC(p.open(port_, 0, 16), invalid_argument);
  EXPECT_ERRC(p.open(port_, 16, 0), invalid_argument);
  EXPECT_ERRC(p.open(port_, proact::buffer_pool::max_count + 1, 16), invalid_argument);
  EXPECT_ERRC(p.open(port_, std::span<std::byte>{}, 16), invalid_argument);
  proact::port never_opened;
  EXPECT_ERRC(p.open(never_opened, 1, 16), bad_handle);
  EXPECT_ERRC(p.release(0), bad_handle);
  ASSERT_OK(p.open(port_, 1, 16));
  EXPECT_ERRC(p.open(port_, 1, 16), already_associated);
  EXPECT_ERRC(p.release(0), invalid_argument) << "not lent";
}

TEST_F(Item28_PooledRecv, CallerSuppliedMemory) {
  std::vector<std::byte> memory(3 * 32 + 5);
  proact::buffer_pool mine;
  ASSERT_OK(mine.open(port_, memory, 32));
  EXPECT_EQ(mine.buffer_count(), 3u);
  EXPECT_EQ(mine.buffer_size(), 32u);
  proact::operation op;
  ASSERT_OK(pair_.server.recv_pooled(op, mine));
  proact::completion c;
  ASSERT_TRUE(send_and_wait(op, "mine", c));
  ASSERT_EQ(pooled_text(op, c), "mine");
  const auto* start = static_cast<const std::byte*>(op.pooled().data.data);
  EXPECT_TRUE(start >= memory.data() && start + 32 <= memory.data() + memory.size());
  ASSERT_OK(mine.release(op.pooled().id));
}

// Several threads wait on the port; connections share a pool too small for
// all of them, so some recvs find it empty and start again. Every byte
// arrives once, in order, and every buffer goes back.
TEST_F(Item28_PooledRecv, ManyConnectionsShareASmallPoolAcrossThreads) {
  constexpr std::size_t connections = 6;
  constexpr int messages = 40;
  proact::port peers;
  ASSERT_OK(peers.open(options()));
  std::array<tcp_pair, connections> pairs;
  for (std::size_t i = 0; i < connections; ++i)
    ASSERT_TRUE(connect_split_pair(peers, port_, pairs[i], 100 + i, 200 + i));
  proact::buffer_pool small;
  ASSERT_OK(small.open(port_, 2, 16));

  struct conn_op : proact::operation {
    std::size_t index = 0;
  };
  std::array<conn_op, connections> ops;
  std::array<std::string, connections> received;
  std::atomic<std::size_t> ended{0};
  std::mutex failure_lock;
  std::string failure;
  auto fail = [&](const std::string& why) {
    std::lock_guard guard(failure_lock);
    if (failure.empty()) failure = why;
  };
  for (std::size_t i = 0; i < connections; ++i) {
    ops[i].index = i;
    ASSERT_OK(pairs[i].server.recv_pooled(ops[i], small));
  }
  std::vector<std::thread> waiters;
  for (int t = 0; t < 3; ++t) {
    waiters.emplace_back([&] {
      for (;;) {
        proact::completion c;
        if (std::error_code ec = port_.wait(c, must_happen_within)) {
          fail("wait: " + describe(ec));
          return;
        }
        if (c.op == nullptr) return;  // the end
        auto& op = static_cast<conn_op&>(*c.op);
        const std::size_t i = op.index;
        if (c.error == proact::errc::eof) {
          if (op.pooled()) fail("eof with a buffer");
          ended.fetch_add(1);
          continue;
        }
        if (c.error && c.error != proact::errc::pool_empty) {
          fail("recv: " + describe(c.error));
          ended.fetch_add(1);
          continue;
        }
        if (!c.error) {
          const proact::pooled_buffer b = op.pooled();
          if (!b || c.bytes == 0) fail("data without a buffer");
          received[i].append(static_cast<const char*>(b.data.data), c.bytes);
          if (std::error_code ec = small.release(b.id)) fail("release: " + describe(ec));
        } else {
          std::this_thread::yield();  // pool_empty: another thread releases soon
        }
        if (std::error_code ec = pairs[i].server.recv_pooled(op, small))
          fail("restart: " + describe(ec));
      }
    });
  }
  std::array<std::string, connections> sent;
  for (int m = 0; m < messages; ++m) {
    for (std::size_t i = 0; i < connections; ++i) {
      const std::string piece = std::to_string(i) + ":" + std::to_string(m) + ";";
      sent[i] += piece;
      ASSERT_TRUE(send_all(peers, pairs[i].client, piece.data(), piece.size()));
    }
  }
  for (std::size_t i = 0; i < connections; ++i) ASSERT_OK(pairs[i].client.shutdown_send());
  const bool all_ended = spin_until([&] { return ended.load() == connections; });
  for (std::size_t t = 0; t < waiters.size(); ++t) ASSERT_OK(port_.post(0, 0, nullptr));
  for (std::thread& w : waiters) w.join();
  ASSERT_TRUE(all_ended) << ended.load() << " of " << connections << " connections ended";
  EXPECT_EQ(failure, "");
  for (std::size_t i = 0; i < connections; ++i)
    EXPECT_EQ(received[i], sent[i]) << "connection " << i;
  EXPECT_EQ(small.available(), 2u);
}

}  // namespace
}  // namespace proact_test
