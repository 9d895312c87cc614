// Item 13: a handle associates with one port, once.
#include "fixture.hpp"

namespace proact_test {
namespace {

class Item13_Associate : public PortTest {};

TEST_F(Item13_Associate, SecondAssociateFailsAndKeepsTheFirstKey) {
  tcp_pair pair;
  ASSERT_TRUE(connect_pair(port_, pair));
  EXPECT_ERRC(port_.associate(pair.client, 999), already_associated);
  proact::operation op;
  ASSERT_OK(pair.client.send(op, proact::make_buffer("k", 1)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.key, client_key);
}

TEST_F(Item13_Associate, AssociatingWithASecondPortFails) {
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 1));
  proact::port other;
  ASSERT_OK(other.open(options()));
  EXPECT_ERRC(other.associate(s, 2), already_associated);
  proact::tcp_listener l;
  ASSERT_OK(l.open(proact::address_family::ipv4));
  ASSERT_OK(other.associate(l, 3));
  EXPECT_ERRC(port_.associate(l, 4), already_associated);
}

TEST_F(Item13_Associate, OperationsOnAnUnassociatedHandleFailWithNotAssociated) {
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  EXPECT_TRUE(s.is_open());
  EXPECT_FALSE(s.is_associated());
  char in[4] = {};
  proact::operation op;
  EXPECT_ERRC(s.recv(op, proact::make_buffer(in)), not_associated);
  EXPECT_ERRC(s.send(op, proact::make_buffer("x", 1)), not_associated);
  EXPECT_ERRC(s.connect(op, proact::endpoint::loopback(proact::address_family::ipv4, 9)),
              not_associated);
  EXPECT_ERRC(s.cancel(op), not_associated);
  EXPECT_ERRC(s.cancel(), not_associated);
  EXPECT_FALSE(op.in_flight());

  proact::tcp_listener l;
  ASSERT_OK(l.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)));
  proact::tcp_socket peer;
  EXPECT_ERRC(l.accept(op, peer), not_associated);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_, proact::timeout{20}));
}

TEST_F(Item13_Associate, EachHandleCompletesWithItsOwnKey) {
  tcp_pair a;
  tcp_pair b;
  ASSERT_TRUE(connect_pair(port_, a, proact::address_family::ipv4, 11, 12));
  ASSERT_TRUE(connect_pair(port_, b, proact::address_family::ipv4, 21, 22));
  proact::operation ops[4];
  ASSERT_OK(a.client.send(ops[0], proact::make_buffer("1", 1)));
  ASSERT_OK(a.server.send(ops[1], proact::make_buffer("2", 1)));
  ASSERT_OK(b.client.send(ops[2], proact::make_buffer("3", 1)));
  ASSERT_OK(b.server.send(ops[3], proact::make_buffer("4", 1)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 4, got));
  const std::uintptr_t keys[4] = {11, 12, 21, 22};
  for (const auto& c : got) {
    for (int i = 0; i < 4; ++i)
      if (c.op == &ops[i]) {
        EXPECT_EQ(c.key, keys[i]) << "send " << i;
      }
  }
}

TEST_F(Item13_Associate, ClosedAndReopenedSocketCanBeAssociatedAgain) {
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 1));
  ASSERT_OK(s.close());
  ASSERT_OK(s.open(proact::address_family::ipv4));  // a new native handle
  EXPECT_FALSE(s.is_associated());
  ASSERT_OK(port_.associate(s, 2));
  proact::endpoint closed;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, closed));
  proact::operation op;
  ASSERT_OK(s.connect(op, closed));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.key, 2u);
  EXPECT_ERRC(c.error, connection_refused);
}

}  // namespace
}  // namespace proact_test
