// Item 21: skip_completion_on_success (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).
#include <string>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

class Item21_SkipOnSuccess : public PairTest {
 protected:
  // Sends `data` from the client and waits until the server's socket holds it.
  void make_data_wait(const char* data, std::size_t size) {
    ASSERT_TRUE(send_all(port_, pair_.client, data, size));
    std::this_thread::sleep_for(20ms);
  }
};

TEST_F(Item21_SkipOnSuccess, RequiresAnAssociatedHandle) {
  proact::tcp_socket never_opened;
  EXPECT_ERRC(never_opened.skip_completion_on_success(), bad_handle);
  proact::tcp_socket unassociated;
  ASSERT_OK(unassociated.open(proact::address_family::ipv4));
  EXPECT_ERRC(unassociated.skip_completion_on_success(), not_associated);
  proact::udp_socket udp;
  ASSERT_OK(udp.open(proact::address_family::ipv4));
  EXPECT_ERRC(udp.skip_completion_on_success(), not_associated);
  ASSERT_OK(pair_.server.skip_completion_on_success());
  ASSERT_OK(pair_.server.skip_completion_on_success());  // already on: stays on
}

TEST_F(Item21_SkipOnSuccess, RecvWithDataWaitingReturnsItsResultAtStartAndQueuesNothing) {
  ASSERT_OK(pair_.server.skip_completion_on_success());
  make_data_wait("hello", 5);
  char in[16] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  ASSERT_TRUE(op.completed_at_start());
  EXPECT_FALSE(op.in_flight());
  const proact::completion r = op.result();
  EXPECT_EQ(r.op, &op);
  EXPECT_EQ(r.key, server_key);
  EXPECT_EQ(r.bytes, 5u);
  EXPECT_FALSE(r.error) << describe(r.error);
  EXPECT_EQ(text(in, 5), "hello");
  EXPECT_TRUE(stays_idle(port_));  // no packet
  // Not in flight: it may be started again at once.
  make_data_wait("again", 5);
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_TRUE(op.completed_at_start());
  EXPECT_EQ(op.result().bytes, 5u);
  EXPECT_EQ(text(in, 5), "again");
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item21_SkipOnSuccess, RecvThatGoesPendingCompletesThroughThePort) {
  ASSERT_OK(pair_.server.skip_completion_on_success());
  char in[16] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_FALSE(op.completed_at_start());
  EXPECT_TRUE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("late", 4)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &op}, got));
  const proact::completion c = completion_of(got, &op);
  EXPECT_EQ(c.key, server_key);
  EXPECT_EQ(c.bytes, 4u);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_FALSE(op.in_flight());
  EXPECT_FALSE(op.completed_at_start());
}

TEST_F(Item21_SkipOnSuccess, SendThatFitsTheSocketBufferCompletesAtStart) {
  ASSERT_OK(pair_.client.skip_completion_on_success());
  proact::operation op;
  ASSERT_OK(pair_.client.send(op, proact::make_buffer("fits", 4)));
  ASSERT_TRUE(op.completed_at_start());
  EXPECT_FALSE(op.in_flight());
  EXPECT_EQ(op.result().key, client_key);
  EXPECT_EQ(op.result().bytes, 4u);
  EXPECT_FALSE(op.result().error) << describe(op.result().error);
  EXPECT_TRUE(stays_idle(port_));
  char in[4] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 4));  // the server is not in the mode
  EXPECT_EQ(text(in, 4), "fits");
}

TEST_F(Item21_SkipOnSuccess, EndOfStreamAtStartIsAResultToo) {
  ASSERT_OK(pair_.server.skip_completion_on_success());
  ASSERT_OK(pair_.client.shutdown_send());
  std::this_thread::sleep_for(20ms);
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  ASSERT_TRUE(op.completed_at_start());
  EXPECT_EQ(op.result().bytes, 0u);
  EXPECT_ERRC(op.result().error, eof);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item21_SkipOnSuccess, OtherHandlesAndPostsStillQueuePackets) {
  ASSERT_OK(pair_.server.skip_completion_on_success());
  // The client is not in the mode: its immediate send still queues a packet.
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("abc", 3)));
  EXPECT_FALSE(send_op.completed_at_start());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &send_op);
  proact::operation posted;
  ASSERT_OK(port_.post(3, 4, &posted));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &posted);
}

TEST_F(Item21_SkipOnSuccess, AcceptWithAConnectionWaitingCompletesAtStart) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  ASSERT_OK(listener.skip_completion_on_success());
  proact::tcp_socket client;
  ASSERT_OK(client.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(client, 0xAB));
  proact::operation connect_op;
  ASSERT_OK(client.connect(connect_op, address));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));  // the client is not in the mode
  ASSERT_EQ(c.op, &connect_op);
  ASSERT_FALSE(c.error) << describe(c.error);
  std::this_thread::sleep_for(20ms);
  proact::tcp_socket peer;
  proact::endpoint peer_address;
  proact::operation op;
  ASSERT_OK(listener.accept(op, peer, &peer_address));
  ASSERT_TRUE(op.completed_at_start());
  EXPECT_EQ(op.result().key, listener_key);
  EXPECT_FALSE(op.result().error) << describe(op.result().error);
  EXPECT_TRUE(peer.is_open());
  std::error_code ec;
  EXPECT_EQ(peer_address, client.local_endpoint(ec));
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item21_SkipOnSuccess, UdpRecvFromWithADatagramWaitingCompletesAtStart) {
  proact::udp_socket a;
  proact::udp_socket b;
  proact::endpoint a_address;
  proact::endpoint b_address;
  ASSERT_TRUE(open_udp_on_loopback(port_, a, a_address, proact::address_family::ipv4, udp_key_a));
  ASSERT_TRUE(open_udp_on_loopback(port_, b, b_address, proact::address_family::ipv4, udp_key_b));
  ASSERT_OK(b.skip_completion_on_success());
  proact::operation send_op;
  ASSERT_OK(a.send_to(send_op, proact::make_buffer("0123456789", 10), b_address));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &send_op);
  std::this_thread::sleep_for(20ms);
  char in[4] = {};
  proact::endpoint source;
  proact::operation op;
  ASSERT_OK(b.recv_from(op, proact::make_buffer(in), &source));
  // Every outcome known at start is returned there, a truncation included.
  ASSERT_TRUE(op.completed_at_start());
  EXPECT_EQ(op.result().bytes, 4u);
  EXPECT_ERRC(op.result().error, message_size);
  EXPECT_EQ(source, a_address);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item21_SkipOnSuccess, FileOperationCompletesAtStartOrThroughThePortExactlyOnce) {
  temp_directory dir;
  ASSERT_TRUE(dir.ok()) << dir.why();
  proact::file f;
  using proact::file_mode;
  ASSERT_OK(f.open(dir.path("skip"), file_mode::read | file_mode::write | file_mode::create));
  ASSERT_OK(port_.associate(f, file_key));
  ASSERT_OK(f.skip_completion_on_success());
  proact::operation op;
  ASSERT_OK(f.write_at(op, 0, proact::make_buffer("file data", 9)));
  proact::completion c = op.result();
  if (!op.completed_at_start()) {
    ASSERT_TRUE(wait_one(port_, c));
  }
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, file_key);
  EXPECT_EQ(c.bytes, 9u);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_TRUE(stays_idle(port_));
  char in[9] = {};
  ASSERT_OK(f.read_at(op, 0, proact::make_buffer(in)));
  c = op.result();
  if (!op.completed_at_start()) {
    ASSERT_TRUE(wait_one(port_, c));
  }
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, 9u);
  EXPECT_EQ(text(in, 9), "file data");
  EXPECT_TRUE(stays_idle(port_));
}

}  // namespace
}  // namespace proact_test
