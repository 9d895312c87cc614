// The loop's steady state allocates nothing: posts (recycled nodes), callback
// operations (handler stored in the operation), awaited operations (the
// operation lives in the coroutine frame) and re-armed timers.
#include <atomic>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using LoopAlloc = LoopTest;
using namespace std::chrono_literals;

TEST_F(LoopAlloc, PostAndRunAllocateNothingInSteadyState) {
  auto lp = make_loop(1);
  int runs = 0;
  auto round = [&](int n) {
    const int target = runs + n;
    for (int i = 0; i < n; ++i) {
      if (lp->post([&runs] { ++runs; })) return false;
    }
    return poll_until(*lp, [&] { return runs == target; });
  };
  ASSERT_TRUE(round(100));  // warms the node cache
  start_counting_allocations();
  for (int r = 0; r < 100; ++r) (void)round(100);
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_EQ(runs, 100 * 101);
  EXPECT_EQ(allocations, 0U) << "heap allocations during 10,000 post + run";
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopAlloc, CallbackEchoAllocatesNothingInSteadyState) {
  auto lp = make_loop(1);
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  char in[64] = {};
  char out[64] = {};
  int received = 0;
  int failures = 0;
  proact::callback_op recv_op([&](std::size_t n, std::error_code ec) {
    if (ec || n == 0) ++failures;
    ++received;
  });
  proact::callback_op send_op([&](std::size_t, std::error_code ec) {
    if (ec) ++failures;
  });
  auto round = [&] {
    const int before = received;
    if (server.recv(recv_op, proact::make_buffer(in))) return false;
    if (client.send(send_op, proact::make_buffer(out, 1))) return false;
    return poll_until(*lp, [&] { return received > before && !send_op.in_flight(); });
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(round());
  start_counting_allocations();
  for (int i = 0; i < 1000; ++i) (void)round();
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_EQ(received, 1010);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(allocations, 0U) << "heap allocations during 1,000 callback recv + send rounds";
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> ping(proact::tcp_socket& c, int rounds, std::atomic<int>& done_rounds) {
  char buf[64] = {};
  for (int i = 0; i < rounds; ++i) {
    auto [ec, n] = co_await c.send(proact::const_buffer(buf, 8));
    if (ec || n != 8) co_return;
    std::size_t got = 0;
    while (got < 8) {
      auto [rec, r] = co_await c.recv(proact::buffer{buf, 8 - got});
      if (rec) co_return;
      got += r;
    }
    done_rounds.fetch_add(1);
  }
}
proact::task<void> pong(proact::tcp_socket& s) {
  char buf[64];
  for (;;) {
    auto [ec, n] = co_await s.recv(proact::make_buffer(buf));
    if (ec) co_return;
    auto [wec, m] = co_await s.send(proact::const_buffer(buf, n));
    if (wec || m != n) co_return;
  }
}

TEST_F(LoopAlloc, AwaitedOperationsAllocateNothingBeyondTheFrame) {
  auto lp = make_loop(1);
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  std::atomic<int> warm{0};
  std::atomic<int> rounds{0};
  ASSERT_OK(lp->spawn(pong(server)));
  ASSERT_OK(lp->spawn(ping(client, 10, warm)));
  ASSERT_TRUE(poll_until(*lp, [&] { return warm.load() == 10; }));
  auto measured = ping(client, 1000, rounds);  // frame allocated before counting
  start_counting_allocations();
  ASSERT_OK(lp->spawn(std::move(measured)));
  EXPECT_TRUE(poll_until(*lp, [&] { return rounds.load() == 1000; }));
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_EQ(rounds.load(), 1000);
  EXPECT_EQ(allocations, 0U) << "heap allocations during 1,000 co_await send + recv rounds";
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> timed_ping(proact::tcp_socket& c, int rounds, std::atomic<int>& done_rounds) {
  char buf[64] = {};
  for (int i = 0; i < rounds; ++i) {
    auto [ec, n] = co_await c.send(proact::const_buffer(buf, 8)).with_timeout(10s);
    if (ec || n != 8) co_return;
    std::size_t got = 0;
    while (got < 8) {
      auto [rec, r] = co_await c.recv(proact::buffer(buf, 8 - got)).with_timeout(10s);
      if (rec) co_return;
      got += r;
    }
    done_rounds.fetch_add(1);
  }
}

TEST_F(LoopAlloc, AwaitedOperationsWithDeadlinesAllocateNothing) {
  auto lp = make_loop(1);
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  std::atomic<int> warm{0};
  std::atomic<int> rounds{0};
  ASSERT_OK(lp->spawn(pong(server)));
  ASSERT_OK(lp->spawn(timed_ping(client, 10, warm)));
  ASSERT_TRUE(poll_until(*lp, [&] { return warm.load() == 10; }));
  auto measured = timed_ping(client, 1000, rounds);  // frame allocated before counting
  start_counting_allocations();
  ASSERT_OK(lp->spawn(std::move(measured)));
  EXPECT_TRUE(poll_until(*lp, [&] { return rounds.load() == 1000; }));
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_EQ(rounds.load(), 1000);
  EXPECT_EQ(allocations, 0U) << "heap allocations during 1,000 timed send + recv rounds";
  lp.reset();
}

TEST_F(LoopAlloc, RepeatingTimersAllocateNothing) {
  auto lp = make_loop(1);
  proact::timer t(*lp);
  int ticks = 0;
  ASSERT_OK(t.start_repeating(1ms, [&](std::error_code ec) {
    if (!ec) ++ticks;
  }));
  ASSERT_TRUE(poll_until(*lp, [&] { return ticks >= 3; }));
  start_counting_allocations();
  const bool reached = poll_until(*lp, [&] { return ticks >= 30; });
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_TRUE(reached);
  EXPECT_EQ(allocations, 0U) << "heap allocations during repeating timer expiries";
  ASSERT_OK(t.cancel());
  EXPECT_TRUE(poll_until(*lp, [&] { return !t.armed(); }));
}

}  // namespace
}  // namespace proact_test
