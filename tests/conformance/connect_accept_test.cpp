// Item 6: accept gives a connected socket and the peer address; connect to a
// closed port gives connection_refused. IPv4 and IPv6.
#include <array>
#include <set>
#include <string>

#include "fixture.hpp"

namespace proact_test {
namespace {

class Item06_Accept : public PortTest {
 protected:
  void accept_and_check(proact::address_family family);
};

void Item06_Accept::accept_and_check(proact::address_family family) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address, family));
  EXPECT_EQ(address.family(), family);

  proact::tcp_socket accepted;
  proact::endpoint peer_address;
  proact::operation accept_op;
  ASSERT_OK(listener.accept(accept_op, accepted, &peer_address));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));  // nobody connects yet

  proact::tcp_socket client;
  proact::operation connect_op;
  ASSERT_OK(client.open(family));
  ASSERT_OK(port_.associate(client, client_key));
  ASSERT_OK(client.connect(connect_op, address));

  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  for (const proact::completion& c : got) {
    EXPECT_FALSE(c.error) << describe(c.error);
    EXPECT_EQ(c.bytes, 0u);
    if (c.op == &accept_op) {
      EXPECT_EQ(c.key, listener_key);
    } else
      EXPECT_EQ(c.key, client_key);
  }
  EXPECT_NE(got[0].op, got[1].op);

  ASSERT_TRUE(accepted.is_open());
  EXPECT_EQ(accepted.family(), family);
  std::error_code ec;
  const proact::endpoint client_local = client.local_endpoint(ec);
  ASSERT_OK(ec);
  EXPECT_EQ(peer_address, client_local) << "accept reported " << peer_address.to_string()
                                        << ", the client is " << client_local.to_string();
  const proact::endpoint client_remote = client.remote_endpoint(ec);
  ASSERT_OK(ec);
  EXPECT_EQ(client_remote, address);
  const proact::endpoint accepted_remote = accepted.remote_endpoint(ec);
  ASSERT_OK(ec);
  EXPECT_EQ(accepted_remote, client_local);
  const proact::endpoint accepted_local = accepted.local_endpoint(ec);
  ASSERT_OK(ec);
  EXPECT_EQ(accepted_local, address);

  // The connection carries data both ways.
  ASSERT_OK(port_.associate(accepted, server_key));
  ASSERT_TRUE(send_all(port_, client, "ping", 4));
  char in[4] = {};
  ASSERT_TRUE(recv_exactly(port_, accepted, in, 4));
  EXPECT_EQ(std::string(in, 4), "ping");
  ASSERT_TRUE(send_all(port_, accepted, "pong", 4));
  ASSERT_TRUE(recv_exactly(port_, client, in, 4));
  EXPECT_EQ(std::string(in, 4), "pong");
}

TEST_F(Item06_Accept, GivesAConnectedSocketAndThePeerAddressIPv4) {
  accept_and_check(proact::address_family::ipv4);
}

TEST_F(Item06_Accept, GivesAConnectedSocketAndThePeerAddressIPv6) {
  std::string why;
  if (!ipv6_loopback_available(why)) GTEST_SKIP() << why;
  accept_and_check(proact::address_family::ipv6);
}

TEST_F(Item06_Accept, AcceptedSocketStartsUnassociated) {
  tcp_pair pair;
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::operation accept_op;
  ASSERT_OK(listener.accept(accept_op, pair.server));  // peer address not wanted
  ASSERT_OK(pair.client.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(pair.client, client_key));
  proact::operation connect_op;
  ASSERT_OK(pair.client.connect(connect_op, address));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  ASSERT_TRUE(pair.server.is_open());
  EXPECT_FALSE(pair.server.is_associated());
  char in[4] = {};
  proact::operation op;
  EXPECT_ERRC(pair.server.recv(op, proact::make_buffer(in)), not_associated);
  // It may go to any port, with its own key.
  proact::port other;
  ASSERT_OK(other.open(options()));
  ASSERT_OK(other.associate(pair.server, 77));
  ASSERT_TRUE(send_all(port_, pair.client, "abc", 3));
  ASSERT_OK(pair.server.recv(op, proact::make_buffer(in)));
  proact::completion c;
  ASSERT_TRUE(wait_one(other, c));
  EXPECT_EQ(c.key, 77u);
  EXPECT_EQ(c.bytes, 3u);
  EXPECT_TRUE(stays_idle(port_, proact::timeout{20}));
}

TEST_F(Item06_Accept, SeveralPendingAcceptsEachGetOneConnection) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  constexpr std::size_t n = 3;
  std::array<proact::tcp_socket, n> accepted;
  std::array<proact::operation, n> accept_ops;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_OK(listener.accept(accept_ops[i], accepted[i]));
  }
  std::array<proact::tcp_socket, n> clients;
  std::array<proact::operation, n> connect_ops;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_OK(clients[i].open(proact::address_family::ipv4));
    ASSERT_OK(port_.associate(clients[i], 100 + i));
    ASSERT_OK(clients[i].connect(connect_ops[i], address));
  }
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2 * n, got));
  std::set<const proact::operation*> distinct;
  for (const proact::completion& c : got) {
    EXPECT_FALSE(c.error) << describe(c.error);
    distinct.insert(c.op);
  }
  EXPECT_EQ(distinct.size(), 2 * n);
  std::set<proact::native_handle_type> handles;
  for (auto& s : accepted) {
    EXPECT_TRUE(s.is_open());
    handles.insert(s.native_handle());
  }
  EXPECT_EQ(handles.size(), n);
  EXPECT_TRUE(stays_idle(port_));
}

// ---- connect -----------------------------------------------------------------

class Item06_Connect : public PortTest {
 protected:
  void refused(proact::address_family family);
};

void Item06_Connect::refused(proact::address_family family) {
  proact::endpoint closed;
  ASSERT_TRUE(closed_loopback_port(family, closed));
  proact::tcp_socket s;
  ASSERT_OK(s.open(family));
  ASSERT_OK(port_.associate(s, client_key));
  proact::operation op;
  // The refusal is the operation's result: it comes through the port.
  ASSERT_OK(s.connect(op, closed));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, client_key);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, connection_refused);
  // The native code is kept (errno or the Winsock code), not replaced.
  EXPECT_EQ(c.error.category(), proact::native_category()) << describe(c.error);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item06_Connect, ClosedPortGivesConnectionRefusedIPv4) {
  refused(proact::address_family::ipv4);
}

TEST_F(Item06_Connect, ClosedPortGivesConnectionRefusedIPv6) {
  std::string why;
  if (!ipv6_loopback_available(why)) GTEST_SKIP() << why;
  refused(proact::address_family::ipv6);
}

TEST_F(Item06_Connect, ExplicitlyBoundSocketKeepsItsAddress) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket accepted;
  proact::endpoint peer_address;
  proact::operation accept_op;
  ASSERT_OK(listener.accept(accept_op, accepted, &peer_address));

  proact::endpoint local;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, local));  // a free port
  proact::tcp_socket client;
  ASSERT_OK(client.open(proact::address_family::ipv4));
  ASSERT_OK(client.bind(local));
  ASSERT_OK(port_.associate(client, client_key));
  proact::operation connect_op;
  ASSERT_OK(client.connect(connect_op, address));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  for (const proact::completion& c : got) {
    EXPECT_FALSE(c.error) << describe(c.error);
  }
  std::error_code ec;
  EXPECT_EQ(client.local_endpoint(ec), local);
  EXPECT_EQ(peer_address, local);
}

TEST_F(Item06_Connect, ConnectionRefusedLeavesTheOperationReusable) {
  proact::endpoint closed;
  ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, closed));
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, client_key));
  proact::operation op;
  ASSERT_OK(s.connect(op, closed));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_ERRC(c.error, connection_refused);
  EXPECT_FALSE(op.in_flight());
  ASSERT_OK(port_.post(9, 9, &op));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, 9u);
}

}  // namespace
}  // namespace proact_test
