// Signals: arrivals complete waits through the loop's port, once, on every
// set that holds the signal; an arrival with no wait pending is kept for the
// next one; cancel and stop complete a pending wait with operation_aborted.
// The test raises each signal in its own process, with a fallback handler
// behind proact's so that a missed signal fails the test instead of ending
// the process.
#include <atomic>
#include <memory>
#include <string>

#include "loop_fixture.hpp"
#include "service_platform.hpp"

namespace proact_test {
namespace {

using namespace std::chrono_literals;

class Signals : public LoopTest {
 protected:
  // Raises `signal` or skips the test where the platform cannot.
  bool raise_or_skip(int signal) {
    std::string why;
    if (raise_signal(signal, why)) return true;
    skip_reason_ = why;
    return false;
  }
  void TearDown() override {
    EXPECT_EQ(fallback_.uncaught(), 0) << "a raised signal reached the fallback, not proact";
    LoopTest::TearDown();
  }
  fallback_signal_handlers fallback_;
  std::string skip_reason_;
};

#define RAISE_OR_SKIP(signal)                                 \
  do {                                                        \
    if (!raise_or_skip(signal)) GTEST_SKIP() << skip_reason_; \
  } while (false)

// Windows: the test body runs in a child process with its own console, and
// this process only checks that it passed there (see service_platform.hpp).
#define IN_OWN_CONSOLE()                                                                           \
  do {                                                                                             \
    if (raise_signals_in_child()) {                                                                \
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();                  \
      bool skipped = false;                                                                        \
      std::string why;                                                                             \
      EXPECT_TRUE(run_test_in_child(std::string(info->test_suite_name()) + "." + info->name(),     \
                                    std::string(proact::to_string(backend_under_test())), skipped, \
                                    why));                                                         \
      if (skipped) GTEST_SKIP() << why;                                                            \
      return;                                                                                      \
    }                                                                                              \
  } while (false)

struct waited {
  std::atomic<int> calls{0};
  std::error_code error;
  int signal = 0;
  auto handler() {
    return [this](std::error_code ec, int s) {
      error = ec;
      signal = s;
      calls.fetch_add(1);
    };
  }
};

TEST_F(Signals, ARaisedSignalCompletesThePendingWaitOnce) {
  IN_OWN_CONSOLE();
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::signal_set set(*lp, {proact::signal_set::interrupt, proact::signal_set::terminate});
  waited w;
  ASSERT_OK(set.wait(w.handler()));
  EXPECT_TRUE(set.pending());
  RAISE_OR_SKIP(proact::signal_set::interrupt);
  ASSERT_TRUE(spin_until([&] { return w.calls.load() == 1; }));
  EXPECT_OK(w.error);
  EXPECT_EQ(w.signal, proact::signal_set::interrupt);
  EXPECT_FALSE(set.pending());
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(w.calls.load(), 1);
  lp.reset();
}

TEST_F(Signals, TerminateAndHangup) {
  IN_OWN_CONSOLE();
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::signal_set set(*lp);
  ASSERT_OK(set.add(proact::signal_set::terminate));
  ASSERT_OK(set.add(proact::signal_set::hangup));
  for (int signal : {proact::signal_set::terminate, proact::signal_set::hangup}) {
    waited w;
    ASSERT_OK(set.wait(w.handler()));
    RAISE_OR_SKIP(signal);
    ASSERT_TRUE(spin_until([&] { return w.calls.load() == 1; })) << signal;
    EXPECT_OK(w.error);
    EXPECT_EQ(w.signal, signal);
  }
  lp.reset();
}

TEST_F(Signals, AnArrivalWithNobodyWaitingIsKeptForTheNextWait) {
  IN_OWN_CONSOLE();
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::signal_set set(*lp, {proact::signal_set::interrupt});
  RAISE_OR_SKIP(proact::signal_set::interrupt);
  // Delivery to the set is asynchronous: give the arrival time to land.
  std::this_thread::sleep_for(settle_time);
  RAISE_OR_SKIP(proact::signal_set::interrupt);
  std::this_thread::sleep_for(settle_time);
  for (int i = 1; i <= 2; ++i) {
    waited w;
    ASSERT_OK(set.wait(w.handler()));
    ASSERT_TRUE(spin_until([&] { return w.calls.load() == 1; })) << "arrival " << i;
    EXPECT_OK(w.error);
    EXPECT_EQ(w.signal, proact::signal_set::interrupt);
  }
  // Both were taken: the next wait waits.
  waited third;
  ASSERT_OK(set.wait(third.handler()));
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(third.calls.load(), 0);
  ASSERT_OK(set.cancel());
  ASSERT_TRUE(spin_until([&] { return third.calls.load() == 1; }));
  EXPECT_ERRC(third.error, operation_aborted);
  lp.reset();
}

TEST_F(Signals, EverySetThatHoldsTheSignalReceivesIt) {
  IN_OWN_CONSOLE();
  auto lp = make_loop(2);
  auto other = make_loop(1);
  ASSERT_OK(lp->start());
  ASSERT_OK(other->start());
  proact::signal_set a(*lp, {proact::signal_set::interrupt});
  proact::signal_set b(*lp, {proact::signal_set::interrupt});
  proact::signal_set c(*other, {proact::signal_set::interrupt});
  proact::signal_set not_holding(*lp, {proact::signal_set::terminate});
  waited wa, wb, wc, wn;
  ASSERT_OK(a.wait(wa.handler()));
  ASSERT_OK(b.wait(wb.handler()));
  ASSERT_OK(c.wait(wc.handler()));
  ASSERT_OK(not_holding.wait(wn.handler()));
  RAISE_OR_SKIP(proact::signal_set::interrupt);
  ASSERT_TRUE(spin_until(
      [&] { return wa.calls.load() == 1 && wb.calls.load() == 1 && wc.calls.load() == 1; }));
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(wn.calls.load(), 0);
  ASSERT_OK(not_holding.cancel());
  ASSERT_TRUE(spin_until([&] { return wn.calls.load() == 1; }));
  EXPECT_ERRC(wn.error, operation_aborted);
  lp.reset();
  other.reset();
}

TEST_F(Signals, CancelStopAndBadArguments) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::signal_set set(*lp);
  EXPECT_ERRC(set.add(9), invalid_argument);
  EXPECT_ERRC(set.add(0), invalid_argument);
  EXPECT_ERRC(set.remove(proact::signal_set::interrupt), not_found);
  EXPECT_ERRC(set.cancel(), not_found);
  ASSERT_OK(set.add(proact::signal_set::interrupt));
  ASSERT_OK(set.add(proact::signal_set::interrupt));  // again: nothing changes
  waited first;
  ASSERT_OK(set.wait(first.handler()));
  EXPECT_ERRC(set.wait([](std::error_code, int) {}), operation_in_progress);
  ASSERT_OK(set.cancel());
  ASSERT_TRUE(spin_until([&] { return first.calls.load() == 1; }));
  EXPECT_ERRC(first.error, operation_aborted);
  EXPECT_ERRC(set.cancel(), not_found);

  waited at_stop;
  ASSERT_OK(set.wait(at_stop.handler()));
  lp->stop();
  ASSERT_TRUE(spin_until([&] { return at_stop.calls.load() == 1; }));
  EXPECT_ERRC(at_stop.error, operation_aborted);
  EXPECT_ERRC(set.wait([](std::error_code, int) {}), port_closed);
  ASSERT_OK(set.remove(proact::signal_set::interrupt));
  lp.reset();
}

TEST_F(Signals, DestroyingASetDropsItsWaitAndItsSignals) {
  IN_OWN_CONSOLE();
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  waited w;
  {
    proact::signal_set set(*lp, {proact::signal_set::interrupt});
    ASSERT_OK(set.wait(w.handler()));
  }
  // Another set holds it now; the destroyed one's handler never runs.
  proact::signal_set survivor(*lp, {proact::signal_set::interrupt});
  waited ws;
  ASSERT_OK(survivor.wait(ws.handler()));
  RAISE_OR_SKIP(proact::signal_set::interrupt);
  ASSERT_TRUE(spin_until([&] { return ws.calls.load() == 1; }));
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(w.calls.load(), 0);
  lp.reset();
}

proact::task<void> wait_for_signal(proact::signal_set& set, proact::signal_result& out,
                                   event& done) {
  out = co_await set.wait();
  done.set();
}

TEST_F(Signals, AwaitableFormAndStopToken) {
  IN_OWN_CONSOLE();
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::signal_set set(*lp, {proact::signal_set::interrupt});
  proact::signal_result stopped;
  event stopped_done;
  std::stop_source stop;
  ASSERT_OK(lp->spawn(wait_for_signal(set, stopped, stopped_done), stop.get_token()));
  ASSERT_TRUE(spin_until([&] { return set.pending(); }));
  stop.request_stop();
  ASSERT_TRUE(stopped_done.wait());
  EXPECT_ERRC(stopped.error, operation_aborted);

  proact::signal_result got;
  event done;
  ASSERT_OK(lp->spawn(wait_for_signal(set, got, done)));
  ASSERT_TRUE(spin_until([&] { return set.pending(); }));
  RAISE_OR_SKIP(proact::signal_set::interrupt);
  ASSERT_TRUE(done.wait());
  EXPECT_OK(got.error);
  EXPECT_EQ(got.signal, proact::signal_set::interrupt);
  lp.reset();
}

}  // namespace
}  // namespace proact_test
