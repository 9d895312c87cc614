// Item 15: UDP datagrams (send_to, recv_from), IPv4 and IPv6.
#include <array>
#include <cstring>
#include <string>

#include "fixture.hpp"

namespace proact_test {
namespace {

// Two UDP sockets on the loopback address of one family, both on the port:
// a (key udp_key_a) and b (key udp_key_b).
class Item15_Udp : public PortTest {
 protected:
  // Opens both sockets; false if the family is unusable here (the test is
  // then skipped).
  void open_both(proact::address_family family) {
    if (family == proact::address_family::ipv6) {
      std::string why;
      if (!ipv6_loopback_available(why)) GTEST_SKIP() << why;
    }
    ASSERT_TRUE(open_udp_on_loopback(port_, a_, a_address_, family, udp_key_a));
    ASSERT_TRUE(open_udp_on_loopback(port_, b_, b_address_, family, udp_key_b));
  }

  // Sends one datagram from a to b and waits for the send's completion.
  void send_a_to_b(const void* data, std::size_t size) {
    proact::operation op;
    ASSERT_OK(a_.send_to(op, proact::const_buffer(data, size), b_address_));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    ASSERT_EQ(c.op, &op);
    ASSERT_EQ(c.key, udp_key_a);
    ASSERT_FALSE(c.error) << describe(c.error);
    ASSERT_EQ(c.bytes, size);
  }

  void exchange_with_the_source_address(proact::address_family family) {
    open_both(family);
    if (HasFatalFailure() || IsSkipped()) return;
    char in[32] = {};
    proact::endpoint source;
    proact::operation recv_op;
    ASSERT_OK(b_.recv_from(recv_op, proact::make_buffer(in), &source));
    EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));  // pending until a datagram comes
    proact::operation send_op;
    ASSERT_OK(a_.send_to(send_op, proact::make_buffer("datagram", 8), b_address_));
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_for(port_, {&send_op, &recv_op}, got));
    const proact::completion sent = completion_of(got, &send_op);
    EXPECT_EQ(sent.key, udp_key_a);
    EXPECT_EQ(sent.bytes, 8u);
    EXPECT_FALSE(sent.error) << describe(sent.error);
    const proact::completion received = completion_of(got, &recv_op);
    EXPECT_EQ(received.key, udp_key_b);
    EXPECT_EQ(received.bytes, 8u);
    EXPECT_FALSE(received.error) << describe(received.error);
    EXPECT_EQ(text(in, 8), "datagram");
    EXPECT_EQ(source, a_address_) << source.to_string() << " vs " << a_address_.to_string();
    EXPECT_EQ(source.family(), family);
  }

  proact::udp_socket a_;
  proact::udp_socket b_;
  proact::endpoint a_address_;
  proact::endpoint b_address_;
};

TEST_F(Item15_Udp, SendToAndRecvFromGiveTheSourceAddressIPv4) {
  exchange_with_the_source_address(proact::address_family::ipv4);
}

TEST_F(Item15_Udp, SendToAndRecvFromGiveTheSourceAddressIPv6) {
  exchange_with_the_source_address(proact::address_family::ipv6);
}

TEST_F(Item15_Udp, EachRecvFromGetsOneWholeDatagram) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  send_a_to_b("one", 3);
  send_a_to_b("second", 6);
  send_a_to_b("3", 1);
  char in[64] = {};
  const char* want[] = {"one", "second", "3"};
  for (const char* w : want) {
    proact::endpoint source;
    proact::operation op;
    ASSERT_OK(b_.recv_from(op, proact::make_buffer(in), &source));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    ASSERT_EQ(c.op, &op);
    EXPECT_FALSE(c.error) << describe(c.error);
    EXPECT_EQ(text(in, c.bytes), w);  // one datagram, not the stream of them
    EXPECT_EQ(source, a_address_);
  }
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item15_Udp, TruncatedDatagramGivesMessageSizeAndTheBytesThatFit) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  send_a_to_b("0123456789", 10);
  send_a_to_b("next", 4);
  char small[4] = {};
  proact::endpoint source;
  proact::operation op;
  ASSERT_OK(b_.recv_from(op, proact::make_buffer(small), &source));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  EXPECT_EQ(c.key, udp_key_b);
  EXPECT_ERRC(c.error, message_size);
  EXPECT_EQ(c.bytes, 4u);
  EXPECT_EQ(text(small, 4), "0123");
  EXPECT_EQ(source, a_address_);
  // The rest of the datagram is gone: the next recv_from gets the next one.
  char in[16] = {};
  ASSERT_OK(b_.recv_from(op, proact::make_buffer(in), &source));
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(text(in, c.bytes), "next");
}

TEST_F(Item15_Udp, PendingRecvFromIsTruncatedToo) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  char small[3] = {};
  proact::operation recv_op;
  ASSERT_OK(b_.recv_from(recv_op, proact::make_buffer(small)));  // no source wanted
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  proact::operation send_op;
  ASSERT_OK(a_.send_to(send_op, proact::make_buffer("abcdef", 6), b_address_));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &recv_op}, got));
  const proact::completion c = completion_of(got, &recv_op);
  EXPECT_ERRC(c.error, message_size);
  EXPECT_EQ(c.bytes, 3u);
  EXPECT_EQ(text(small, 3), "abc");
}

TEST_F(Item15_Udp, EmptyDatagramCompletesWithZeroBytesAndNoError) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  char in[8] = {};
  proact::endpoint source;
  proact::operation recv_op;
  ASSERT_OK(b_.recv_from(recv_op, proact::make_buffer(in), &source));
  proact::operation send_op;
  ASSERT_OK(a_.send_to(send_op, proact::const_buffer(in, 0), b_address_));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &recv_op}, got));
  const proact::completion sent = completion_of(got, &send_op);
  EXPECT_FALSE(sent.error) << describe(sent.error);
  EXPECT_EQ(sent.bytes, 0u);
  const proact::completion c = completion_of(got, &recv_op);
  EXPECT_FALSE(c.error) << describe(c.error);  // not eof: datagrams have no end
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_EQ(source, a_address_);
  // The empty datagram was consumed: the next one is what follows it.
  send_a_to_b("after", 5);
  proact::completion next;
  ASSERT_OK(b_.recv_from(recv_op, proact::make_buffer(in), &source));
  ASSERT_TRUE(wait_one(port_, next));
  EXPECT_EQ(next.op, &recv_op);
  EXPECT_EQ(text(in, next.bytes), "after");
}

TEST_F(Item15_Udp, ScatterGatherKeepsTheBufferOrder) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  const std::array<proact::const_buffer, 3> out = {
      proact::make_buffer("abc", 3), proact::make_buffer("", 0), proact::make_buffer("defgh", 5)};
  proact::operation send_op;
  ASSERT_OK(a_.send_to(send_op, out, b_address_));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &send_op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 8u);  // one datagram of every buffer
  char first[2] = {};
  char second[16] = {};
  const std::array<proact::buffer, 2> in = {proact::make_buffer(first),
                                            proact::make_buffer(second)};
  proact::endpoint source;
  proact::operation recv_op;
  ASSERT_OK(b_.recv_from(recv_op, in, &source));
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &recv_op);
  EXPECT_FALSE(c.error) << describe(c.error);
  ASSERT_EQ(c.bytes, 8u);
  EXPECT_EQ(text(first, 2), "ab");
  EXPECT_EQ(text(second, 6), "cdefgh");
}

TEST_F(Item15_Udp, ScatterRecvFromOfALargerDatagramIsTruncated) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  send_a_to_b("0123456789", 10);
  char first[3] = {};
  char second[4] = {};
  const std::array<proact::buffer, 2> in = {proact::make_buffer(first),
                                            proact::make_buffer(second)};
  proact::operation op;
  ASSERT_OK(b_.recv_from(op, in));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_ERRC(c.error, message_size);
  EXPECT_EQ(c.bytes, 7u);
  EXPECT_EQ(text(first, 3), "012");
  EXPECT_EQ(text(second, 4), "3456");
}

TEST_F(Item15_Udp, DatagramTooLargeToSendCompletesWithMessageSize) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  const std::vector<unsigned char> huge(70000, 'h');  // above UDP's 65,507-byte limit
  proact::operation op;
  ASSERT_OK(a_.send_to(op, proact::const_buffer(huge.data(), huge.size()), b_address_));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));  // an outcome of the I/O: a completion
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, udp_key_a);
  EXPECT_ERRC(c.error, message_size);
  EXPECT_EQ(c.bytes, 0u);
  // Nothing arrived.
  char in[8] = {};
  proact::operation recv_op;
  ASSERT_OK(b_.recv_from(recv_op, proact::make_buffer(in)));
  EXPECT_TRUE(stays_idle(port_));
  ASSERT_OK(b_.cancel(recv_op));
  ASSERT_TRUE(wait_one(port_, c));
}

TEST_F(Item15_Udp, SendToAnEndpointOfAnotherFamilyIsRefused) {
  open_both(proact::address_family::ipv4);
  if (HasFatalFailure() || IsSkipped()) return;
  proact::operation op;
  EXPECT_ERRC(a_.send_to(op, proact::make_buffer("x", 1), proact::endpoint{}), invalid_argument);
  EXPECT_ERRC(a_.send_to(op, proact::make_buffer("x", 1),
                         proact::endpoint::loopback(proact::address_family::ipv6, 9)),
              invalid_argument);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item15_Udp, UnassociatedOrUnopenedSocketIsRefused) {
  proact::udp_socket never_opened;
  proact::operation op;
  char in[4] = {};
  EXPECT_ERRC(never_opened.recv_from(op, proact::make_buffer(in)), bad_handle);
  proact::udp_socket unassociated;
  ASSERT_OK(unassociated.open(proact::address_family::ipv4));
  EXPECT_ERRC(unassociated.recv_from(op, proact::make_buffer(in)), not_associated);
  EXPECT_ERRC(unassociated.send_to(op, proact::make_buffer("x", 1),
                                   proact::endpoint::loopback(proact::address_family::ipv4, 9)),
              not_associated);
  EXPECT_FALSE(op.in_flight());
}

}  // namespace
}  // namespace proact_test
