// Structured concurrency: when_all, when_any (losers stopped and waited for),
// sync_wait, spawn with a joinable handle, task_scope; stop requests reach
// every child.
#include <atomic>
#include <stdexcept>
#include <string>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using Structured = LoopTest;
using namespace std::chrono_literals;

proact::task<int> value_after(proact::loop& lp, std::chrono::milliseconds d, int v) {
  proact::timer t(lp);
  auto [ec, n] = co_await t.wait(d);
  (void)n;
  if (ec) co_return -1;
  co_return v;
}

proact::task<int> throws_after(proact::loop& lp, std::chrono::milliseconds d) {
  proact::timer t(lp);
  (void)co_await t.wait(d);
  throw std::runtime_error("child failed");
}

proact::task<void> nothing() {
  co_return;
}

TEST_F(Structured, SyncWaitReturnsTheValueOrRethrows) {
  auto lp = make_loop(2);  // not started: sync_wait runs the loop itself
  EXPECT_EQ(proact::sync_wait(*lp, value_after(*lp, 10ms, 7)), 7);
  EXPECT_THROW(proact::sync_wait(*lp, throws_after(*lp, 1ms)), std::runtime_error);
  proact::sync_wait(*lp, nothing());
  ASSERT_OK(lp->start());  // with worker threads too
  EXPECT_EQ(proact::sync_wait(*lp, value_after(*lp, 10ms, 8)), 8);
  lp->stop();
  EXPECT_THROW(proact::sync_wait(*lp, value_after(*lp, 1ms, 1)), std::system_error);
}

proact::task<int> join_twice(proact::loop& lp) {
  auto a = proact::spawn(lp, value_after(lp, 20ms, 1));
  auto b = proact::spawn(lp, value_after(lp, 1ms, 2));
  const int second = co_await b.join();
  const int first = co_await a.join();
  co_return first * 10 + second;
}

TEST_F(Structured, SpawnAnyTaskAndAwaitItsHandle) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  ASSERT_OK(lp->spawn(value_after(*lp, 1ms, 5)));  // a task<int>: its value is dropped
  EXPECT_EQ(proact::sync_wait(*lp, join_twice(*lp)), 12);
  // request_stop reaches what the spawned task awaits.
  auto h = proact::spawn(*lp, value_after(*lp, 1h, 3));
  h.request_stop();
  auto waiter = [](proact::spawned<int> s) -> proact::task<int> { co_return co_await s.join(); };
  EXPECT_EQ(proact::sync_wait(*lp, waiter(h)), -1);
  lp.reset();
}

proact::task<std::string> when_all_of_two(proact::loop& lp) {
  const auto begin = clock_type::now();
  auto [a, b, c] =
      co_await proact::when_all(value_after(lp, 60ms, 1), value_after(lp, 10ms, 2), nothing());
  (void)c;
  const bool waited = clock_type::now() - begin >= 60ms;
  co_return std::to_string(a) + std::to_string(b) + (waited ? "+" : "-");
}

proact::task<bool> when_all_rethrows(proact::loop& lp, std::atomic<int>& finished) {
  auto slow = [](proact::loop& l, std::atomic<int>& f) -> proact::task<void> {
    (void)co_await value_after(l, 50ms, 0);
    f.fetch_add(1);
  };
  try {
    (void)co_await proact::when_all(throws_after(lp, 1ms), slow(lp, finished));
  } catch (const std::runtime_error&) {
    co_return finished.load() == 1;  // rethrown only after the slow one finished
  }
  co_return false;
}

TEST_F(Structured, WhenAllWaitsForEveryChildAndRethrowsAfterwards) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  EXPECT_EQ(proact::sync_wait(*lp, when_all_of_two(*lp)), "12+");
  std::atomic<int> finished{0};
  EXPECT_TRUE(proact::sync_wait(*lp, when_all_rethrows(*lp, finished)));
  lp.reset();
}

proact::task<void> recv_and_note(proact::tcp_socket& s, std::error_code& out,
                                 std::atomic<int>& ended) {
  char buf[8];
  auto [ec, n] = co_await s.recv(proact::make_buffer(buf));
  (void)n;
  out = ec;
  ended.fetch_add(1);
}

proact::task<std::size_t> race(proact::loop& lp, proact::tcp_socket& s,
                               std::error_code& loser_error, std::atomic<int>& ended,
                               bool& loser_done_first) {
  proact::timer t(lp);
  auto r = co_await proact::when_any(recv_and_note(s, loser_error, ended), t.wait(30ms));
  loser_done_first = ended.load() == 1;  // the loser finished before when_any returned
  co_return r.index;
}

TEST_F(Structured, WhenAnyStopsTheLosersAndWaitsForThem) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  std::error_code loser_error;
  std::atomic<int> ended{0};
  bool loser_done_first = false;
  EXPECT_EQ(proact::sync_wait(*lp, race(*lp, server, loser_error, ended, loser_done_first)), 1U);
  EXPECT_TRUE(loser_done_first);
  EXPECT_ERRC(loser_error, operation_aborted);
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(ended.load(), 1);
  // Awaitables directly: the recv wins when data is there.
  auto direct = [](proact::loop& l, proact::tcp_socket& s) -> proact::task<std::size_t> {
    char buf[8];
    proact::timer t(l);
    auto r = co_await proact::when_any(s.recv(proact::make_buffer(buf)), t.wait(5s));
    if (r.index == 0 && std::get<0>(r.value).bytes != 1) co_return 99;
    co_return r.index;
  };
  char byte = 'q';
  proact::callback_op send_op([](std::size_t, std::error_code) {});
  ASSERT_OK(client.send(send_op, proact::const_buffer(&byte, 1)));
  EXPECT_EQ(proact::sync_wait(*lp, direct(*lp, server)), 0U);
  lp.reset();
}

proact::task<void> both_idle(proact::tcp_socket& a, proact::tcp_socket& b, std::error_code& ea,
                             std::error_code& eb, std::atomic<int>& ended, event& done) {
  (void)co_await proact::when_all(recv_and_note(a, ea, ended), recv_and_note(b, eb, ended));
  done.set();
}

TEST_F(Structured, AStopRequestReachesEveryChild) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket c1, s1, c2, s2;
  ASSERT_TRUE(connect_on_loop(*lp, c1, s1));
  ASSERT_TRUE(connect_on_loop(*lp, c2, s2));
  std::error_code e1, e2;
  std::atomic<int> ended{0};
  event done;
  std::stop_source stop;
  ASSERT_OK(lp->spawn(both_idle(s1, s2, e1, e2, ended, done), stop.get_token()));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ended.load(), 0);
  stop.request_stop();
  ASSERT_TRUE(done.wait());
  EXPECT_EQ(ended.load(), 2);
  EXPECT_ERRC(e1, operation_aborted);
  EXPECT_ERRC(e2, operation_aborted);
  lp.reset();
}

proact::task<int> scoped(proact::loop& lp, std::atomic<int>& count) {
  proact::task_scope scope(lp);
  for (int i = 0; i < 20; ++i) {
    auto child = [](proact::loop& l, std::atomic<int>& c, int ms) -> proact::task<void> {
      (void)co_await value_after(l, std::chrono::milliseconds(ms), 0);
      c.fetch_add(1);
    };
    (void)scope.spawn(child(lp, count, i));
  }
  // And one that would run for an hour: stopped through the scope.
  (void)scope.spawn(value_after(lp, 1h, 0));
  (void)co_await value_after(lp, 40ms, 0);
  scope.request_stop();
  co_await scope.join();
  co_return count.load();
}

TEST_F(Structured, TaskScopeWaitsForEveryTaskStartedInIt) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  std::atomic<int> count{0};
  EXPECT_EQ(proact::sync_wait(*lp, scoped(*lp, count)), 20);
  lp.reset();
}

proact::task<void> after_a_post(proact::loop& lp, std::atomic<bool>& finished) {
  co_await lp.schedule();  // resumed by whichever loop thread dequeues it
  finished = true;
}

// The destructor of a task_scope blocks until its tasks finished. On a loop
// thread it counts as blocked (blocking_scope), so with one thread allowed to
// run, the loop's other thread finishes them meanwhile.
TEST_F(Structured, ATaskScopeEndingOnALoopThreadLetsAnotherFinishItsTasks) {
  auto lp = make_loop(2, 1);
  ASSERT_OK(lp->start());
  std::atomic<bool> finished{false};
  event done;
  ASSERT_OK(lp->post([&] {
    {
      proact::task_scope scope(*lp);
      (void)scope.spawn(after_a_post(*lp, finished));
    }
    done.set();
  }));
  EXPECT_TRUE(done.wait(10s)) << "the scope's task never ran";
  EXPECT_TRUE(finished.load());
  lp.reset();
}

}  // namespace
}  // namespace proact_test
