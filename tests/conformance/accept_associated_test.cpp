// Item 27: a listener that associates the sockets it accepts with its own
// port (tcp_listener::associate_accepted), so that a server need not.
#include <vector>

#include "fixture.hpp"

namespace proact_test {
namespace {

class Item27_AcceptAssociated : public PortTest {
 protected:
  // Accepts one connection from a fresh client into `accepted` (the accept
  // started first, or after the connect); `client` is associated with
  // client_key.
  void accept_one(proact::tcp_listener& listener, const proact::endpoint& address,
                  proact::tcp_socket& client, proact::tcp_socket& accepted,
                  bool connect_first = false) {
    ASSERT_OK(client.open(address.family()));
    ASSERT_OK(port_.associate(client, client_key));
    proact::operation accept_op;
    proact::operation connect_op;
    std::size_t expected = 2;
    if (connect_first) {
      ASSERT_OK(client.connect(connect_op, address));
      std::vector<proact::completion> connected;
      ASSERT_TRUE(wait_for(port_, {&connect_op}, connected));
      ASSERT_FALSE(connected[0].error) << describe(connected[0].error);
      ASSERT_OK(listener.accept(accept_op, accepted));
      expected = 1;
      if (accept_op.completed_at_start()) {
        ASSERT_FALSE(accept_op.result().error) << describe(accept_op.result().error);
        return;
      }
    } else {
      ASSERT_OK(listener.accept(accept_op, accepted));
      ASSERT_OK(client.connect(connect_op, address));
    }
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_n(port_, expected, got));
    for (const proact::completion& c : got) {
      EXPECT_FALSE(c.error) << describe(c.error);
      if (c.op == &accept_op) {
        EXPECT_EQ(c.key, listener_key);
      }
    }
  }

  // Data sent by `client` arrives at `accepted` through the port, with `key`.
  void check_recv_on_port(proact::tcp_socket& client, proact::tcp_socket& accepted,
                          std::uintptr_t key) {
    proact::operation send_op;
    proact::operation recv_op;
    char in[8] = {};
    ASSERT_OK(accepted.recv(recv_op, proact::make_buffer(in)));
    ASSERT_OK(client.send(send_op, proact::make_buffer("ping", 4)));
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_for(port_, {&send_op, &recv_op}, got));
    const proact::completion r = completion_of(got, &recv_op);
    EXPECT_FALSE(r.error) << describe(r.error);
    EXPECT_EQ(r.key, key);
    EXPECT_EQ(std::string(in, r.bytes), "ping");
  }
};

TEST_F(Item27_AcceptAssociated, AcceptedSocketIsAssociatedWithTheListenersKey) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  ASSERT_OK(listener.associate_accepted());
  for (int i = 0; i < 3; ++i) {
    proact::tcp_socket client;
    proact::tcp_socket accepted;
    accept_one(listener, address, client, accepted);
    if (HasFatalFailure()) return;
    EXPECT_TRUE(accepted.is_associated());
    EXPECT_ERRC(port_.associate(accepted, server_key), already_associated);
    check_recv_on_port(client, accepted, listener_key);
  }
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item27_AcceptAssociated, WithAKeyOfItsOwn) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address, proact::address_family::ipv6));
  ASSERT_OK(listener.associate_accepted(server_key));
  proact::tcp_socket client;
  proact::tcp_socket accepted;
  accept_one(listener, address, client, accepted);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(accepted.is_associated());
  check_recv_on_port(client, accepted, server_key);
}

TEST_F(Item27_AcceptAssociated, AlsoWhenTheAcceptCompletesAtStart) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  ASSERT_OK(listener.skip_completion_on_success());
  ASSERT_OK(listener.associate_accepted(server_key));
  proact::tcp_socket client;
  proact::tcp_socket accepted;
  accept_one(listener, address, client, accepted, true);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(accepted.is_associated());
  check_recv_on_port(client, accepted, server_key);
}

TEST_F(Item27_AcceptAssociated, WithoutItTheAcceptedSocketStartsUnassociated) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket client;
  proact::tcp_socket accepted;
  accept_one(listener, address, client, accepted);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(accepted.is_open());
  EXPECT_FALSE(accepted.is_associated());
}

TEST_F(Item27_AcceptAssociated, NeedsAnAssociatedListener) {
  proact::tcp_listener never_opened;
  EXPECT_ERRC(never_opened.associate_accepted(), bad_handle);
  proact::tcp_listener unassociated;
  ASSERT_OK(unassociated.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)));
  EXPECT_ERRC(unassociated.associate_accepted(), not_associated);
  EXPECT_ERRC(unassociated.associate_accepted(server_key), not_associated);
}

}  // namespace
}  // namespace proact_test
