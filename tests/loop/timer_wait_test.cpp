// Timers expired by the loop's own threads in their wait on the port: a
// nearer deadline armed elsewhere wakes the waiting thread, a long handler
// on one thread holds back no timer another thread could run, run_one() runs
// one expiry, and thousands due at once run in deadline order.
#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using TimerWait = LoopTest;
using namespace std::chrono_literals;

TEST_F(TimerWait, ANearerDeadlineArmedFromAnotherThreadWakesTheWaitingThread) {
  auto lp = make_loop(1, 1);
  event fired;
  proact::timer far(*lp);
  proact::timer near(*lp);
  ASSERT_OK(lp->start());
  ASSERT_OK(far.start(1h, [](std::error_code) {}));
  std::this_thread::sleep_for(20ms);  // the worker waits until the far deadline now
  const auto begin = clock_type::now();
  ASSERT_OK(near.start(20ms, [&](std::error_code ec) {
    EXPECT_OK(ec);
    fired.set();
  }));
  EXPECT_TRUE(fired.wait());
  EXPECT_GE(clock_type::now() - begin, 20ms);
  lp->stop();
  lp->join();
}

TEST_F(TimerWait, ALongHandlerOnOneThreadHoldsBackNoTimer) {
  auto lp = make_loop(2, 2);
  ASSERT_OK(lp->start());
  // Whichever thread watches the deadline may be the one that gets the long
  // handler: over a few rounds, both cases happen.
  for (int round = 0; round < 6; ++round) {
    event fired;
    event blocked;
    std::atomic<bool> seen{false};
    proact::timer t(*lp);
    ASSERT_OK(t.start(60ms, [&](std::error_code ec) {
      EXPECT_OK(ec);
      fired.set();
    }));
    std::this_thread::sleep_for(10ms);  // a thread waits for the deadline now
    ASSERT_OK(lp->post([&] {
      blocked.set();
      seen = fired.wait();  // the other thread must run the timer meanwhile
    }));
    ASSERT_TRUE(blocked.wait());
    EXPECT_TRUE(fired.wait());
    // The posted callable returns before its locals go.
    ASSERT_TRUE(spin_until([&] { return seen.load(); })) << "round " << round;
  }
  lp->stop();
  lp->join();
}

TEST_F(TimerWait, RunOneAndPollOneRunOneExpiryEach) {
  auto lp = make_loop(1, 1);
  int calls = 0;
  std::vector<std::unique_ptr<proact::timer>> timers;
  for (int i = 0; i < 3; ++i) {
    timers.push_back(std::make_unique<proact::timer>(*lp));
    ASSERT_OK(timers.back()->start(1ms, [&](std::error_code ec) {
      EXPECT_OK(ec);
      ++calls;
    }));
  }
  std::this_thread::sleep_for(20ms);  // all three due; nobody ran the loop
  EXPECT_EQ(lp->run_one(), 1U);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(lp->poll_one(), 1U);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(lp->poll(), 1U);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(lp->poll(), 0U);
}

TEST_F(TimerWait, ThousandsDueAtOnceRunInDeadlineOrderAndDestroyedOnesNever) {
  auto lp = make_loop(1, 1);
  constexpr int count = 5000;
  const auto base = proact::timer::clock::now() + 5ms;
  std::vector<std::unique_ptr<proact::timer>> timers;
  std::vector<proact::timer::clock::time_point> deadlines(count);
  std::vector<proact::timer::clock::time_point> seen;
  std::vector<int> calls(count);
  int destroyed = 0;
  for (int i = 0; i < count; ++i) {
    // Timer 0 first; the others scrambled over 5 ms after it.
    deadlines[i] = base + (i == 0 ? 0us : 1us + std::chrono::microseconds((i * 7919) % 5000));
    timers.push_back(std::make_unique<proact::timer>(*lp));
  }
  for (int i = 0; i < count; ++i) {
    ASSERT_OK(timers[i]->start_at(deadlines[i], [&, i](std::error_code ec) {
      EXPECT_OK(ec);
      ++calls[i];
      seen.push_back(deadlines[i]);
      if (i != 0) return;
      // All of them expired already: these are destroyed before they run.
      for (int j = 3; j < count; j += 7) {
        timers[j].reset();
        ++destroyed;
      }
    }));
  }
  std::this_thread::sleep_for(30ms);  // all due: they expire in one wait
  EXPECT_TRUE(poll_until(*lp, [&] { return seen.size() == std::size_t{count} - destroyed; }));
  lp->poll();
  EXPECT_EQ(seen.size(), std::size_t{count} - destroyed);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  for (int i = 0; i < count; ++i) EXPECT_EQ(calls[i], i % 7 == 3 ? 0 : 1) << i;
}

}  // namespace
}  // namespace proact_test
