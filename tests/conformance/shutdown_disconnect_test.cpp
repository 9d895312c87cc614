// Item 18: shutdown_send. Item 19: disconnect (DisconnectEx semantics).
#include <string>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

// A pair whose client completes on port_ and whose server (the peer) on
// peer_port_, so that the peer can be driven without touching port_.
class SplitPairTest : public PortTest {
 protected:
  void SetUp() override {
    PortTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_OK(peer_port_.open(options()));
    ASSERT_TRUE(connect_split_pair(port_, peer_port_, pair_, client_key, server_key));
  }

  proact::port peer_port_;
  tcp_pair pair_;
};

// ---- item 18: shutdown_send -------------------------------------------------------

class Item18_Shutdown : public SplitPairTest {};

TEST_F(Item18_Shutdown, PeerReadsEofAfterTheDataOfEarlierSends) {
  const std::vector<unsigned char> big = pattern(4 * 1024 * 1024, 41);
  proact::operation first;
  proact::operation second;
  ASSERT_OK(pair_.client.send(first, proact::const_buffer(big.data(), big.size())));
  ASSERT_OK(pair_.client.send(second, proact::make_buffer("end", 3)));
  // Returns at once; the FIN follows the two sends.
  ASSERT_OK(pair_.client.shutdown_send());
  waiter_thread sends(port_, 2, 60000ms);
  std::vector<unsigned char> received;
  ASSERT_TRUE(recv_until_eof(peer_port_, pair_.server, received, 60000ms));
  ASSERT_EQ(received.size(), big.size() + 3);
  EXPECT_EQ(first_mismatch(received.data(), big.size(), 0, 41), big.size());
  EXPECT_EQ(text(received.data() + big.size(), 3), "end");
  std::vector<proact::completion> got;
  ASSERT_TRUE(sends.join(got));
  EXPECT_EQ(got[0].op, &first);
  EXPECT_FALSE(got[0].error) << describe(got[0].error);
  EXPECT_EQ(got[0].bytes, big.size());
  EXPECT_EQ(got[1].op, &second);
  EXPECT_FALSE(got[1].error) << describe(got[1].error);
  EXPECT_TRUE(stays_idle(port_));  // shutdown_send itself queues nothing
}

TEST_F(Item18_Shutdown, ReceivingContinuesAfterTheShutdown) {
  char in[16] = {};
  proact::operation recv_op;
  ASSERT_OK(pair_.client.recv(recv_op, proact::make_buffer(in)));  // pending across it
  ASSERT_OK(pair_.client.shutdown_send());
  std::vector<unsigned char> received;
  ASSERT_TRUE(recv_until_eof(peer_port_, pair_.server, received));
  EXPECT_TRUE(received.empty());
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));  // our recv still waits
  ASSERT_TRUE(send_all(peer_port_, pair_.server, "reply", 5));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &recv_op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(text(in, c.bytes), "reply");
  // And the end of the peer's stream is seen as usual.
  ASSERT_OK(pair_.server.close());
  ASSERT_OK(pair_.client.recv(recv_op, proact::make_buffer(in)));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item18_Shutdown, UnconnectedSocketGivesNotConnected) {
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 5));
  EXPECT_ERRC(s.shutdown_send(), not_connected);
  proact::tcp_socket never_opened;
  EXPECT_ERRC(never_opened.shutdown_send(), bad_handle);
  EXPECT_TRUE(stays_idle(port_));
}

// ---- item 19: disconnect -------------------------------------------------------------

class Item19_Disconnect : public SplitPairTest {};

TEST_F(Item19_Disconnect, PeerReadsTheDataThenEofAndTheDisconnectWaitsForThePeersClose) {
  proact::operation send_op;
  proact::operation disconnect_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("bye", 3)));
  ASSERT_OK(pair_.client.disconnect(disconnect_op));
  std::vector<unsigned char> received;
  ASSERT_TRUE(recv_until_eof(peer_port_, pair_.server, received));
  EXPECT_EQ(text(received.data(), received.size()), "bye");
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &send_op);
  // The peer has not closed its side yet: the disconnect is still pending.
  EXPECT_TRUE(stays_idle(port_, proact::timeout{200}));
  EXPECT_TRUE(disconnect_op.in_flight());
  ASSERT_OK(pair_.server.close());
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &disconnect_op);
  EXPECT_EQ(c.key, client_key);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_TRUE(pair_.client.is_open());
  EXPECT_TRUE(pair_.client.is_associated());
}

TEST_F(Item19_Disconnect, LargeSendStartedBeforeItGoesFirst) {
  const std::vector<unsigned char> big = pattern(4 * 1024 * 1024, 42);
  proact::operation send_op;
  proact::operation disconnect_op;
  ASSERT_OK(pair_.client.send(send_op, proact::const_buffer(big.data(), big.size())));
  ASSERT_OK(pair_.client.disconnect(disconnect_op));
  waiter_thread client_side(port_, 2, 60000ms);
  std::vector<unsigned char> received;
  ASSERT_TRUE(recv_until_eof(peer_port_, pair_.server, received, 60000ms));
  ASSERT_EQ(received.size(), big.size());
  EXPECT_EQ(first_mismatch(received.data(), received.size(), 0, 42), received.size());
  ASSERT_OK(pair_.server.close());
  std::vector<proact::completion> got;
  ASSERT_TRUE(client_side.join(got));
  EXPECT_EQ(got[0].op, &send_op);
  EXPECT_FALSE(got[0].error) << describe(got[0].error);
  EXPECT_EQ(got[0].bytes, big.size());
  EXPECT_EQ(got[1].op, &disconnect_op);
  EXPECT_FALSE(got[1].error) << describe(got[1].error);
}

TEST_F(Item19_Disconnect, PendingRecvsCompleteWithOperationAborted) {
  char in1[8] = {};
  char in2[8] = {};
  proact::operation first;
  proact::operation second;
  ASSERT_OK(pair_.client.recv(first, proact::make_buffer(in1)));
  ASSERT_OK(pair_.client.recv(second, proact::make_buffer(in2)));
  proact::operation disconnect_op;
  ASSERT_OK(pair_.client.disconnect(disconnect_op));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_EQ(got[0].op, &first);
  EXPECT_ERRC(got[0].error, operation_aborted);
  EXPECT_EQ(got[0].bytes, 0u);
  EXPECT_EQ(got[1].op, &second);
  EXPECT_ERRC(got[1].error, operation_aborted);
  // The disconnect itself waits for the peer.
  EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));
  std::vector<unsigned char> received;
  ASSERT_TRUE(recv_until_eof(peer_port_, pair_.server, received));
  ASSERT_OK(pair_.server.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &disconnect_op);
  EXPECT_FALSE(c.error) << describe(c.error);
}

TEST_F(Item19_Disconnect, SocketConnectsAgainAndKeepsItsKey) {
  proact::operation disconnect_op;
  ASSERT_OK(pair_.client.disconnect(disconnect_op));
  std::vector<unsigned char> received;
  ASSERT_TRUE(recv_until_eof(peer_port_, pair_.server, received));
  ASSERT_OK(pair_.server.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &disconnect_op);
  ASSERT_FALSE(c.error) << describe(c.error);

  // A new listener; the same socket object, still associated.
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(peer_port_, listener, address));
  proact::tcp_socket accepted;
  proact::operation accept_op;
  ASSERT_OK(listener.accept(accept_op, accepted));
  proact::operation connect_op;
  ASSERT_OK(pair_.client.connect(connect_op, address));
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &connect_op);
  EXPECT_EQ(c.key, client_key);
  ASSERT_FALSE(c.error) << describe(c.error);
  ASSERT_TRUE(wait_one(peer_port_, c));
  ASSERT_EQ(c.op, &accept_op);
  ASSERT_FALSE(c.error) << describe(c.error);
  ASSERT_OK(peer_port_.associate(accepted, 77));
  std::error_code ec;
  EXPECT_EQ(pair_.client.remote_endpoint(ec), address);

  // Data flows on the new connection, with the old key.
  ASSERT_TRUE(send_all(port_, pair_.client, "again", 5));
  char in[5] = {};
  ASSERT_TRUE(recv_exactly(peer_port_, accepted, in, 5));
  EXPECT_EQ(text(in, 5), "again");
  ASSERT_TRUE(send_all(peer_port_, accepted, "back", 4));
  proact::operation recv_op;
  ASSERT_OK(pair_.client.recv(recv_op, proact::make_buffer(in)));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &recv_op);
  EXPECT_EQ(c.key, client_key);
  EXPECT_EQ(text(in, c.bytes), "back");
}

TEST_F(Item19_Disconnect, AfterThePeerClosedItCompletesWithoutWaiting) {
  ASSERT_OK(pair_.server.close());
  std::this_thread::sleep_for(20ms);
  proact::operation op;
  ASSERT_OK(pair_.client.disconnect(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c, proact::timeout{1000}));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
}

TEST_F(Item19_Disconnect, RecvAfterTheDisconnectReportsNotConnectedOnce) {
  proact::operation op;
  ASSERT_OK(pair_.client.disconnect(op));
  std::vector<unsigned char> received;
  ASSERT_TRUE(recv_until_eof(peer_port_, pair_.server, received));
  ASSERT_OK(pair_.server.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  ASSERT_FALSE(c.error) << describe(c.error);
  // Not connected any more (item 1: at start or as the completion, once).
  char in[8] = {};
  const std::error_code started = pair_.client.recv(op, proact::make_buffer(in));
  if (started) {
    EXPECT_ERRC(started, not_connected);
  } else {
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    EXPECT_ERRC(c.error, not_connected);
  }
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item19_Disconnect, UnconnectedSocketReportsNotConnectedOnce) {
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 6));
  proact::operation op;
  const std::error_code started = s.disconnect(op);
  if (started) {
    EXPECT_ERRC(started, not_connected);
    EXPECT_FALSE(op.in_flight());
  } else {
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    EXPECT_EQ(c.key, 6u);
    EXPECT_ERRC(c.error, not_connected);
  }
  EXPECT_TRUE(stays_idle(port_));
}

}  // namespace
}  // namespace proact_test
