// Coroutines: awaitable operations, tasks, stop-token cancellation, and
// stop()/destruction resuming every coroutine exactly once.
#include <atomic>
#include <stdexcept>
#include <stop_token>
#include <string>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using Coroutine = LoopTest;
using namespace std::chrono_literals;

proact::task<std::size_t> echo_once(proact::tcp_socket& s) {
  char buf[256];
  auto [ec, n] = co_await s.recv(proact::make_buffer(buf));
  if (ec) co_return 0;
  auto [wec, m] = co_await s.send(proact::const_buffer(buf, n));
  if (wec) co_return 0;
  co_return m;
}

proact::task<void> client_round_trips(proact::tcp_socket& c, int rounds, std::atomic<int>& ok,
                                      event& done) {
  for (int i = 0; i < rounds; ++i) {
    const std::string msg = "message " + std::to_string(i);
    auto [ec, n] = co_await c.send(proact::make_buffer(msg));
    if (ec || n != msg.size()) break;
    char back[64];
    std::size_t got = 0;
    while (got < msg.size()) {
      auto [rec, r] = co_await c.recv(proact::buffer{back + got, sizeof(back) - got});
      if (rec) break;
      got += r;
    }
    if (std::string(back, got) == msg) ok.fetch_add(1);
  }
  done.set();
}

proact::task<void> server_echo(proact::tcp_socket& s, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    if ((co_await echo_once(s)) == 0) co_return;
  }
}

TEST_F(Coroutine, EchoThroughAwaitedOperationsAndNestedTasks) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  std::atomic<int> ok{0};
  event done;
  ASSERT_OK(lp->spawn(server_echo(server, 50)));
  ASSERT_OK(lp->spawn(client_round_trips(client, 50, ok, done)));
  ASSERT_TRUE(done.wait());
  EXPECT_EQ(ok.load(), 50);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<int> answer() {
  co_return 42;
}
proact::task<void> answer_void() {
  co_return;
}
proact::task<int> fails() {
  co_await std::suspend_never{};
  throw std::runtime_error("child failed");
}

proact::task<void> parent(std::atomic<int>& value, std::atomic<bool>& caught, event& done) {
  value = co_await answer();
  try {
    (void)co_await fails();
  } catch (const std::runtime_error&) {
    caught = true;
  }
  done.set();
}

TEST_F(Coroutine, TasksReturnValuesAndRethrowIntoTheirAwaiter) {
  auto lp = make_loop(1);
  ASSERT_OK(lp->start());
  std::atomic<int> value{0};
  std::atomic<bool> caught{false};
  event done;
  ASSERT_OK(lp->spawn(parent(value, caught, done)));
  ASSERT_TRUE(done.wait());
  EXPECT_EQ(value.load(), 42);
  EXPECT_TRUE(caught.load());
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> recv_one(proact::tcp_socket& s, std::error_code& out,
                            std::atomic<int>& resumed) {
  char buf[16];
  auto [ec, n] = co_await s.recv(proact::make_buffer(buf));
  (void)n;
  out = ec;
  resumed.fetch_add(1);
}

TEST_F(Coroutine, AStopRequestCancelsThePendingOperation) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  std::stop_source stop;
  std::error_code seen;
  std::atomic<int> resumed{0};
  ASSERT_OK(lp->spawn(recv_one(server, seen, resumed), stop.get_token()));
  std::this_thread::sleep_for(settle_time);  // let it reach the recv
  EXPECT_EQ(resumed.load(), 0);
  stop.request_stop();
  ASSERT_TRUE(spin_until([&] { return resumed.load() == 1; }));
  EXPECT_ERRC(seen, operation_aborted);
  // The connection is still usable: the cancel touched only that recv.
  std::error_code second;
  ASSERT_OK(lp->spawn(recv_one(server, second, resumed)));
  char byte = 'x';
  proact::callback_op send_op([](std::size_t, std::error_code) {});
  ASSERT_OK(client.send(send_op, proact::make_buffer(&byte, 1)));
  ASSERT_TRUE(spin_until([&] { return resumed.load() == 2; }));
  EXPECT_OK(second);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(Coroutine, AStopRequestedBeforeTheAwaitAbortsWithoutStarting) {
  auto lp = make_loop(1);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  std::stop_source stop;
  stop.request_stop();
  std::error_code seen;
  std::atomic<int> resumed{0};
  ASSERT_OK(lp->spawn(recv_one(server, seen, resumed), stop.get_token()));
  ASSERT_TRUE(spin_until([&] { return resumed.load() == 1; }));
  EXPECT_ERRC(seen, operation_aborted);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> recv_pooled_once(proact::tcp_socket& s, proact::buffer_pool& pool,
                                    std::string& got, std::error_code& out, event& done) {
  auto [ec, n, buf] = co_await s.recv_pooled(pool);
  out = ec;
  if (!ec && buf) {
    got.assign(static_cast<const char*>(buf.data.data), n);
    out = pool.release(buf.id);
  }
  done.set();
}

TEST_F(Coroutine, PooledRecvIsAwaitableAndYieldsItsBuffer) {
  auto lp = make_loop(1);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  proact::buffer_pool pool;
  ASSERT_OK(pool.open(*lp, 2, 32));
  std::string got;
  std::error_code seen;
  event done;
  ASSERT_OK(lp->spawn(recv_pooled_once(server, pool, got, seen, done)));
  std::this_thread::sleep_for(settle_time);  // let it reach the recv
  proact::callback_op send_op([](std::size_t, std::error_code) {});
  ASSERT_OK(client.send(send_op, proact::make_buffer("pooled", 6)));
  ASSERT_TRUE(done.wait());
  EXPECT_OK(seen);
  EXPECT_EQ(got, "pooled");
  EXPECT_EQ(pool.available(), 2u);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> sleeper(proact::loop& lp, std::chrono::milliseconds d, std::error_code& out,
                           std::atomic<int>& resumed) {
  proact::timer t(lp);
  out = (co_await t.wait(d)).error;
  resumed.fetch_add(1);
}

TEST_F(Coroutine, TimersAreAwaitableAndCancelledByStop) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  std::error_code short_wait, long_wait;
  std::atomic<int> resumed{0};
  std::stop_source stop;
  ASSERT_OK(lp->spawn(sleeper(*lp, 10ms, short_wait, resumed)));
  ASSERT_OK(lp->spawn(sleeper(*lp, 1h, long_wait, resumed), stop.get_token()));
  ASSERT_TRUE(spin_until([&] { return resumed.load() == 1; }));
  EXPECT_OK(short_wait);
  stop.request_stop();
  ASSERT_TRUE(spin_until([&] { return resumed.load() == 2; }));
  EXPECT_ERRC(long_wait, operation_aborted);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> hop(proact::loop& lp, std::atomic<bool>& on_loop, event& done) {
  std::error_code ec = co_await lp.schedule();
  on_loop = !ec && lp.running_in_this_thread();
  done.set();
}

TEST_F(Coroutine, ScheduleResumesOnALoopThread) {
  auto lp = make_loop(1);
  ASSERT_OK(lp->start());
  std::atomic<bool> on_loop{false};
  event done;
  ASSERT_OK(lp->spawn(hop(*lp, on_loop, done)));
  ASSERT_TRUE(done.wait());
  EXPECT_TRUE(on_loop.load());
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> await_unassociated(std::error_code& out, event& done) {
  proact::tcp_socket s;
  char buf[8];
  auto r = co_await s.recv(proact::make_buffer(buf));
  out = r.error;
  done.set();
}

TEST_F(Coroutine, AwaitingOnAHandleThatIsNotOnALoopFailsAtOnce) {
  auto lp = make_loop(1);
  ASSERT_OK(lp->start());
  std::error_code seen;
  event done;
  ASSERT_OK(lp->spawn(await_unassociated(seen, done)));
  ASSERT_TRUE(done.wait());
  EXPECT_ERRC(seen, not_associated);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(Coroutine, StopResumesEverySuspendedCoroutineOnceWithOperationAborted) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  constexpr int n = 8;
  proact::tcp_socket clients[n], servers[n];
  for (int i = 0; i < n; ++i) ASSERT_TRUE(connect_on_loop(*lp, clients[i], servers[i]));
  std::error_code seen[n];
  std::atomic<int> resumed{0};
  std::error_code timer_result;
  for (int i = 0; i < n; ++i) ASSERT_OK(lp->spawn(recv_one(servers[i], seen[i], resumed)));
  ASSERT_OK(lp->spawn(sleeper(*lp, 1h, timer_result, resumed)));
  std::this_thread::sleep_for(settle_time);
  lp->stop();
  lp->join();
  EXPECT_EQ(resumed.load(), n + 1);
  for (int i = 0; i < n; ++i) EXPECT_ERRC(seen[i], operation_aborted) << "coroutine " << i;
  EXPECT_ERRC(timer_result, operation_aborted);
  EXPECT_ERRC(lp->spawn(answer_void()), port_closed);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

// A coroutine suspended on something that is not the loop's: the loop's
// destruction destroys its frame (its locals are destroyed), nothing leaks.
struct never_resumed {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};
struct counted {
  std::atomic<int>* destroyed;
  ~counted() { destroyed->fetch_add(1); }
};
proact::task<void> stuck(std::atomic<int>& destroyed, event& started) {
  counted c{&destroyed};
  started.set();
  co_await never_resumed{};
}

TEST_F(Coroutine, DestroyingTheLoopDestroysFramesSuspendedElsewhere) {
  std::atomic<int> destroyed{0};
  event started;
  {
    auto lp = make_loop(1);
    ASSERT_OK(lp->start());
    ASSERT_OK(lp->spawn(stuck(destroyed, started)));
    ASSERT_TRUE(started.wait());
    EXPECT_EQ(destroyed.load(), 0);
  }
  EXPECT_EQ(destroyed.load(), 1);
}

}  // namespace
}  // namespace proact_test
