// Deadlines on operations: an operation still pending at its deadline is
// cancelled and completes once with errc::timed_out; one that completed in
// time keeps its result; a stop request or cancel() still gives
// operation_aborted. Awaited (with_timeout) and callback (start_with_timeout)
// forms, all on the loop's one timer heap.
#include <atomic>
#include <memory>
#include <vector>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using Deadline = LoopTest;
using namespace std::chrono_literals;

struct outcome {
  std::error_code error;
  std::size_t bytes = 0;
  clock_type::duration took{};
  std::atomic<int> resumed{0};
};

proact::task<void> recv_within(proact::tcp_socket& s, clock_type::duration limit, outcome& out) {
  char buf[16];
  const auto begin = clock_type::now();
  auto [ec, n] = co_await s.recv(proact::make_buffer(buf)).with_timeout(limit);
  out.took = clock_type::now() - begin;
  out.error = ec;
  out.bytes = n;
  out.resumed.fetch_add(1);
}

TEST_F(Deadline, AnAwaitedRecvWithNoDataTimesOutOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  outcome out;
  ASSERT_OK(lp->spawn(recv_within(server, 50ms, out)));
  ASSERT_TRUE(spin_until([&] { return out.resumed.load() == 1; }));
  EXPECT_ERRC(out.error, timed_out);
  EXPECT_NE(out.error, proact::errc::operation_aborted);
  EXPECT_GE(out.took, 50ms);
  // The socket is untouched: the next recv gets the data.
  outcome next;
  ASSERT_OK(lp->spawn(recv_within(server, 5s, next)));
  char byte = 'x';
  proact::callback_op send_op([](std::size_t, std::error_code) {});
  ASSERT_OK(client.send(send_op, proact::const_buffer(&byte, 1)));
  ASSERT_TRUE(spin_until([&] { return next.resumed.load() == 1; }));
  EXPECT_OK(next.error);
  EXPECT_EQ(next.bytes, 1U);
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(out.resumed.load(), 1);
  EXPECT_EQ(next.resumed.load(), 1);
  lp.reset();
}

TEST_F(Deadline, AnOperationThatCompletesInTimeKeepsItsResult) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  char data[3] = {'a', 'b', 'c'};
  proact::callback_op send_op([](std::size_t, std::error_code) {});
  ASSERT_OK(client.send(send_op, proact::const_buffer(data, 3)));
  outcome out;
  ASSERT_OK(lp->spawn(recv_within(server, 100ms, out)));
  ASSERT_TRUE(spin_until([&] { return out.resumed.load() == 1; }));
  EXPECT_OK(out.error);
  EXPECT_EQ(out.bytes, 3U);
  std::this_thread::sleep_for(200ms);  // past the deadline: nothing more happens
  EXPECT_EQ(out.resumed.load(), 1);
  lp.reset();
}

TEST_F(Deadline, AStopRequestStillGivesOperationAborted) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  outcome out;
  std::stop_source stop;
  ASSERT_OK(lp->spawn(recv_within(server, 1h, out), stop.get_token()));
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  ASSERT_TRUE(spin_until([&] { return out.resumed.load() == 1; }));
  EXPECT_ERRC(out.error, operation_aborted);
  lp.reset();
}

TEST_F(Deadline, ADeadlineAlreadyPastFailsWithoutStarting) {
  auto lp = make_loop(1);
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  outcome out;
  ASSERT_OK(lp->spawn(recv_within(server, -1ms, out)));
  ASSERT_TRUE(poll_until(*lp, [&] { return out.resumed.load() == 1; }));
  EXPECT_ERRC(out.error, timed_out);
  // Nothing was started: data sent now stays for the next recv.
  char byte = 'y';
  proact::callback_op send_op([](std::size_t, std::error_code) {});
  ASSERT_OK(client.send(send_op, proact::const_buffer(&byte, 1)));
  outcome next;
  ASSERT_OK(lp->spawn(recv_within(server, 5s, next)));
  ASSERT_TRUE(poll_until(*lp, [&] { return next.resumed.load() == 1; }));
  EXPECT_OK(next.error);
  EXPECT_EQ(next.bytes, 1U);
  lp.reset();
}

TEST_F(Deadline, ACallbackOperationTimesOutOnceAndCanBeStartedAgain) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  char buf[8];
  std::atomic<int> calls{0};
  std::error_code seen;
  std::size_t seen_bytes = 0;
  proact::callback_op recv_op([&](std::size_t n, std::error_code ec) {
    seen = ec;
    seen_bytes = n;
    calls.fetch_add(1);
  });
  auto start_recv = [&](proact::operation& o) { return server.recv(o, proact::make_buffer(buf)); };
  const auto begin = clock_type::now();
  ASSERT_OK(recv_op.start_with_timeout(*lp, server, 50ms, start_recv));
  ASSERT_TRUE(spin_until([&] { return calls.load() == 1; }));
  EXPECT_GE(clock_type::now() - begin, 50ms);
  EXPECT_ERRC(seen, timed_out);
  ASSERT_OK(recv_op.start_with_timeout(*lp, server, 5s, start_recv));
  char byte = 'z';
  proact::callback_op send_op([](std::size_t, std::error_code) {});
  ASSERT_OK(client.send(send_op, proact::const_buffer(&byte, 1)));
  ASSERT_TRUE(spin_until([&] { return calls.load() == 2; }));
  EXPECT_OK(seen);
  EXPECT_EQ(seen_bytes, 1U);
  // An explicit cancel is operation_aborted, not timed_out.
  ASSERT_OK(recv_op.start_with_timeout(*lp, server, 1h, start_recv));
  ASSERT_OK(server.cancel(recv_op));
  ASSERT_TRUE(spin_until([&] { return calls.load() == 3; }));
  EXPECT_ERRC(seen, operation_aborted);
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(calls.load(), 3);
  lp.reset();
}

TEST_F(Deadline, ManyIdleConnectionsEachTimeOutOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  constexpr std::size_t n = 500;
  std::vector<std::unique_ptr<proact::tcp_socket>> clients, servers;
  std::vector<outcome> outs(n);
  for (std::size_t i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<proact::tcp_socket>());
    servers.push_back(std::make_unique<proact::tcp_socket>());
    ASSERT_TRUE(connect_on_loop(*lp, *clients.back(), *servers.back()));
  }
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_OK(
        lp->spawn(recv_within(*servers[i], 100ms + std::chrono::milliseconds(i % 50), outs[i])));
  ASSERT_TRUE(spin_until(
      [&] {
        for (auto& o : outs)
          if (o.resumed.load() == 0) return false;
        return true;
      },
      30s));
  std::this_thread::sleep_for(quiet_period);
  int wrong = 0;
  for (auto& o : outs)
    wrong += (o.resumed.load() == 1 && o.error == proact::errc::timed_out) ? 0 : 1;
  EXPECT_EQ(wrong, 0);
  lp.reset();
}

}  // namespace
}  // namespace proact_test
