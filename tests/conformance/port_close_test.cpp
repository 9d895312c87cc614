// Item 11: closing the port.
#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {

class Item11_PortClose : public PairTest {};

TEST_F(Item11_PortClose, WakesEveryWaiter) {
  constexpr int waiters = 4;
  std::atomic<int> returned{0};
  std::atomic<int> port_closed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < waiters; ++i) {
    threads.emplace_back([&] {
      proact::completion c;
      const std::error_code ec = port_.wait(c, proact::timeout{20000});
      if (ec == proact::errc::port_closed) port_closed.fetch_add(1);
      returned.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(settle_time);
  EXPECT_EQ(returned.load(), 0);
  const auto start = clock_type::now();
  EXPECT_OK(port_.close());
  const bool all_woke = spin_until([&] { return returned.load() == waiters; }, 5s);
  const auto elapsed = clock_type::now() - start;
  for (auto& t : threads) t.join();
  EXPECT_TRUE(all_woke) << returned.load() << " of " << waiters << " woke within 5 s";
  EXPECT_EQ(port_closed.load(), waiters);
  EXPECT_LT(elapsed, 5s);
}

TEST_F(Item11_PortClose, WakesWaitManyToo) {
  std::error_code result;
  std::size_t count = 99;
  std::thread waiter([&] {
    std::array<proact::completion, 8> batch;
    result = port_.wait_many(batch, count, proact::timeout{20000});
  });
  std::this_thread::sleep_for(settle_time);
  const auto start = clock_type::now();
  EXPECT_OK(port_.close());
  waiter.join();
  EXPECT_LT(clock_type::now() - start, 5s);
  EXPECT_ERRC(result, port_closed);
  EXPECT_EQ(count, 0u);
}

TEST_F(Item11_PortClose, QueuedPacketsDrainInOrderThenPortClosedAtOnce) {
  std::array<proact::operation, 5> ops;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ASSERT_OK(port_.post(i, i, &ops[i]));
  }
  ASSERT_OK(port_.close());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.key, i);
    EXPECT_EQ(c.op, &ops[i]);
    EXPECT_FALSE(ops[i].in_flight());
  }
  proact::completion c;
  const auto start = clock_type::now();
  EXPECT_ERRC(port_.wait(c, proact::timeout{10000}), port_closed);
  EXPECT_ERRC(port_.wait(c, proact::timeout::zero()), port_closed);
  std::array<proact::completion, 4> batch;
  std::size_t count = 9;
  EXPECT_ERRC(port_.wait_many(batch, count, proact::timeout{10000}), port_closed);
  EXPECT_EQ(count, 0u);
  EXPECT_LT(clock_type::now() - start, 1s) << "port_closed must come at once, not after a timeout";
}

TEST_F(Item11_PortClose, PendingOperationsAreCancelledAndTheirCompletionsDequeued) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket peer;
  proact::operation accept_op;
  ASSERT_OK(listener.accept(accept_op, peer));
  char in1[8] = {};
  char in2[8] = {};
  proact::operation recv1;
  proact::operation recv2;
  ASSERT_OK(pair_.server.recv(recv1, proact::make_buffer(in1)));
  ASSERT_OK(pair_.client.recv(recv2, proact::make_buffer(in2)));
  ASSERT_OK(port_.post(5, 0, nullptr));

  ASSERT_OK(port_.close());
  std::map<const proact::operation*, std::error_code> results;
  for (;;) {
    proact::completion c;
    const std::error_code ec = port_.wait(c, must_happen_within);
    if (ec == proact::errc::port_closed) break;
    ASSERT_OK(ec);
    ASSERT_EQ(results.count(c.op), 0u) << "completed twice";
    results[c.op] = c.error;
  }
  ASSERT_EQ(results.size(), 4u);
  EXPECT_OK(results[nullptr]);  // the posted packet
  EXPECT_ERRC(results[&accept_op], operation_aborted);
  EXPECT_ERRC(results[&recv1], operation_aborted);
  EXPECT_ERRC(results[&recv2], operation_aborted);
}

TEST_F(Item11_PortClose, CompletedDataIsNotLost) {
  ASSERT_TRUE(send_all(port_, pair_.client, "safe", 4));
  std::this_thread::sleep_for(20ms);
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  std::this_thread::sleep_for(20ms);
  ASSERT_OK(port_.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 4u);
  EXPECT_ERRC(port_.wait(c, must_happen_within), port_closed);
}

TEST_F(Item11_PortClose, PostAndNewOperationsAreRefusedWithPortClosed) {
  ASSERT_OK(port_.close());
  proact::operation op;
  EXPECT_ERRC(port_.post(1, 1, &op), port_closed);
  EXPECT_FALSE(op.in_flight());
  EXPECT_ERRC(port_.post(1, 1, nullptr), port_closed);
  char in[8] = {};
  EXPECT_ERRC(pair_.server.recv(op, proact::make_buffer(in)), port_closed);
  EXPECT_FALSE(op.in_flight());
  EXPECT_ERRC(pair_.client.send(op, proact::make_buffer("x", 1)), port_closed);
  EXPECT_ERRC(pair_.client.connect(op, proact::endpoint::loopback(proact::address_family::ipv4, 9)),
              port_closed);
  proact::tcp_socket fresh;
  ASSERT_OK(fresh.open(proact::address_family::ipv4));
  EXPECT_ERRC(port_.associate(fresh, 3), port_closed);
  EXPECT_FALSE(fresh.is_associated());
  proact::completion c;
  EXPECT_ERRC(port_.wait(c, must_happen_within), port_closed);
}

TEST_F(Item11_PortClose, CloseIsIdempotent) {
  ASSERT_OK(port_.post(1, 0, nullptr));
  EXPECT_OK(port_.close());
  EXPECT_OK(port_.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));  // a second close loses nothing either
  EXPECT_EQ(c.key, 1u);
  EXPECT_ERRC(port_.wait(c, must_happen_within), port_closed);
}

TEST_F(Item11_PortClose, HandlesMayOutliveTheirPort) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  {
    proact::port dying = std::move(port_);
  }  // destroyed (and so closed) while the sockets and a recv remain
  EXPECT_FALSE(port_.is_open());
  // The sockets remain usable objects: starting fails cleanly, close works.
  proact::operation again;
  EXPECT_ERRC(pair_.server.recv(again, proact::make_buffer(in)), port_closed);
  EXPECT_TRUE(pair_.client.is_associated());
  EXPECT_OK(pair_.client.close());
}

TEST_F(Item11_PortClose, ClosingWhilePostingLosesNothing) {
  // Threads post as fast as they can while the port closes: every post that
  // succeeded is dequeued, every refused one returned port_closed.
  constexpr int posters = 3;
  std::atomic<std::size_t> accepted{0};
  std::atomic<bool> go{false};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < posters; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (;;) {
        const std::error_code ec = port_.post(1, 0, nullptr);
        if (!ec) {
          accepted.fetch_add(1);
          continue;
        }
        if (ec != proact::errc::port_closed) unexpected.fetch_add(1);
        return;
      }
    });
  }
  go.store(true);
  // Close while the posters are busy (however slowly the machine starts them).
  EXPECT_TRUE(spin_until([&] { return accepted.load() >= 100; }));
  EXPECT_OK(port_.close());
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  std::size_t drained = 0;
  std::array<proact::completion, 64> batch;
  for (;;) {
    std::size_t n = 0;
    const std::error_code ec = port_.wait_many(batch, n, must_happen_within);
    if (ec == proact::errc::port_closed) break;
    ASSERT_OK(ec);
    drained += n;
  }
  EXPECT_EQ(drained, accepted.load());
  EXPECT_GT(drained, 0u);
}

class Item11_PortRelease : public BackendTest {};

TEST_F(Item11_PortRelease, DestroyingThePortReleasesItWhileThreadsThatWaitedOnItLiveOn) {
  // A thread that waited on a port, and one that is still active there (it
  // dequeued a packet and has not waited again), do not keep the port's
  // resources once the port object is destroyed. Only fresh threads touch
  // the port, so that no earlier test's association blurs the count.
  const long before = open_handle_count();
  std::mutex m;
  std::condition_variable cv;
  int waited = 0;
  bool finish = false;
  std::vector<std::thread> threads;
  {
    proact::port p(options());
    ASSERT_OK(p.post(7, 0, nullptr));
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        proact::completion c;
        // The first takes the packet (and stays active); the second times out.
        (void)p.wait(c, i == 0 ? must_happen_within : proact::timeout{20});
        std::unique_lock lock(m);
        ++waited;
        cv.notify_all();
        cv.wait(lock, [&] { return finish; });
      });
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return waited == i + 1; });
    }
  }  // the port is destroyed while both threads live
  const long after = open_handle_count();
  {
    std::lock_guard lock(m);
    finish = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  // At most as many as before: a descriptor of an earlier test that another
  // thread closed meanwhile is not this port's.
  EXPECT_LE(after, before) << "the destroyed port's descriptors are still open";
}

}  // namespace
}  // namespace proact_test
