// Golden traces of TCP streams and of the port itself: accept/connect,
// recv/send order, end of stream, reset, close with pending operations, port
// close, post, zero-byte recv, skip-on-success, shutdown, disconnect. The
// expected traces are tests/conformance/golden/<scenario>.trace.
#include <cstdint>
#include <limits>
#include <string>
#include <thread>

#include "golden_fixture.hpp"

namespace proact_test {
namespace {

// Keys of the watched handles (the trace shows them).
constexpr std::uintptr_t listener = 1;
constexpr std::uintptr_t client = 2;
constexpr std::uintptr_t refused_client = 3;
constexpr std::uintptr_t server = 7;
constexpr std::uintptr_t other_server = 8;

TEST_F(Golden, AcceptConnect) {
  // A pending accept completes when a peer connects.
  proact::tcp_listener l;
  proact::endpoint l_address;
  ASSERT_TRUE(listen_on_loopback(port_, l, l_address, proact::address_family::ipv4, listener));
  proact::tcp_socket accepted;
  proact::endpoint accepted_from;
  proact::operation accept_op;
  t_.start("accept#1", accept_op, l.accept(accept_op, accepted, &accepted_from));
  t_.idle(port_);
  proact::tcp_socket peer;
  ASSERT_OK(peer.open(proact::address_family::ipv4));
  ASSERT_OK(peer_port_.associate(peer, 100));
  proact::operation peer_connect;
  ASSERT_OK(peer.connect(peer_connect, l_address));
  proact::completion c;
  ASSERT_TRUE(wait_one(peer_port_, c));
  ASSERT_FALSE(c.error) << describe(c.error);
  t_.next(port_);
  std::error_code ec;
  t_.note(std::string("accept#1 peer address is the connecting socket's: ") +
          (accepted_from == peer.local_endpoint(ec) ? "yes" : "no"));
  t_.note(std::string("accept#1 socket open: ") + (accepted.is_open() ? "yes" : "no") +
          ", associated: " + (accepted.is_associated() ? "yes" : "no"));

  // An accept started while a connection waits completes with it.
  proact::tcp_socket peer2;
  ASSERT_OK(peer2.open(proact::address_family::ipv4));
  ASSERT_OK(peer_port_.associate(peer2, 101));
  ASSERT_OK(peer2.connect(peer_connect, l_address));
  ASSERT_TRUE(wait_one(peer_port_, c));
  ASSERT_FALSE(c.error) << describe(c.error);
  proact::tcp_socket accepted2;
  t_.start("accept#2", accept_op, l.accept(accept_op, accepted2));
  t_.next(port_);

  // A connect from the watched port (nobody accepts: the connection waits in
  // the peer listener's backlog).
  proact::tcp_listener peer_listener;
  proact::endpoint peer_address;
  ASSERT_TRUE(listen_on_loopback(peer_port_, peer_listener, peer_address));
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, client));
  proact::operation connect_op;
  t_.start("connect#1", connect_op, s.connect(connect_op, peer_address));
  t_.next(port_);

  // A connect to a closed port is refused, through the port.
  proact::endpoint closed;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, closed));
  proact::tcp_socket refused;
  ASSERT_OK(refused.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(refused, refused_client));
  t_.start("connect#2", connect_op, refused.connect(connect_op, closed));
  t_.next(port_);
  t_.idle(port_);
  expect_trace("accept_connect");
}

TEST_F(Golden, RecvSendOrder) {
  tcp_pair pair;  // server watched, client is the peer
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;

  // Three pending recvs take the next bytes of the stream in start order.
  char a[4];
  char b[4];
  char d[16];
  proact::operation r1;
  proact::operation r2;
  proact::operation r3;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(a)));
  t_.start("recv#2", r2, s.recv(r2, proact::make_buffer(b)));
  t_.start("recv#3", r3, s.recv(r3, proact::make_buffer(d)));
  t_.idle(port_);
  peer_sends(pair.client, "abcdefghij");
  t_.next(port_);
  t_.next(port_);
  t_.next(port_);
  t_.data("recv#1", a, 4);
  t_.data("recv#2", b, 4);
  t_.data("recv#3", d, 2);

  // Sends complete in start order; the peer reads them in that order.
  proact::operation s1;
  proact::operation s2;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("12345", 5)));
  t_.start("send#2", s2, s.send(s2, proact::make_buffer("678", 3)));
  t_.next(port_);
  t_.next(port_);
  peer_receives(pair.client, 8);

  // A recv started while data waits completes with what is there.
  peer_sends(pair.client, "xyz");
  proact::operation r4;
  t_.start("recv#4", r4, s.recv(r4, proact::make_buffer(d)));
  t_.next(port_);
  t_.data("recv#4", d, 3);
  t_.idle(port_);
  expect_trace("recv_send_order");
}

TEST_F(Golden, EndOfStream) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  char in1[16];
  char in2[16];
  proact::operation r1;
  proact::operation r2;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in1)));
  t_.start("recv#2", r2, s.recv(r2, proact::make_buffer(in2)));
  // The peer's last bytes, then its FIN.
  peer_sends(pair.client, "bye");
  ASSERT_OK(pair.client.shutdown_send());
  t_.next(port_);
  t_.next(port_);
  t_.data("recv#1", in1, 3);
  // Every later recv, and a zero-byte recv, gets eof too.
  proact::operation r3;
  t_.start("recv#3", r3, s.recv(r3, proact::make_buffer(in1)));
  t_.next(port_);
  proact::operation probe;
  t_.start("probe#1", probe, s.recv(probe, proact::buffer{nullptr, 0}));
  t_.next(port_);
  // Our side still sends.
  proact::operation s1;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("still", 5)));
  t_.next(port_);
  peer_receives(pair.client, 5);
  t_.idle(port_);
  expect_trace("eof");
}

TEST_F(Golden, ResetByThePeer) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  // Bytes the peer never reads: its close then resets the connection.
  proact::operation s1;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("unread", 6)));
  t_.next(port_);
  char in[16];
  proact::operation r1;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in)));
  t_.idle(port_);
  std::this_thread::sleep_for(20ms);  // the bytes are in the peer's buffer
  ASSERT_OK(pair.client.close());
  t_.next(port_);
  t_.idle(port_);
  expect_trace("reset");
}

TEST_F(Golden, AResetStaysReported) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  proact::operation s1;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("unread", 6)));
  t_.next(port_);
  // Two recvs wait; the peer resets the connection.
  char in1[16];
  char in2[16];
  proact::operation r1;
  proact::operation r2;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in1)));
  t_.start("recv#2", r2, s.recv(r2, proact::make_buffer(in2)));
  t_.idle(port_);
  std::this_thread::sleep_for(20ms);  // the bytes are in the peer's buffer
  ASSERT_OK(pair.client.close());
  t_.next(port_);
  t_.next(port_);
  // Everything later reports the same reset.
  proact::operation r3;
  t_.start("recv#3", r3, s.recv(r3, proact::make_buffer(in1)));
  t_.next(port_);
  proact::operation s2;
  t_.start("send#2", s2, s.send(s2, proact::make_buffer("late", 4)));
  t_.next(port_);
  t_.idle(port_);
  expect_trace("sticky_reset");
}

TEST_F(Golden, SendAfterShutdown) {
  tcp_pair pair;  // client watched, server is the peer
  connect(pair, port_, client, peer_port_, 100);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.client;
  proact::operation s1;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("data", 4)));
  t_.call("shutdown_send", s.shutdown_send());
  t_.next(port_);
  proact::operation s2;
  t_.start("send#2", s2, s.send(s2, proact::make_buffer("late", 4)));
  t_.next(port_);
  peer_receives_until_eof(pair.server);
  t_.idle(port_);
  expect_trace("send_after_shutdown");
}

TEST_F(Golden, ReconnectAfterRefusal) {
  proact::endpoint closed;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, closed));
  proact::tcp_listener peer_listener;
  proact::endpoint peer_address;
  ASSERT_TRUE(listen_on_loopback(peer_port_, peer_listener, peer_address));
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, client));
  proact::operation op;
  t_.start("connect#1", op, s.connect(op, closed));
  t_.next(port_);
  t_.start("connect#2", op, s.connect(op, closed));
  t_.next(port_);
  // The same socket connects (nobody accepts: it waits in the backlog).
  t_.start("connect#3", op, s.connect(op, peer_address));
  t_.next(port_);
  t_.idle(port_);
  expect_trace("reconnect_after_refusal");
}

TEST_F(Golden, CloseWithPendingOperations) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  char in1[8];
  char in2[8];
  proact::operation r1;
  proact::operation r2;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in1)));
  t_.start("recv#2", r2, s.recv(r2, proact::make_buffer(in2)));
  t_.idle(port_);
  t_.call("close server", s.close());
  t_.next(port_);
  t_.next(port_);
  // The closed handle refuses new work; nothing is left to cancel.
  proact::operation r3;
  t_.start("recv#3", r3, s.recv(r3, proact::make_buffer(in1)));
  t_.call("cancel recv#1", s.cancel(r1));
  t_.call("close server again", s.close());

  // A result that completed before the close keeps its value.
  tcp_pair second;
  connect(second, peer_port_, 101, port_, other_server);
  if (HasFatalFailure()) return;
  peer_sends(second.client, "kept");
  proact::operation r4;
  t_.start("recv#4", r4, second.server.recv(r4, proact::make_buffer(in1)));
  std::this_thread::sleep_for(20ms);
  t_.call("close other server", second.server.close());
  t_.next(port_);
  t_.data("recv#4", in1, 4);

  // A listener's pending accept.
  proact::tcp_listener l;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, l, address, proact::address_family::ipv4, listener));
  proact::tcp_socket peer;
  proact::operation accept_op;
  t_.start("accept#1", accept_op, l.accept(accept_op, peer));
  t_.call("close listener", l.close());
  t_.next(port_);
  t_.note(std::string("accept#1 peer open: ") + (peer.is_open() ? "yes" : "no"));
  t_.idle(port_);
  expect_trace("close_with_pending");
}

TEST_F(Golden, PortClose) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  ASSERT_OK(port_.post(1, 10, nullptr));
  proact::operation posted;
  t_.posted("post#1", posted, port_.post(2, 20, &posted));
  char in1[8];
  char in2[8];
  proact::operation r1;
  proact::operation r2;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in1)));
  t_.start("recv#2", r2, s.recv(r2, proact::make_buffer(in2)));
  t_.call("close port", port_.close());
  // What was queued, then what the close aborted, then port_closed at once.
  t_.next(port_);
  t_.next(port_);
  t_.next(port_);
  t_.next(port_);
  t_.next(port_);
  t_.next(port_, proact::timeout{30000});  // at once, not after 30 s
  // New work is refused.
  t_.call("post", port_.post(3, 30, nullptr));
  proact::operation r3;
  t_.start("recv#3", r3, s.recv(r3, proact::make_buffer(in1)));
  proact::tcp_socket late;
  ASSERT_OK(late.open(proact::address_family::ipv4));
  t_.call("associate", port_.associate(late, 9));
  t_.call("close port again", port_.close());
  t_.next(port_);
  expect_trace("port_close");
}

TEST_F(Golden, Post) {
  constexpr std::uintptr_t max_key = std::numeric_limits<std::uintptr_t>::max();
  constexpr std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
  ASSERT_OK(port_.post(0, 0, nullptr));
  proact::operation first;
  proact::operation second;
  t_.posted("post#1", first, port_.post(max_key, max_bytes, &first));
  t_.posted("post#2", second, port_.post(5, 1, &second));
  ASSERT_OK(port_.post(6, 2, nullptr));
  // In flight until dequeued: a second post of the same operation is refused.
  t_.call("post post#2 again", port_.post(7, 3, &second));
  t_.next(port_);
  t_.next(port_);
  t_.next(port_);
  t_.next(port_);
  t_.idle(port_);
  // Dequeued: it may be posted again.
  t_.posted("post#3", second, port_.post(8, 4, &second));
  t_.next(port_);
  expect_trace("post");
}

TEST_F(Golden, ZeroByteRecv) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  proact::operation probe;
  t_.start("probe#1", probe, s.recv(probe, proact::buffer{nullptr, 0}));
  t_.idle(port_);
  peer_sends(pair.client, "data");
  t_.next(port_);
  // Nothing was consumed: another probe completes at once, then a recv gets it all.
  t_.start("probe#2", probe, s.recv(probe, proact::buffer{nullptr, 0}));
  t_.next(port_);
  char in[16];
  proact::operation r1;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in)));
  t_.next(port_);
  t_.data("recv#1", in, 4);
  ASSERT_OK(pair.client.shutdown_send());
  t_.start("probe#3", probe, s.recv(probe, proact::buffer{nullptr, 0}));
  t_.next(port_);
  t_.idle(port_);
  expect_trace("zero_byte_recv");
}

TEST_F(Golden, PooledRecv) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  proact::buffer_pool pool;
  ASSERT_OK(pool.open(port_, 1, 8));
  auto note_buffer = [&](const std::string& label, const proact::operation& op) {
    t_.note(label + (op.pooled() ? " has a buffer" : " has no buffer"));
  };
  proact::operation p1;
  t_.start("pooled#1", p1, s.recv_pooled(p1, pool));
  t_.idle(port_);
  peer_sends(pair.client, "data");
  t_.next(port_);
  note_buffer("pooled#1", p1);
  if (p1.pooled()) t_.data("pooled#1", p1.pooled().data.data, 4);
  // The pool's one buffer is lent: pool_empty, nothing consumed.
  peer_sends(pair.client, "more");
  proact::operation p2;
  t_.start("pooled#2", p2, s.recv_pooled(p2, pool));
  t_.next(port_);
  note_buffer("pooled#2", p2);
  t_.call("release pooled#1", pool.release(p1.pooled().id));
  t_.call("release pooled#1 again", pool.release(p1.pooled().id));
  t_.start("pooled#3", p2, s.recv_pooled(p2, pool));
  t_.next(port_);
  if (p2.pooled()) t_.data("pooled#3", p2.pooled().data.data, 4);
  t_.call("release pooled#3", pool.release(p2.pooled().id));
  // Cancelled: no buffer.
  t_.start("pooled#4", p1, s.recv_pooled(p1, pool));
  t_.idle(port_);
  t_.call("cancel pooled#4", s.cancel(p1));
  t_.next(port_);
  note_buffer("pooled#4", p1);
  // The end of the stream: eof, no buffer.
  ASSERT_OK(pair.client.shutdown_send());
  t_.start("pooled#5", p1, s.recv_pooled(p1, pool));
  t_.next(port_);
  note_buffer("pooled#5", p1);
  t_.idle(port_);
  expect_trace("pooled_recv");
}

TEST_F(Golden, SkipOnSuccess) {
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.server;
  proact::tcp_socket unassociated;
  ASSERT_OK(unassociated.open(proact::address_family::ipv4));
  t_.call("skip_completion_on_success unassociated", unassociated.skip_completion_on_success());
  t_.call("skip_completion_on_success server", s.skip_completion_on_success());

  // Data waiting: the result comes back from the start call, no packet.
  peer_sends(pair.client, "abc");
  char in[16];
  proact::operation r1;
  t_.start_skipping("recv#1", r1, s.recv(r1, proact::make_buffer(in)));
  t_.data("recv#1", in, 3);
  t_.idle(port_);
  // Nothing waiting: pending, then through the port.
  proact::operation r2;
  t_.start_skipping("recv#2", r2, s.recv(r2, proact::make_buffer(in)));
  t_.idle(port_);
  peer_sends(pair.client, "de");
  t_.next(port_);
  // A send that fits the socket buffer.
  proact::operation s1;
  t_.start_skipping("send#1", s1, s.send(s1, proact::make_buffer("12345", 5)));
  t_.idle(port_);
  peer_receives(pair.client, 5);
  // End of stream at start is a result too.
  ASSERT_OK(pair.client.shutdown_send());
  std::this_thread::sleep_for(20ms);
  proact::operation r3;
  t_.start_skipping("recv#3", r3, s.recv(r3, proact::make_buffer(in)));
  t_.idle(port_);
  expect_trace("skip_on_success");
}

TEST_F(Golden, ShutdownSend) {
  tcp_pair pair;  // client watched, server is the peer
  connect(pair, port_, client, peer_port_, 100);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.client;
  proact::operation s1;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("last words", 10)));
  t_.call("shutdown_send", s.shutdown_send());
  t_.next(port_);
  peer_receives_until_eof(pair.server);
  // Receiving continues.
  char in[16];
  proact::operation r1;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in)));
  t_.idle(port_);
  peer_sends(pair.server, "reply");
  t_.next(port_);
  t_.data("recv#1", in, 5);
  ASSERT_OK(pair.server.close());
  proact::operation r2;
  t_.start("recv#2", r2, s.recv(r2, proact::make_buffer(in)));
  t_.next(port_);
  t_.idle(port_);
  expect_trace("shutdown_send");
}

TEST_F(Golden, Disconnect) {
  tcp_pair pair;  // client watched, server is the peer
  connect(pair, port_, client, peer_port_, 100);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.client;
  char in[16];
  proact::operation r1;
  t_.start("recv#1", r1, s.recv(r1, proact::make_buffer(in)));
  proact::operation s1;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("bye", 3)));
  t_.next(port_);
  // The pending recv is aborted; the disconnect waits for the peer's close.
  proact::operation d1;
  t_.start("disconnect#1", d1, s.disconnect(d1));
  t_.next(port_);
  t_.idle(port_);
  peer_receives_until_eof(pair.server);
  t_.idle(port_);
  ASSERT_OK(pair.server.close());
  t_.next(port_);
  t_.note(std::string("socket open: ") + (s.is_open() ? "yes" : "no"));

  // The same socket connects again, with the same key.
  proact::tcp_listener l;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(peer_port_, l, address));
  proact::tcp_socket accepted;
  proact::operation accept_op;
  ASSERT_OK(l.accept(accept_op, accepted));
  proact::operation c1;
  t_.start("connect#1", c1, s.connect(c1, address));
  t_.next(port_);
  proact::completion c;
  ASSERT_TRUE(wait_one(peer_port_, c));
  ASSERT_FALSE(c.error) << describe(c.error);
  ASSERT_OK(peer_port_.associate(accepted, 101));
  proact::operation s2;
  t_.start("send#2", s2, s.send(s2, proact::make_buffer("again", 5)));
  t_.next(port_);
  peer_receives(accepted, 5);
  t_.idle(port_);
  expect_trace("disconnect");
}

}  // namespace
}  // namespace proact_test
