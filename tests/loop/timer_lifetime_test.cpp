// Timers destroyed at any moment: armed, with the expiry or the cancellation
// queued, inside the handler or on another thread while it runs. The handler
// is never called once the destructor began, and nothing touches the freed
// timer (the ASan build checks the latter).
#include <atomic>
#include <memory>
#include <random>
#include <vector>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using Timer = LoopTest;
using namespace std::chrono_literals;

TEST_F(Timer, DestroyedWithItsCancellationQueuedIsNeverCalled) {
  auto lp = make_loop(1);
  std::atomic<int> calls{0};
  auto t = std::make_unique<proact::timer>(*lp);
  ASSERT_OK(t->start(1h, [&](std::error_code) { calls.fetch_add(1); }));
  ASSERT_OK(t->cancel());  // the aborted call is queued, nobody runs the loop
  t.reset();
  lp->poll();
  std::this_thread::sleep_for(quiet_period);
  lp->poll();
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(Timer, DestroyedWithItsExpiryQueuedIsNeverCalled) {
  auto lp = make_loop(1);
  std::atomic<int> calls{0};
  auto t = std::make_unique<proact::timer>(*lp);
  ASSERT_OK(t->start(1ms, [&](std::error_code) { calls.fetch_add(1); }));
  std::this_thread::sleep_for(50ms);  // expired: its packet waits in the port
  EXPECT_ERRC(t->cancel(), not_found);
  t.reset();
  lp->poll();
  EXPECT_EQ(calls.load(), 0);
  // A new timer may get the recycled packet: it works as usual.
  proact::timer again(*lp);
  ASSERT_OK(again.start(1ms, [&](std::error_code ec) {
    EXPECT_OK(ec);
    calls.fetch_add(1);
  }));
  EXPECT_TRUE(poll_until(*lp, [&] { return calls.load() == 1; }));
}

// The pattern of a connection with a connect timeout: the timer is a member,
// the connect's handler cancels it and frees the connection while the
// cancellation is still queued.
struct connection {
  explicit connection(proact::loop& lp, std::atomic<int>& timeouts, std::atomic<int>& done)
      : deadline(lp), timeouts_(timeouts), done_(done) {}
  proact::tcp_socket socket;
  proact::timer deadline;
  proact::callback_op connect_op;
  std::atomic<int>& timeouts_;
  std::atomic<int>& done_;
};

TEST_F(Timer, AConnectTimeoutMemberCancelledAndFreedByItsOwner) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_listener listener;
  ASSERT_OK(listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)));
  std::error_code ec;
  const proact::endpoint address = listener.local_endpoint(ec);
  ASSERT_OK(ec);
  constexpr int n = 200;
  std::atomic<int> timeouts{0};
  std::atomic<int> done{0};
  for (int i = 0; i < n; ++i) {
    auto* c = new connection(*lp, timeouts, done);
    ASSERT_OK(c->socket.open(proact::address_family::ipv4));
    ASSERT_OK(lp->associate(c->socket));
    c->connect_op.set_handler([c](std::size_t, std::error_code) {
      (void)c->deadline.cancel();  // queues the aborted call...
      c->done_.fetch_add(1);
      delete c;  // ...and frees the timer before it is dequeued
    });
    ASSERT_OK(c->deadline.start(5s, [c](std::error_code e) {
      if (!e) {
        c->timeouts_.fetch_add(1);
        (void)c->socket.cancel();
      }
    }));
    ASSERT_OK(c->socket.connect(c->connect_op, address));
  }
  ASSERT_TRUE(spin_until([&] { return done.load() == n; }));
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(timeouts.load(), 0);
  lp->stop();
  lp->join();
}

TEST_F(Timer, DestroyedOnAnotherThreadWaitsForItsRunningHandler) {
  auto lp = make_loop(1);
  ASSERT_OK(lp->start());
  auto t = std::make_unique<proact::timer>(*lp);
  std::atomic<int> inside{0};
  std::atomic<bool> returned{false};
  ASSERT_OK(t->start_repeating(1ms, [&](std::error_code ec) {
    if (ec) return;
    inside.store(1);
    std::this_thread::sleep_for(100ms);
    returned.store(true);
    inside.store(0);
  }));
  ASSERT_TRUE(spin_until([&] { return inside.load() == 1; }));
  t.reset();  // the handler is running on the loop's thread
  EXPECT_TRUE(returned.load());
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(inside.load(), 0);
  lp->stop();
  lp->join();
}

TEST_F(Timer, DestroyedAtRandomMomentsIsNeverCalledAfterwards) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  constexpr int n = 2000;
  struct slot {
    std::atomic<bool> destroyed{false};
    std::atomic<int> late_calls{0};
  };
  std::vector<slot> slots(n);
  std::mt19937 random(12345);
  std::vector<std::unique_ptr<proact::timer>> timers;
  for (int i = 0; i < n; ++i) {
    auto t = std::make_unique<proact::timer>(*lp);
    slot& s = slots[static_cast<std::size_t>(i)];
    const auto after = std::chrono::microseconds(random() % 2000);
    if (i % 3 == 0) {
      ASSERT_OK(t->start_repeating(after + 1us, [&s](std::error_code) {
        if (s.destroyed.load()) s.late_calls.fetch_add(1);
      }));
    } else {
      ASSERT_OK(t->start(after, [&s](std::error_code) {
        if (s.destroyed.load()) s.late_calls.fetch_add(1);
      }));
    }
    if (i % 5 == 0) (void)t->cancel();
    timers.push_back(std::move(t));
    if (i % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(random() % 500));
    // Destroy an earlier one: armed, expired and queued, or running.
    const std::size_t victim = random() % timers.size();
    if (timers[victim]) {
      timers[victim].reset();
      slots[victim].destroyed.store(true);
    }
  }
  timers.clear();
  for (auto& s : slots) s.destroyed.store(true);
  std::this_thread::sleep_for(quiet_period);
  int late = 0;
  for (auto& s : slots) late += s.late_calls.load();
  EXPECT_EQ(late, 0);
  lp->stop();
  lp->join();
}

}  // namespace
}  // namespace proact_test
