// Timers: expiries and cancellations arrive through the loop's port, once.
#include <atomic>
#include <memory>
#include <vector>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using Timer = LoopTest;
using namespace std::chrono_literals;

TEST_F(Timer, OneShotFiresOnceNoEarlierThanItsDeadline) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::timer t(*lp);
  std::atomic<int> calls{0};
  std::error_code seen = proact::make_error_code(proact::error::invalid_argument);
  const auto begin = clock_type::now();
  clock_type::time_point fired{};
  ASSERT_OK(t.start(50ms, [&](std::error_code ec) {
    seen = ec;
    fired = clock_type::now();
    calls.fetch_add(1);
  }));
  EXPECT_TRUE(t.armed());
  ASSERT_TRUE(spin_until([&] { return calls.load() == 1; }));
  EXPECT_OK(seen);
  EXPECT_GE(fired - begin, 50ms);
  EXPECT_FALSE(t.armed());
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(Timer, CancelDeliversOperationAbortedOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::timer t(*lp);
  std::atomic<int> calls{0};
  std::error_code seen;
  ASSERT_OK(t.start(1h, [&](std::error_code ec) {
    seen = ec;
    calls.fetch_add(1);
  }));
  ASSERT_OK(t.cancel());
  ASSERT_TRUE(spin_until([&] { return calls.load() == 1; }));
  EXPECT_ERRC(seen, operation_aborted);
  EXPECT_ERRC(t.cancel(), not_found);
  proact::timer never(*lp);
  EXPECT_ERRC(never.cancel(), not_found);
}

TEST_F(Timer, ArmingAnArmedTimerIsRefused) {
  auto lp = make_loop(1);
  proact::timer t(*lp);
  int calls = 0;
  ASSERT_OK(t.start(1h, [&](std::error_code) { ++calls; }));
  EXPECT_ERRC(t.start(1ms, [&](std::error_code) { calls += 100; }), operation_in_progress);
  ASSERT_OK(t.cancel());
  EXPECT_TRUE(poll_until(*lp, [&] { return calls != 0; }));
  EXPECT_EQ(calls, 1);  // the first handler, with operation_aborted
}

TEST_F(Timer, FireInDeadlineOrder) {
  auto lp = make_loop(1, 1);
  std::vector<std::unique_ptr<proact::timer>> timers;
  std::vector<int> order;
  const auto base = proact::timer::clock::now() + 30ms;
  const int offsets[] = {40, 10, 30, 0, 20};
  for (int i = 0; i < 5; ++i) {
    timers.push_back(std::make_unique<proact::timer>(*lp));
    ASSERT_OK(timers.back()->start_at(base + std::chrono::milliseconds(offsets[i]),
                                      [&order, i](std::error_code) { order.push_back(i); }));
  }
  EXPECT_TRUE(poll_until(*lp, [&] { return order.size() == 5; }));
  EXPECT_EQ(order, (std::vector<int>{3, 1, 4, 2, 0}));
}

TEST_F(Timer, RepeatingFiresUntilCancelledThenOnceMoreWithAborted) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::timer t(*lp);
  std::atomic<int> ticks{0};
  std::atomic<int> aborted{0};
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  ASSERT_OK(t.start_repeating(2ms, [&](std::error_code ec) {
    if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
    if (ec == proact::errc::operation_aborted) {
      aborted.fetch_add(1);
    } else if (ticks.fetch_add(1) + 1 == 5) {
      EXPECT_OK(t.cancel());  // from inside its own handler
    }
    inside.fetch_sub(1);
  }));
  ASSERT_TRUE(spin_until([&] { return aborted.load() == 1; }));
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(ticks.load(), 5);
  EXPECT_EQ(aborted.load(), 1);
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_FALSE(t.armed());
  EXPECT_ERRC(t.start_repeating(0ms, [](std::error_code) {}), invalid_argument);
}

TEST_F(Timer, TenThousandActiveTimersEachFireOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  constexpr int n = 10000;
  std::vector<std::unique_ptr<proact::timer>> timers;
  timers.reserve(n);
  std::vector<std::atomic<int>> calls(n);
  std::atomic<int> total{0};
  std::atomic<int> errors{0};
  for (int i = 0; i < n; ++i) {
    timers.push_back(std::make_unique<proact::timer>(*lp));
    ASSERT_OK(
        timers.back()->start(std::chrono::milliseconds(300 + i % 50), [&, i](std::error_code ec) {
          if (ec) errors.fetch_add(1);
          calls[static_cast<std::size_t>(i)].fetch_add(1);
          total.fetch_add(1);
        }));
  }
  // Cancel every tenth; one that already fired (a slow machine) is not_found.
  int cancelled = 0;
  for (int i = 0; i < n; i += 10) {
    const std::error_code ec = timers[static_cast<std::size_t>(i)]->cancel();
    if (!ec)
      ++cancelled;
    else
      EXPECT_ERRC(ec, not_found);
  }
  EXPECT_GT(cancelled, 0);
  ASSERT_TRUE(spin_until([&] { return total.load() == n; }, std::chrono::seconds(30)));
  std::this_thread::sleep_for(quiet_period);
  int wrong = 0;
  for (auto& c : calls) wrong += c.load() == 1 ? 0 : 1;
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(errors.load(), cancelled);
}

TEST_F(Timer, StopAbortsArmedTimersAndRefusesNewOnes) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  std::vector<std::unique_ptr<proact::timer>> timers;
  std::atomic<int> aborted{0};
  for (int i = 0; i < 100; ++i) {
    timers.push_back(std::make_unique<proact::timer>(*lp));
    ASSERT_OK(timers.back()->start(1h, [&](std::error_code ec) {
      if (ec == proact::errc::operation_aborted) aborted.fetch_add(1);
    }));
  }
  proact::timer repeating(*lp);
  std::atomic<int> repeating_aborted{0};
  ASSERT_OK(repeating.start_repeating(1ms, [&](std::error_code ec) {
    if (ec == proact::errc::operation_aborted) repeating_aborted.fetch_add(1);
  }));
  std::this_thread::sleep_for(20ms);
  lp->stop();
  lp->join();
  EXPECT_EQ(aborted.load(), 100);
  EXPECT_EQ(repeating_aborted.load(), 1);
  proact::timer late(*lp);
  EXPECT_ERRC(late.start(1ms, [](std::error_code) {}), port_closed);
  EXPECT_FALSE(late.armed());
}

TEST_F(Timer, DestroyedFromItsOwnHandler) {
  auto lp = make_loop(1);
  auto* t = new proact::timer(*lp);
  bool ran = false;
  ASSERT_OK(t->start_repeating(1ms, [&](std::error_code) {
    ran = true;
    delete t;  // the loop must not touch it afterwards
  }));
  EXPECT_TRUE(poll_until(*lp, [&] { return ran; }));
  EXPECT_EQ(lp->poll(), 0U);
}

TEST_F(Timer, CancellingARepeatingTimerWithItsExpiryQueuedStopsIt) {
  auto lp = make_loop(1);
  proact::timer t(*lp);
  int ticks = 0;
  int aborted = 0;
  ASSERT_OK(t.start_repeating(1ms, [&](std::error_code ec) {
    if (ec == proact::errc::operation_aborted) {
      ++aborted;
    } else {
      ++ticks;
    }
  }));
  std::this_thread::sleep_for(30ms);  // the first expiry waits in the port
  ASSERT_OK(t.cancel());
  EXPECT_ERRC(t.cancel(), not_found);  // once
  EXPECT_TRUE(poll_until(*lp, [&] { return aborted == 1; }));
  std::this_thread::sleep_for(quiet_period);
  lp->poll();
  EXPECT_EQ(ticks, 1);
  EXPECT_EQ(aborted, 1);
  EXPECT_FALSE(t.armed());
}

}  // namespace
}  // namespace proact_test
