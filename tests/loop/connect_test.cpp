// Less ceremony on a loop: proact::connect (one call: open, associate,
// connect; a list of endpoints tried in turn), async_connect (its callback
// form), a listener that associates what it accepts, and the awaitable
// flush.
#include <atomic>
#include <stop_token>
#include <string>
#include <vector>

#include "../conformance/fixture.hpp"
#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using LoopConnect = LoopTest;
using namespace std::chrono_literals;

// A listener on the loop's port that associates what it accepts.
::testing::AssertionResult listen_on_loop(proact::loop& lp, proact::tcp_listener& listener,
                                          proact::endpoint& address,
                                          proact::address_family family) {
  if (auto ec = listener.listen(proact::endpoint::loopback(family, 0)))
    return ::testing::AssertionFailure() << "listen: " << describe(ec);
  if (auto ec = lp.associate(listener))
    return ::testing::AssertionFailure() << "associate: " << describe(ec);
  if (auto ec = listener.associate_accepted())
    return ::testing::AssertionFailure() << "associate_accepted: " << describe(ec);
  std::error_code ec;
  address = listener.local_endpoint(ec);
  if (ec) return ::testing::AssertionFailure() << describe(ec);
  return ::testing::AssertionSuccess();
}

// Connects in one call, accepts with the listener's association, and
// exchanges a message both ways with awaited operations only.
proact::task<std::string> round_trip(proact::loop& lp, proact::tcp_listener& listener,
                                     std::vector<proact::endpoint> remotes) {
  proact::tcp_socket server;
  auto accepting = [](proact::tcp_listener& l, proact::tcp_socket& peer) -> proact::task<bool> {
    auto [ec, n] = co_await l.accept(peer);
    (void)n;
    co_return !ec;
  };
  auto accepted = proact::spawn(lp, accepting(listener, server));
  auto [ec, client] = co_await proact::connect(lp, std::span<const proact::endpoint>(remotes));
  if (ec) co_return "connect: " + ec.message();
  if (!client.is_associated()) co_return "the connected socket is not associated";
  if (!co_await accepted.join()) co_return "accept failed";
  if (!server.is_associated()) co_return "the accepted socket is not associated";
  std::error_code peer_error;
  const proact::endpoint peer = client.remote_endpoint(peer_error);
  if (peer_error) co_return "remote_endpoint: " + peer_error.message();
  auto [sec, sn] = co_await client.send(proact::make_buffer("hello", 5));
  if (sec || sn != 5) co_return "send: " + sec.message();
  char in[5];
  auto [rec, rn] = co_await proact::read_exactly(server, proact::make_buffer(in));
  if (rec) co_return "recv: " + rec.message();
  (void)rn;
  co_return std::string(in, 5) + " from " + peer.to_string();
}

TEST_F(LoopConnect, OneCallConnectsAndAssociates) {
  for (const auto family : {proact::address_family::ipv4, proact::address_family::ipv6}) {
    auto lp = make_loop(2);
    ASSERT_OK(lp->start());
    proact::tcp_listener listener;
    proact::endpoint address;
    ASSERT_TRUE(listen_on_loop(*lp, listener, address, family));
    EXPECT_EQ(proact::sync_wait(*lp, round_trip(*lp, listener, {address})),
              "hello from " + address.to_string());
    lp.reset();
  }
}

TEST_F(LoopConnect, TriesEachEndpointInTurn) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loop(*lp, listener, address, proact::address_family::ipv4));
  proact::endpoint refused_v4, refused_v6;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, refused_v4));
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv6, refused_v6));
  EXPECT_EQ(proact::sync_wait(*lp, round_trip(*lp, listener, {refused_v6, refused_v4, address})),
            "hello from " + address.to_string());
  lp.reset();
}

TEST_F(LoopConnect, FailsWithTheLastEndpointsErrorOrInvalidArgumentForNone) {
  auto lp = make_loop(1);
  proact::endpoint refused_v4, refused_v6;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, refused_v4));
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv6, refused_v6));
  auto attempt = [](proact::loop& l,
                    std::vector<proact::endpoint> remotes) -> proact::task<std::error_code> {
    auto [ec, s] = co_await proact::connect(l, std::span<const proact::endpoint>(remotes));
    if (s.is_open()) co_return make_error_code(proact::error::invalid_argument);
    co_return ec;
  };
  EXPECT_ERRC(proact::sync_wait(*lp, attempt(*lp, {refused_v6, refused_v4})), connection_refused);
  EXPECT_ERRC(proact::sync_wait(*lp, attempt(*lp, {})), invalid_argument);
  EXPECT_ERRC(proact::sync_wait(*lp, attempt(*lp, {proact::endpoint{}})), invalid_argument);
}

TEST_F(LoopConnect, CallbackFormRunsItsHandlerOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loop(*lp, listener, address, proact::address_family::ipv4));
  std::atomic<int> calls{0};
  std::error_code result;
  proact::tcp_socket connected;
  event done;
  const std::vector<proact::endpoint> remotes{address};
  ASSERT_OK(proact::async_connect(*lp, remotes, [&](std::error_code ec, proact::tcp_socket s) {
    result = ec;
    connected = std::move(s);
    calls.fetch_add(1);
    done.set();
  }));
  ASSERT_TRUE(done.wait());
  EXPECT_OK(result);
  EXPECT_TRUE(connected.is_associated());
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(calls.load(), 1);
  (void)connected.close();
  lp->stop();
  // A stopped loop refuses: the handler never runs.
  EXPECT_ERRC(proact::async_connect(
                  *lp, address, [&](std::error_code, proact::tcp_socket) { calls.fetch_add(1); }),
              port_closed);
  lp.reset();
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(LoopConnect, AStopRequestEndsTheWholeAttempt) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loop(*lp, listener, address, proact::address_family::ipv4));
  std::stop_source stop;
  stop.request_stop();
  std::atomic<int> calls{0};
  std::error_code result;
  event done;
  const std::vector<proact::endpoint> remotes{address, address};
  ASSERT_OK(proact::async_connect(
      *lp, remotes,
      [&](std::error_code ec, proact::tcp_socket s) {
        result = ec;
        if (s.is_open()) result = make_error_code(proact::error::invalid_argument);
        calls.fetch_add(1);
        done.set();
      },
      stop.get_token()));
  ASSERT_TRUE(done.wait());
  EXPECT_ERRC(result, operation_aborted);
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(calls.load(), 1);
  lp.reset();
}

TEST_F(LoopConnect, FlushIsAwaitable) {
  temp_directory dir;
  if (!dir.ok()) GTEST_SKIP() << dir.why();
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::file f;
  ASSERT_OK(f.open(dir.path("data"),
                   proact::file_mode::read | proact::file_mode::write | proact::file_mode::create));
  ASSERT_OK(lp->associate(f));
  auto body = [](proact::file& file) -> proact::task<std::string> {
    const std::string data(70000, 'd');
    auto [ec, n] = co_await proact::write_all_at(file, 0, proact::make_buffer(data));
    if (ec || n != data.size()) co_return "write: " + ec.message();
    auto [fec, fn] = co_await file.flush(proact::flush_mode::data);
    if (fec || fn != 0) co_return "flush data: " + fec.message();
    auto [aec, an] = co_await file.flush();
    if (aec || an != 0) co_return "flush all: " + aec.message();
    co_return "ok";
  };
  EXPECT_EQ(proact::sync_wait(*lp, body(f)), "ok");
  lp.reset();
}

}  // namespace
}  // namespace proact_test
