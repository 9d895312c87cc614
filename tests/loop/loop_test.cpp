// The loop: options, post and dispatch, run() on several threads, callback
// operations, and stop()/destruction completing everything exactly once.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using LoopBasics = LoopTest;

TEST_F(LoopBasics, DefaultsFollowTheCompletionPortGuidance) {
  proact::loop_options o;
  o.backend = backend_under_test();
  proact::loop lp(o);
  const unsigned processors = std::max(1U, std::thread::hardware_concurrency());
  EXPECT_EQ(lp.concurrency(), processors);
  EXPECT_EQ(lp.threads(), 2 * lp.concurrency());
  auto custom = make_loop(3, 2);
  EXPECT_EQ(custom->concurrency(), 2U);
  EXPECT_EQ(custom->threads(), 3U);
}

TEST_F(LoopBasics, PostRunsOnALoopThreadExactlyOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  std::atomic<int> runs{0};
  std::atomic<bool> on_loop_thread{true};
  const auto test_thread = std::this_thread::get_id();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(lp->post([&] {
      if (!lp->running_in_this_thread() || std::this_thread::get_id() == test_thread)
        on_loop_thread = false;
      runs.fetch_add(1);
    }));
  }
  EXPECT_TRUE(spin_until([&] { return runs.load() == 1000; }));
  EXPECT_TRUE(on_loop_thread.load());
  lp->stop();
  lp->join();
  EXPECT_EQ(runs.load(), 1000);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopBasics, DispatchRunsInlineOnALoopThreadAndPostsFromElsewhere) {
  auto lp = make_loop(1);
  bool inline_run = false;
  bool outer_done = false;
  ASSERT_OK(lp->post([&] {
    ASSERT_OK(lp->dispatch([&] { inline_run = !outer_done; }));
    outer_done = true;
  }));
  bool from_outside = false;
  ASSERT_OK(lp->dispatch([&] { from_outside = true; }));
  EXPECT_FALSE(from_outside) << "dispatch from a non-loop thread must not run inline";
  EXPECT_TRUE(poll_until(*lp, [&] { return outer_done && from_outside; }));
  EXPECT_TRUE(inline_run);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopBasics, RunOnTheCallersOwnThreads) {
  auto lp = make_loop(1);
  std::atomic<int> runs{0};
  std::vector<std::thread> mine;
  for (int t = 0; t < 3; ++t) mine.emplace_back([&] { lp->run(); });
  for (int i = 0; i < 3000; ++i) ASSERT_OK(lp->post([&] { runs.fetch_add(1); }));
  EXPECT_TRUE(spin_until([&] { return runs.load() == 3000; }));
  lp->stop();
  for (auto& t : mine) t.join();  // run() returns on every thread after stop()
  EXPECT_EQ(runs.load(), 3000);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopBasics, RunOneAndPollOneRunExactlyOneCompletion) {
  auto lp = make_loop(1);
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) ASSERT_OK(lp->post([&order, i] { order.push_back(i); }));
  EXPECT_EQ(lp->poll_one(), 1U);
  EXPECT_EQ(order, (std::vector<int>{0}));
  EXPECT_EQ(lp->run_one(), 1U);
  EXPECT_EQ(order, (std::vector<int>{0, 1}));
  EXPECT_EQ(lp->poll(), 1U);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(lp->poll_one(), 0U) << "nothing is ready";
  // run_one() waits: work posted from another thread wakes it.
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)lp->post([&order] { order.push_back(3); });
  });
  EXPECT_EQ(lp->run_one(), 1U);
  poster.join();
  EXPECT_EQ(order.back(), 3);
  // Once stopped and drained, run_one() returns 0 instead of blocking.
  lp->stop();
  while (lp->poll() != 0) {
  }
  EXPECT_EQ(lp->run_one(), 0U);
  EXPECT_EQ(lp->poll_one(), 0U);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopBasics, CallbackOperationsEchoAndReuseTheirHandler) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  char in[64] = {};
  char out[64] = {};
  std::atomic<int> rounds{0};
  std::atomic<int> errors{0};
  proact::callback_op recv_op;
  proact::callback_op send_op([&](std::size_t, std::error_code ec) {
    if (ec) errors.fetch_add(1);
  });
  recv_op.set_handler([&](std::size_t n, std::error_code ec) {
    if (ec || n == 0) {
      errors.fetch_add(1);
      return;
    }
    if (rounds.fetch_add(1) + 1 < 100) {
      if (server.recv(recv_op, proact::make_buffer(in))) errors.fetch_add(1);
      while (send_op.in_flight()) std::this_thread::yield();
      if (client.send(send_op, proact::make_buffer(out, 1))) errors.fetch_add(1);
    }
  });
  ASSERT_OK(server.recv(recv_op, proact::make_buffer(in)));
  ASSERT_OK(client.send(send_op, proact::make_buffer(out, 1)));
  EXPECT_TRUE(spin_until([&] { return rounds.load() == 100; }));
  EXPECT_EQ(errors.load(), 0);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopBasics, StopAbortsPendingOperationsAndRunsEachCallbackOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  constexpr int n = 2;
  std::atomic<int> calls[n] = {};
  std::atomic<int> aborted{0};
  char in[2][16];
  proact::callback_op ops[n];
  for (int i = 0; i < n; ++i) {
    ops[i].set_handler([&, i](std::size_t, std::error_code ec) {
      calls[i].fetch_add(1);
      if (ec == proact::errc::operation_aborted) aborted.fetch_add(1);
    });
  }
  ASSERT_OK(server.recv(ops[0], proact::make_buffer(in[0])));
  ASSERT_OK(client.recv(ops[1], proact::make_buffer(in[1])));
  lp->stop();
  lp->join();  // run() returned on every worker: everything ran
  for (int i = 0; i < n; ++i) EXPECT_EQ(calls[i].load(), 1) << "operation " << i;
  EXPECT_EQ(aborted.load(), n);
  EXPECT_ERRC(lp->post([] {}), port_closed);
  EXPECT_ERRC(server.recv(ops[0], proact::make_buffer(in[0])), port_closed);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopBasics, DestroyingALoopNobodyRanStillCompletesEverythingOnce) {
  std::atomic<int> posted{0};
  std::atomic<int> io_calls{0};
  std::error_code io_error;
  proact::tcp_socket client, server;
  proact::callback_op recv_op([&](std::size_t, std::error_code ec) {
    io_error = ec;
    io_calls.fetch_add(1);
  });
  char in[16];
  {
    auto lp = make_loop(1);
    ASSERT_TRUE(connect_on_loop(*lp, client, server));
    ASSERT_OK(server.recv(recv_op, proact::make_buffer(in)));
    for (int i = 0; i < 10; ++i) ASSERT_OK(lp->post([&] { posted.fetch_add(1); }));
  }  // never run, never stopped: the destructor does it
  EXPECT_EQ(posted.load(), 10);
  EXPECT_EQ(io_calls.load(), 1);
  EXPECT_ERRC(io_error, operation_aborted);
  EXPECT_FALSE(recv_op.in_flight());
}

TEST_F(LoopBasics, StopFromACallbackEndsRunOnEveryThread) {
  auto lp = make_loop(4);
  ASSERT_OK(lp->start());
  event stopped;
  ASSERT_OK(lp->post([&] {
    lp->stop();
    stopped.set();
  }));
  EXPECT_TRUE(stopped.wait());
  lp->join();
  EXPECT_TRUE(lp->stopped());
  EXPECT_ERRC(lp->start(), port_closed);
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

TEST_F(LoopBasics, PostedCallablesLargerThanTheInlineStorageWork) {
  auto lp = make_loop(1);
  struct big {
    char payload[256];
  } b{};
  b.payload[255] = 42;
  int seen = 0;
  ASSERT_OK(lp->post([b, &seen] { seen = b.payload[255]; }));
  EXPECT_TRUE(poll_until(*lp, [&] { return seen == 42; }));
  // The loop goes first: it drains what still refers to this test's locals.
  lp.reset();
}

proact::task<void> await_on_raw_port(proact::tcp_socket& s, std::error_code& out, event& done) {
  char buf[8];
  auto r = co_await s.recv(proact::make_buffer(buf));
  out = r.error;
  done.set();
}

TEST_F(LoopBasics, TheLoopsPortIsSharedWithRawPortCode) {
  auto lp = make_loop(2);
  std::atomic<int> foreign{0};
  std::atomic<std::uintptr_t> last_key{0};
  std::atomic<std::size_t> last_bytes{0};
  proact::port& port = lp->share_port([&](const proact::completion& c) {
    last_key = c.key;
    last_bytes = c.bytes;
    foreign.fetch_add(1);
  });
  ASSERT_OK(lp->start());
  // A posted packet with a key of its own reaches the handler, verbatim.
  ASSERT_OK(port.post(0x77, 42, nullptr));
  ASSERT_TRUE(spin_until([&] { return foreign.load() == 1; }));
  EXPECT_EQ(last_key.load(), 0x77U);
  EXPECT_EQ(last_bytes.load(), 42U);
  // A handle associated with the port under its own key: its raw operation
  // completes through the loop's threads to the handler; the loop's own
  // work goes on beside it.
  proact::tcp_listener listener;
  ASSERT_OK(listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)));
  std::error_code ec;
  const proact::endpoint address = listener.local_endpoint(ec);
  ASSERT_OK(ec);
  ASSERT_OK(port.associate(listener, 0x11));
  proact::tcp_socket client, server;
  ASSERT_OK(client.open(proact::address_family::ipv4));
  ASSERT_OK(port.associate(client, 0x12));
  proact::operation accept_op, connect_op;
  ASSERT_OK(listener.accept(accept_op, server));
  ASSERT_OK(client.connect(connect_op, address));
  ASSERT_TRUE(spin_until([&] { return foreign.load() == 3; }));
  std::atomic<bool> posted{false};
  ASSERT_OK(lp->post([&] { posted = true; }));
  ASSERT_TRUE(spin_until([&] { return posted.load(); }));
  // Awaiting an operation of a raw-port handle fails with its own condition.
  std::error_code seen;
  event done;
  ASSERT_OK(lp->spawn(await_on_raw_port(client, seen, done)));
  ASSERT_TRUE(done.wait());
  EXPECT_ERRC(seen, not_on_loop);
  lp.reset();
}

}  // namespace
}  // namespace proact_test
