// Item 24: what a stream connection has been through decides how its later
// operations end, the same way on every backend: a broken connection stays
// broken, a send after the local shutdown is not a reset, and a socket that
// is not connected (never, not yet, or no longer) says so.
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {

using proact::errc;
using proact::file_mode;

// The condition a broken connection reports: reset by the peer or aborted.
::testing::AssertionResult broken(const std::error_code& ec) {
  if (ec == errc::connection_reset || ec == errc::connection_aborted)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected connection_reset or connection_aborted, got " << describe(ec);
}

errc condition_of_broken(const std::error_code& ec) {
  return ec == errc::connection_aborted ? errc::connection_aborted : errc::connection_reset;
}

// The outcome of `op`, whose start call returned `started`: the start call's
// error, or the completion's (which must be the next thing the port hands out).
::testing::AssertionResult outcome_of(proact::port& p, const proact::operation& op,
                                      std::error_code started, std::error_code& result,
                                      std::size_t& bytes) {
  bytes = 0;
  if (started) {
    result = started;
    if (op.in_flight()) return ::testing::AssertionFailure() << "a failed start left it in flight";
    return ::testing::AssertionSuccess();
  }
  proact::completion c;
  if (::testing::AssertionResult got = wait_one(p, c); !got) return got;
  if (c.op != &op) return ::testing::AssertionFailure() << "another operation completed";
  result = c.error;
  bytes = c.bytes;
  return ::testing::AssertionSuccess();
}

// Starts an operation with `start` and checks that it ends once with
// `expected` (at start or as its completion) having transferred nothing.
template <class Start>
void expect_ends_with(proact::port& p, const char* what, errc expected, Start start) {
  proact::operation op;
  std::error_code result;
  std::size_t bytes = 0;
  ASSERT_TRUE(outcome_of(p, op, start(op), result, bytes)) << what;
  EXPECT_TRUE(is(result, expected)) << what;
  EXPECT_EQ(bytes, 0u) << what;
  EXPECT_FALSE(op.in_flight()) << what;
}

class Item24_ConnectionState : public FileTest {
 protected:
  void SetUp() override {
    FileTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_TRUE(connect_pair(port_, pair_));
    ASSERT_TRUE(create_file("source", "0123456789", 10));
    ASSERT_OK(source_.open(dir_.path("source"), file_mode::read));
    ASSERT_OK(pool_.open(port_, 2, 16));
  }

  // Resets the server's connection: the client closes with bytes it never
  // read, which sends a reset instead of a FIN.
  void reset_by_the_client() {
    ASSERT_TRUE(send_all(port_, pair_.server, "unread", 6));
    std::this_thread::sleep_for(20ms);  // the bytes are in the client's buffer
    ASSERT_OK(pair_.client.close());
  }

  // Every later recv, zero-byte recv, send and send_file of `s` ends with
  // `expected`, never with eof or success; and nothing else completes.
  void expect_every_later_operation_ends_with(proact::tcp_socket& s, errc expected) {
    char in[16];
    char none = 0;
    for (int round = 0; round < 2; ++round) {
      expect_ends_with(port_, "recv", expected,
                       [&](proact::operation& op) { return s.recv(op, proact::make_buffer(in)); });
      expect_ends_with(port_, "zero-byte recv", expected, [&](proact::operation& op) {
        return s.recv(op, proact::buffer{&none, 0});
      });
      expect_ends_with(port_, "pooled recv", expected,
                       [&](proact::operation& op) { return s.recv_pooled(op, pool_); });
      EXPECT_EQ(pool_.available(), 2u) << "a pooled recv that failed holds no buffer";
      expect_ends_with(port_, "send", expected, [&](proact::operation& op) {
        return s.send(op, proact::make_buffer("after", 5));
      });
      expect_ends_with(port_, "send_file", expected,
                       [&](proact::operation& op) { return s.send_file(op, source_, 0, 10); });
    }
    EXPECT_TRUE(stays_idle(port_));
  }

  tcp_pair pair_;
  proact::file source_;
  proact::buffer_pool pool_;
};

// ---- a broken connection stays broken ---------------------------------------------

TEST_F(Item24_ConnectionState, EveryPendingRecvReportsTheResetNotEof) {
  // An application that posts two recvs must not take a truncated stream for
  // a complete one.
  char in1[16];
  char in2[16];
  proact::operation r1;
  proact::operation r2;
  ASSERT_OK(pair_.server.recv(r1, proact::make_buffer(in1)));
  ASSERT_OK(pair_.server.recv(r2, proact::make_buffer(in2)));
  ASSERT_TRUE(stays_idle(port_, proact::timeout{50}));
  reset_by_the_client();
  if (HasFatalFailure()) return;
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_EQ(got[0].op, &r1);
  EXPECT_EQ(got[1].op, &r2);
  ASSERT_TRUE(broken(got[0].error));
  const errc failure = condition_of_broken(got[0].error);
  EXPECT_TRUE(is(got[1].error, failure));
  EXPECT_EQ(got[0].bytes + got[1].bytes, 0u);
  expect_every_later_operation_ends_with(pair_.server, failure);
}

TEST_F(Item24_ConnectionState, PendingSendAndRecvBothReportTheReset) {
  // A send that cannot finish (the client does not read) and a recv are both
  // pending when the reset arrives.
  std::vector<unsigned char> out(stuck_transfer_size, 0x5a);
  proact::operation send_op;
  ASSERT_OK(pair_.server.send(send_op, proact::const_buffer{out.data(), out.size()}));
  char in[16];
  proact::operation recv_op;
  ASSERT_OK(pair_.server.recv(recv_op, proact::make_buffer(in)));
  ASSERT_TRUE(stays_idle(port_, proact::timeout{200}));
  ASSERT_OK(pair_.client.close());
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got, proact::timeout{10000}));
  const proact::completion sent = completion_of(got, &send_op);
  const proact::completion received = completion_of(got, &recv_op);
  ASSERT_EQ(sent.op, &send_op);
  ASSERT_EQ(received.op, &recv_op);
  EXPECT_TRUE(broken(sent.error));
  EXPECT_LT(sent.bytes, out.size());
  ASSERT_TRUE(broken(received.error));
  EXPECT_EQ(received.bytes, 0u);
  expect_every_later_operation_ends_with(pair_.server, condition_of_broken(received.error));
}

TEST_F(Item24_ConnectionState, AResetReportedToOneRecvIsReportedToEveryLaterOperation) {
  char in[16];
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  reset_by_the_client();
  if (HasFatalFailure()) return;
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  ASSERT_TRUE(broken(c.error));
  expect_every_later_operation_ends_with(pair_.server, condition_of_broken(c.error));
}

TEST_F(Item24_ConnectionState, ARecvWaitingBehindThePeersLastBytesStillReportsTheReset) {
  // A first message fills the server's buffer exactly, as fixed-size
  // messages do.
  char in[16];
  ASSERT_TRUE(send_all(port_, pair_.client, "sixteen bytes ok", 16));
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, sizeof(in)));
  proact::operation r1;
  proact::operation r2;
  ASSERT_OK(pair_.server.recv(r1, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.recv(r2, proact::make_buffer(in)));
  ASSERT_TRUE(send_all(port_, pair_.server, "unread", 6));
  std::this_thread::sleep_for(20ms);  // in the client's buffer: its close resets
  // The client's last bytes and its reset reach the server before port_
  // polls again: one readiness report carries both.
  proact::operation last;
  ASSERT_OK(pair_.client.send(last, proact::make_buffer("last words", 10)));
  std::this_thread::sleep_for(20ms);
  ASSERT_OK(pair_.client.close());
  std::this_thread::sleep_for(20ms);
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 3, got));
  const proact::completion first = completion_of(got, &r1);
  const proact::completion second = completion_of(got, &r2);
  // Linux keeps the bytes readable ahead of the reset; Windows drops them.
  if (first.error) {
    EXPECT_TRUE(broken(first.error));
    EXPECT_EQ(first.bytes, 0u);
  } else {
    EXPECT_EQ(first.bytes, 10u);
  }
  ASSERT_TRUE(broken(second.error));
  EXPECT_EQ(second.bytes, 0u);
  expect_every_later_operation_ends_with(pair_.server, condition_of_broken(second.error));
}

TEST_F(Item24_ConnectionState, AResetWithNothingPendingIsReportedByTheNextOperation) {
  reset_by_the_client();
  if (HasFatalFailure()) return;
  std::this_thread::sleep_for(50ms);  // the reset has arrived
  char in[16];
  proact::operation op;
  std::error_code first;
  std::size_t bytes = 0;
  ASSERT_TRUE(outcome_of(port_, op, pair_.server.recv(op, proact::make_buffer(in)), first, bytes));
  ASSERT_TRUE(broken(first));
  EXPECT_EQ(bytes, 0u);
  expect_every_later_operation_ends_with(pair_.server, condition_of_broken(first));
}

TEST_F(Item24_ConnectionState, ASendThatMeetsTheResetFirstIsFollowedByEveryLaterOperation) {
  reset_by_the_client();
  if (HasFatalFailure()) return;
  std::this_thread::sleep_for(50ms);
  proact::operation op;
  std::error_code first;
  std::size_t bytes = 0;
  ASSERT_TRUE(
      outcome_of(port_, op, pair_.server.send(op, proact::make_buffer("x", 1)), first, bytes));
  ASSERT_TRUE(broken(first));
  expect_every_later_operation_ends_with(pair_.server, condition_of_broken(first));
}

// ---- the local shutdown ------------------------------------------------------------

TEST_F(Item24_ConnectionState, SendAfterTheLocalShutdownIsShutDownNotAReset) {
  ASSERT_OK(pair_.server.shutdown_send());
  for (int round = 0; round < 2; ++round) {
    expect_ends_with(port_, "send", errc::shut_down, [&](proact::operation& op) {
      return pair_.server.send(op, proact::make_buffer("late", 4));
    });
    expect_ends_with(port_, "send_file", errc::shut_down, [&](proact::operation& op) {
      return pair_.server.send_file(op, source_, 0, 10);
    });
  }
  // The other direction still works.
  ASSERT_TRUE(send_all(port_, pair_.client, "still", 5));
  char in[8] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 5));
  EXPECT_EQ(text(in, 5), "still");
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item24_ConnectionState, SendQueuedBeforeTheShutdownGoesAndOnesAfterAreShutDown) {
  // shutdown_send sends its FIN after the sends already started; a send
  // started after it is refused as shut down.
  ASSERT_TRUE(send_all(port_, pair_.server, "before", 6));
  ASSERT_OK(pair_.server.shutdown_send());
  expect_ends_with(port_, "send", errc::shut_down, [&](proact::operation& op) {
    return pair_.server.send(op, proact::make_buffer("after", 5));
  });
  char in[16] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.client, in, 6));
  EXPECT_EQ(text(in, 6), "before");
  proact::operation op;
  ASSERT_OK(pair_.client.recv(op, proact::make_buffer(in)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_ERRC(c.error, eof);
}

// ---- not connected: never, not yet, no longer -------------------------------------------

TEST_F(Item24_ConnectionState, StreamOperationsOnANeverConnectedSocketAreNotConnected) {
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 41));
  expect_every_later_operation_ends_with(s, errc::not_connected);
}

TEST_F(Item24_ConnectionState, StreamOperationsAfterADisconnectAreNotConnected) {
  proact::operation op;
  ASSERT_OK(pair_.server.disconnect(op));
  ASSERT_OK(pair_.client.close());  // its FIN ends the disconnect's drain
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  ASSERT_OK(c.error);
  expect_every_later_operation_ends_with(pair_.server, errc::not_connected);
}

TEST_F(Item24_ConnectionState, RecvAndSendWhileTheConnectIsPendingAreNotConnected) {
  // As WSARecv and WSASend answer on a socket whose ConnectEx is pending; the
  // connect itself carries on and is then cancelled here.
  full_listener target;
  std::string why;
  if (!target.open(proact::address_family::ipv4, why))
    GTEST_SKIP() << "no connect can be kept pending here: " << why;
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 42));
  proact::operation connect_op;
  if (!connect_stays_pending(port_, s, connect_op, target.address(), why))
    GTEST_SKIP() << "the connect did not stay pending: " << why;
  char in[8];
  char none = 0;
  expect_ends_with(port_, "recv", errc::not_connected,
                   [&](proact::operation& op) { return s.recv(op, proact::make_buffer(in)); });
  expect_ends_with(port_, "zero-byte recv", errc::not_connected, [&](proact::operation& op) {
    return s.recv(op, proact::buffer{&none, 0});
  });
  expect_ends_with(port_, "send", errc::not_connected, [&](proact::operation& op) {
    return s.send(op, proact::make_buffer("early", 5));
  });
  EXPECT_TRUE(connect_op.in_flight());
  ASSERT_OK(s.cancel(connect_op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &connect_op);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item24_ConnectionState, ASocketWhoseConnectWasRefusedConnectsOnTheNextTry) {
  proact::endpoint closed;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, closed));
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 43));
  proact::operation op;
  ASSERT_OK(s.connect(op, closed));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  ASSERT_ERRC(c.error, connection_refused);
  // Refused again: each refusal leaves the socket ready for another try.
  ASSERT_OK(s.connect(op, closed));
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  ASSERT_ERRC(c.error, connection_refused);
  proact::tcp_socket accepted;
  proact::operation accept_op;
  ASSERT_OK(listener.accept(accept_op, accepted));
  ASSERT_OK(s.connect(op, address));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&op, &accept_op}, got));
  EXPECT_OK(completion_of(got, &op).error);
  EXPECT_OK(completion_of(got, &accept_op).error);
  ASSERT_OK(port_.associate(accepted, 44));
  ASSERT_TRUE(send_all(port_, s, "hello", 5));
  char in[8] = {};
  ASSERT_TRUE(recv_exactly(port_, accepted, in, 5));
  EXPECT_EQ(text(in, 5), "hello");
}

// ---- accept targets -----------------------------------------------------------------

TEST_F(Item24_ConnectionState, ASecondAcceptIntoTheSameSocketIsRefusedAndNothingLeaks) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  const long before = open_handle_count();
  {
    proact::tcp_socket target;
    proact::operation first;
    proact::operation second;
    ASSERT_OK(listener.accept(first, target));
    // While the first accept is in flight, the socket is its target.
    EXPECT_ERRC(listener.accept(second, target), invalid_argument);
    EXPECT_FALSE(second.in_flight());
    proact::tcp_listener other;
    proact::endpoint other_address;
    ASSERT_TRUE(listen_on_loopback(port_, other, other_address));
    EXPECT_ERRC(other.accept(second, target), invalid_argument);
    EXPECT_FALSE(second.in_flight());
    // Two clients connect: the first accept takes one, the other waits in
    // the backlog and goes with the listener.
    proact::tcp_socket c1;
    proact::tcp_socket c2;
    proact::operation connect1;
    proact::operation connect2;
    for (auto* c : {&c1, &c2}) {
      ASSERT_OK(c->open(proact::address_family::ipv4));
      ASSERT_OK(port_.associate(*c, 45));
    }
    ASSERT_OK(c1.connect(connect1, address));
    ASSERT_OK(c2.connect(connect2, address));
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_for(port_, {&first, &connect1, &connect2}, got));
    EXPECT_OK(completion_of(got, &first).error);
    EXPECT_TRUE(target.is_open());
    // Once the accept completed the socket is an ordinary connected socket.
    EXPECT_ERRC(listener.accept(second, target), invalid_argument);
    ASSERT_OK(port_.associate(target, 46));
    ASSERT_OK(other.close());
    EXPECT_TRUE(stays_idle(port_));
  }
  ASSERT_OK(listener.close());
  // Everything opened in the block is closed again: no accepted descriptor leaked.
  EXPECT_TRUE(spin_until([&] { return open_handle_count() <= before; }, 2000ms))
      << open_handle_count() << " handles open, " << before << " before";
}

TEST_F(Item24_ConnectionState, AnAcceptTargetIsFreeAgainAfterItsAcceptFailed) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket target;
  proact::operation op;
  ASSERT_OK(listener.accept(op, target));
  ASSERT_OK(listener.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_ERRC(c.error, operation_aborted);
  EXPECT_FALSE(target.is_open());
  // The same socket can be the target of another accept.
  ASSERT_OK(listener.accept(op, target));
  proact::tcp_socket client;
  ASSERT_OK(client.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(client, 47));
  proact::operation connect_op;
  ASSERT_OK(client.connect(connect_op, address));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&op, &connect_op}, got));
  EXPECT_OK(completion_of(got, &op).error);
  EXPECT_TRUE(target.is_open());
}

}  // namespace
}  // namespace proact_test
