// Bad input: each returns its documented error (docs/semantics.md, "Bad
// input"), produces no completion, and leaves the operation free.
#include <array>
#include <limits>
#include <string>

#include "fixture.hpp"

namespace proact_test {
namespace {

class BadInput : public PairTest {};

TEST_F(BadInput, UnopenedSocketIsABadHandle) {
  proact::tcp_socket never_opened;
  EXPECT_FALSE(never_opened.is_open());
  char in[4] = {};
  proact::operation op;
  EXPECT_ERRC(port_.associate(never_opened, 1), bad_handle);
  EXPECT_ERRC(never_opened.recv(op, proact::make_buffer(in)), bad_handle);
  EXPECT_ERRC(never_opened.send(op, proact::make_buffer("x", 1)), bad_handle);
  EXPECT_ERRC(never_opened.connect(op, proact::endpoint::loopback(proact::address_family::ipv4, 9)),
              bad_handle);
  EXPECT_ERRC(never_opened.cancel(op), bad_handle);
  EXPECT_ERRC(never_opened.cancel(), bad_handle);
  EXPECT_ERRC(never_opened.close(), bad_handle);
  EXPECT_ERRC(never_opened.bind(proact::endpoint::loopback(proact::address_family::ipv4, 0)),
              bad_handle);
  EXPECT_ERRC(never_opened.set_no_delay(true), bad_handle);
  std::error_code ec;
  (void)never_opened.local_endpoint(ec);
  EXPECT_ERRC(ec, bad_handle);
  proact::tcp_listener unopened_listener;
  proact::tcp_socket peer;
  EXPECT_ERRC(unopened_listener.accept(op, peer), bad_handle);
  EXPECT_ERRC(unopened_listener.listen(), bad_handle);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, AssociateTwice) {
  EXPECT_ERRC(port_.associate(pair_.server, 5), already_associated);
  EXPECT_ERRC(port_.associate(pair_.client, client_key), already_associated);
}

TEST_F(BadInput, OperationReusedWhileInFlight) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_ERRC(pair_.server.recv(op, proact::make_buffer(in)), operation_in_progress);
  EXPECT_ERRC(pair_.client.send(op, proact::make_buffer("x", 1)), operation_in_progress);
  EXPECT_ERRC(port_.post(1, 1, &op), operation_in_progress);
  EXPECT_ERRC(pair_.client.connect(op, proact::endpoint::loopback(proact::address_family::ipv4, 9)),
              operation_in_progress);
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket peer;
  EXPECT_ERRC(listener.accept(op, peer), operation_in_progress);
  EXPECT_TRUE(stays_idle(port_));
  // The original recv is untouched: it still gets the data.
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("mine", 4)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &op}, got));
  const proact::completion c = completion_of(got, &op);
  EXPECT_EQ(c.key, server_key);
  EXPECT_EQ(c.bytes, 4u);
  EXPECT_EQ(std::string(in, 4), "mine");
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, PostAndWaitAfterClose) {
  ASSERT_OK(port_.close());
  proact::operation op;
  EXPECT_ERRC(port_.post(1, 2, &op), port_closed);
  EXPECT_ERRC(port_.post(1, 2, nullptr), port_closed);
  EXPECT_FALSE(op.in_flight());
  proact::completion c;
  EXPECT_ERRC(port_.wait(c, must_happen_within), port_closed);
  std::array<proact::completion, 2> batch;
  std::size_t count = 5;
  EXPECT_ERRC(port_.wait_many(batch, count, proact::timeout::zero()), port_closed);
  EXPECT_EQ(count, 0u);
}

TEST_F(BadInput, PortThatWasNeverOpened) {
  proact::port unopened;
  EXPECT_FALSE(unopened.is_open());
  proact::completion c;
  EXPECT_ERRC(unopened.post(1, 1, nullptr), port_closed);
  EXPECT_ERRC(unopened.wait(c, proact::timeout{10}), port_closed);
  EXPECT_ERRC(unopened.close(), port_closed);
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  EXPECT_ERRC(unopened.associate(s, 1), port_closed);
  EXPECT_FALSE(s.is_associated());
  EXPECT_ERRC(port_.open(options()), invalid_argument);  // already open
}

TEST_F(BadInput, WaitManyWithAnEmptySpan) {
  ASSERT_OK(port_.post(1, 0, nullptr));
  std::size_t count = 3;
  EXPECT_ERRC(port_.wait_many(std::span<proact::completion>{}, count, proact::timeout::zero()),
              invalid_argument);
  EXPECT_EQ(count, 0u);
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));  // the packet is still there
  EXPECT_EQ(c.key, 1u);
}

TEST_F(BadInput, ZeroLengthSendCompletesWithZeroBytes) {
  // Not an error: a zero-length send completes through the port with 0 bytes.
  char nothing = 0;
  proact::operation op;
  ASSERT_OK(pair_.client.send(op, proact::const_buffer{&nothing, 0}));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
  // Nor does it put anything on the wire.
  ASSERT_TRUE(send_all(port_, pair_.client, "after", 5));
  char in[8] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 5));
  EXPECT_EQ(std::string(in, 5), "after");
  // A null pointer is fine when the size is 0.
  ASSERT_OK(pair_.client.send(op, proact::const_buffer{nullptr, 0}));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
}

TEST_F(BadInput, BuffersLargerThanMaxTransferSizeAreRefusedBeforeUse) {
  // Real but small memory with huge sizes: a backend that touched it would
  // fault (or be caught by AddressSanitizer).
  char small[16] = {};
  proact::operation op;
  const std::size_t too_big = proact::max_transfer_size + 1;
  EXPECT_ERRC(pair_.server.recv(op, proact::buffer{small, too_big}), buffer_too_large);
  EXPECT_ERRC(pair_.client.send(op, proact::const_buffer{small, too_big}), buffer_too_large);
  EXPECT_ERRC(
      pair_.client.send(op, proact::const_buffer{small, std::numeric_limits<std::size_t>::max()}),
      buffer_too_large);
  // The sum counts, and must not overflow.
  const std::size_t half = proact::max_transfer_size / 2 + 1;
  const std::array<proact::buffer, 2> halves = {proact::buffer{small, half},
                                                proact::buffer{small, half}};
  EXPECT_ERRC(pair_.server.recv(op, halves), buffer_too_large);
  const std::array<proact::const_buffer, 2> wrap = {
      proact::const_buffer{small, 16},
      proact::const_buffer{small, std::numeric_limits<std::size_t>::max() - 8}};
  EXPECT_ERRC(pair_.client.send(op, wrap), buffer_too_large);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, TooManyOrNoBuffers) {
  char byte = 0;
  proact::operation op;
  std::array<proact::buffer, proact::max_buffers + 1> many{};
  for (auto& b : many) b = proact::buffer{&byte, 1};
  EXPECT_ERRC(pair_.server.recv(op, many), invalid_argument);
  std::array<proact::const_buffer, proact::max_buffers + 1> many_out{};
  for (auto& b : many_out) b = proact::const_buffer{&byte, 1};
  EXPECT_ERRC(pair_.client.send(op, many_out), invalid_argument);
  EXPECT_ERRC(pair_.server.recv(op, std::span<const proact::buffer>{}), invalid_argument);
  EXPECT_ERRC(pair_.client.send(op, std::span<const proact::const_buffer>{}), invalid_argument);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
  // Exactly max_buffers is allowed.
  std::array<unsigned char, proact::max_buffers> bytes{};
  std::array<proact::const_buffer, proact::max_buffers> exactly{};
  for (std::size_t i = 0; i < exactly.size(); ++i) {
    bytes[i] = static_cast<unsigned char>(i);
    exactly[i] = proact::const_buffer{&bytes[i], 1};
  }
  ASSERT_OK(pair_.client.send(op, exactly));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.bytes, proact::max_buffers);
  std::array<unsigned char, proact::max_buffers> in{};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in.data(), in.size()));
  EXPECT_EQ(in, bytes);
}

TEST_F(BadInput, NullBufferWithASize) {
  proact::operation op;
  EXPECT_ERRC(pair_.server.recv(op, proact::buffer{nullptr, 4}), invalid_argument);
  EXPECT_ERRC(pair_.client.send(op, proact::const_buffer{nullptr, 4}), invalid_argument);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, ConnectToAnUnreachableAddress) {
  // 192.0.2.1 (TEST-NET-1) never answers: the connect either fails fast
  // (no route) or hangs until cancelled. Either way: exactly one completion.
  std::error_code ec;
  const proact::endpoint unreachable = proact::endpoint::parse("192.0.2.1", 9, ec);
  ASSERT_OK(ec);
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 31));
  proact::operation op;
  const std::error_code started = s.connect(op, unreachable);
  if (started) {
    // Refused at start: allowed only as "no route", and then no completion.
    EXPECT_TRUE(started == proact::errc::network_unreachable ||
                started == proact::errc::host_unreachable)
        << describe(started);
    EXPECT_FALSE(op.in_flight());
    EXPECT_TRUE(stays_idle(port_));
    return;
  }
  proact::completion c;
  std::error_code waited = port_.wait(c, proact::timeout{1000});
  if (waited == proact::errc::timed_out) {
    const std::error_code cancelled = s.cancel(op);
    waited = port_.wait(c, must_happen_within);
    ASSERT_OK(waited);
    if (!cancelled) {
      EXPECT_ERRC(c.error, operation_aborted);
    }
  }
  ASSERT_OK(waited);
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, 31u);
  // (A firewall on the way may also answer with a reset: connection_refused.)
  EXPECT_TRUE(c.error == proact::errc::operation_aborted ||
              c.error == proact::errc::connection_refused ||
              c.error == proact::errc::network_unreachable ||
              c.error == proact::errc::host_unreachable || c.error == proact::errc::timed_out)
      << describe(c.error);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, ConnectToAnEndpointOfTheWrongFamilyOrNone) {
  proact::operation op;
  EXPECT_ERRC(pair_.client.connect(op, proact::endpoint{}), invalid_argument);
  proact::tcp_socket v4;
  ASSERT_OK(v4.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(v4, 1));
  EXPECT_ERRC(v4.connect(op, proact::endpoint::loopback(proact::address_family::ipv6, 80)),
              invalid_argument);
  EXPECT_ERRC(v4.bind(proact::endpoint::loopback(proact::address_family::ipv6, 0)),
              invalid_argument);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, AcceptIntoAnOpenSocket) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::operation op;
  EXPECT_ERRC(listener.accept(op, pair_.client), invalid_argument);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(pair_.client.is_open());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, RecvOnAnUnconnectedSocketReportsNotConnectedOnce) {
  // Reported either by the start call or by the completion: never both, never
  // neither.
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, 41));
  char in[4] = {};
  proact::operation op;
  const std::error_code started = s.recv(op, proact::make_buffer(in));
  std::error_code result = started;
  if (!started) {
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    result = c.error;
  }
  EXPECT_ERRC(result, not_connected);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(BadInput, InvalidAddressFamily) {
  proact::tcp_socket s;
  EXPECT_ERRC(s.open(proact::address_family::unspecified), invalid_argument);
  EXPECT_FALSE(s.is_open());
  proact::tcp_listener l;
  EXPECT_ERRC(l.listen(proact::endpoint{}), invalid_argument);
  std::error_code ec;
  (void)proact::endpoint::parse("not an address", 1, ec);
  EXPECT_ERRC(ec, invalid_argument);
  (void)proact::endpoint::parse("999.1.1.1", 1, ec);
  EXPECT_ERRC(ec, invalid_argument);
}

TEST_F(BadInput, UnknownOrUnavailableBackend) {
  std::error_code ec;
  (void)proact::backend_from_string("kqueue", ec);
  EXPECT_ERRC(ec, invalid_argument);
  // The backend of the other operating system cannot open here.
  proact::port_options o;
  o.backend = port_.backend() == proact::backend_kind::iocp ? proact::backend_kind::epoll
                                                            : proact::backend_kind::iocp;
  proact::port other;
  EXPECT_ERRC(other.open(o), backend_unavailable);
  EXPECT_FALSE(other.is_open());
}

TEST_F(BadInput, ListenOnAnAddressInUse) {
  std::error_code ec;
  proact::tcp_listener first;
  ASSERT_OK(first.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)));
  const proact::endpoint address = first.local_endpoint(ec);
  ASSERT_OK(ec);
  proact::tcp_listener second;
  EXPECT_ERRC(second.listen(address), address_in_use);
}

}  // namespace
}  // namespace proact_test
