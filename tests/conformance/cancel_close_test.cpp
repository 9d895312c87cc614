// Item 7 (cancel) and item 8 (closing a handle with pending operations).
#include <array>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

// ---- item 7: cancel ------------------------------------------------------------

// The client's send cannot go on: the server has shut down its sending side
// (its FIN has arrived, the client has read the eof) and reads nothing, and
// the client's send buffer is full when the send is started, so the kernel
// parks it at once. With skip_completion_on_success the send is tried
// before it is queued; right after the start the caller ends it. On
// io_uring that end reaches the kernel together with the send itself, while
// the kernel moves such a send to a worker thread, where a cancellation that
// comes too early finds nothing: the send must end all the same.
void start_send_stuck_after_the_peers_fin(tcp_pair& pair, proact::port& port,
                                          std::vector<unsigned char>& out, proact::operation& op) {
  ASSERT_OK(pair.server.shutdown_send());
  char in[8] = {};
  proact::operation eof_recv;
  ASSERT_OK(pair.client.recv(eof_recv, proact::make_buffer(in)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port, c));
  ASSERT_ERRC(c.error, eof);
  ASSERT_OK(pair.client.skip_completion_on_success());
  out.assign(stuck_transfer_size, 3);
  ASSERT_OK(pair.client.send(op, proact::const_buffer{out.data(), out.size()}));
  ASSERT_FALSE(op.completed_at_start());
}

class Item07_Cancel : public PairTest {};

TEST_F(Item07_Cancel, PendingRecvCompletesWithOperationAborted) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  ASSERT_OK(pair_.server.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, server_key);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item07_Cancel, CancellingOneLeavesTheOthersPending) {
  char in1[8] = {};
  char in2[8] = {};
  proact::operation first;
  proact::operation second;
  ASSERT_OK(pair_.server.recv(first, proact::make_buffer(in1)));
  ASSERT_OK(pair_.server.recv(second, proact::make_buffer(in2)));
  ASSERT_OK(pair_.server.cancel(second));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &second);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_TRUE(stays_idle(port_));
  EXPECT_TRUE(first.in_flight());
  // The remaining recv still works, and gets the data.
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("ok", 2)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &first}, got));
  c = completion_of(got, &first);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 2u);
  EXPECT_EQ(std::string(in1, 2), "ok");
}

TEST_F(Item07_Cancel, CancelAllAbortsEveryPendingOperationOfTheHandleOnly) {
  std::array<proact::operation, 3> ops;
  std::array<std::array<char, 8>, 3> in{};
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ASSERT_OK(pair_.server.recv(ops[i], proact::buffer{in[i].data(), in[i].size()}));
  }
  char other_in[8] = {};
  proact::operation other;  // on the client: must stay pending
  ASSERT_OK(pair_.client.recv(other, proact::make_buffer(other_in)));

  ASSERT_OK(pair_.server.cancel());
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 3, got));
  std::map<const proact::operation*, int> seen;
  for (const proact::completion& c : got) {
    ++seen[c.op];
    EXPECT_ERRC(c.error, operation_aborted);
    EXPECT_EQ(c.key, server_key);
  }
  for (auto& op : ops) {
    EXPECT_EQ(seen[&op], 1);
  }
  EXPECT_TRUE(stays_idle(port_));
  EXPECT_TRUE(other.in_flight());
  // Nothing left to cancel on the server; the client's recv is still there.
  EXPECT_ERRC(pair_.server.cancel(), not_found);
  ASSERT_OK(pair_.client.cancel());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &other);
  EXPECT_ERRC(c.error, operation_aborted);
}

TEST_F(Item07_Cancel, AlreadyDequeuedOperationGivesNotFoundAndChangesNothing) {
  proact::operation op;
  ASSERT_OK(pair_.client.send(op, proact::make_buffer("abc", 3)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &op);
  EXPECT_ERRC(pair_.client.cancel(op), not_found);
  EXPECT_ERRC(pair_.client.cancel(), not_found);
  EXPECT_TRUE(stays_idle(port_));
  char in[3] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 3));  // the bytes went
  EXPECT_EQ(std::string(in, 3), "abc");
}

TEST_F(Item07_Cancel, CompletedButNotYetDequeuedGivesNotFoundAndKeepsTheResult) {
  ASSERT_TRUE(send_all(port_, pair_.client, "hello", 5));
  std::this_thread::sleep_for(20ms);
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));  // data waits: done at once
  std::this_thread::sleep_for(20ms);
  EXPECT_ERRC(pair_.server.cancel(op), not_found);
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 5u);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item07_Cancel, NeverStartedOperationGivesNotFound) {
  proact::operation idle;
  EXPECT_ERRC(pair_.server.cancel(idle), not_found);
  EXPECT_ERRC(pair_.server.cancel(), not_found);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item07_Cancel, AnotherHandlesOperationGivesNotFound) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_ERRC(pair_.client.cancel(op), not_found);
  EXPECT_TRUE(stays_idle(port_));
  EXPECT_TRUE(op.in_flight());
  ASSERT_OK(pair_.server.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_ERRC(c.error, operation_aborted);
}

TEST_F(Item07_Cancel, SecondCancelOfTheSameOperationGivesNotFound) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.cancel(op));
  EXPECT_ERRC(pair_.server.cancel(op), not_found);
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 1, got));
  EXPECT_ERRC(got[0].error, operation_aborted);
  EXPECT_TRUE(stays_idle(port_));  // exactly one completion
}

TEST_F(Item07_Cancel, PendingSendCompletesAbortedWithTheBytesThatWent) {
  std::vector<unsigned char> out(stuck_transfer_size, 1);
  proact::operation op;
  ASSERT_OK(pair_.client.send(op, proact::const_buffer{out.data(), out.size()}));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));
  ASSERT_OK(pair_.client.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_LT(c.bytes, out.size());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item07_Cancel, SendParkedAfterThePeersFinEndsAborted) {
  std::vector<unsigned char> out;
  proact::operation op;
  start_send_stuck_after_the_peers_fin(pair_, port_, out, op);
  if (HasFatalFailure()) return;
  ASSERT_OK(pair_.client.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_LT(c.bytes, out.size());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item07_Cancel, PendingAcceptCompletesAbortedAndLeavesThePeerClosed) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket peer;
  proact::operation op;
  ASSERT_OK(listener.accept(op, peer));
  ASSERT_OK(listener.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, listener_key);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_FALSE(peer.is_open());
  // The listener still accepts.
  ASSERT_OK(listener.accept(op, peer));
  proact::tcp_socket client;
  ASSERT_OK(client.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(client, client_key));
  proact::operation connect_op;
  ASSERT_OK(client.connect(connect_op, address));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  for (const auto& g : got) {
    EXPECT_FALSE(g.error) << describe(g.error);
  }
  EXPECT_TRUE(peer.is_open());
}

TEST_F(Item07_Cancel, CancelledOperationCanBeStartedAgain) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_ERRC(c.error, operation_aborted);
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("again", 5)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &op}, got));
  c = completion_of(got, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(std::string(in, c.bytes), "again");
}

// ---- item 8: closing a handle ------------------------------------------------------

class Item08_HandleClose : public PairTest {};

TEST_F(Item08_HandleClose, PendingRecvsCompleteWithOperationAborted) {
  std::array<proact::operation, 3> ops;
  std::array<std::array<char, 8>, 3> in{};
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ASSERT_OK(pair_.server.recv(ops[i], proact::buffer{in[i].data(), in[i].size()}));
  }
  ASSERT_OK(pair_.server.close());
  EXPECT_FALSE(pair_.server.is_open());
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 3, got));
  std::map<const proact::operation*, int> seen;
  for (const proact::completion& c : got) {
    ++seen[c.op];
    EXPECT_EQ(c.key, server_key);
    EXPECT_EQ(c.bytes, 0u);
    EXPECT_ERRC(c.error, operation_aborted);
  }
  for (auto& op : ops) {
    EXPECT_EQ(seen[&op], 1);
  }
  // The peer sees the close; nothing else is produced on the closed socket.
  char peer_in[8] = {};
  proact::operation peer_recv;
  ASSERT_OK(pair_.client.recv(peer_recv, proact::make_buffer(peer_in)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &peer_recv);
  EXPECT_ERRC(c.error, eof);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item08_HandleClose, PendingSendCompletesWithOperationAborted) {
  std::vector<unsigned char> out(stuck_transfer_size, 2);
  proact::operation op;
  ASSERT_OK(pair_.client.send(op, proact::const_buffer{out.data(), out.size()}));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));
  ASSERT_OK(pair_.client.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_LT(c.bytes, out.size());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item08_HandleClose, SendParkedAfterThePeersFinEndsAborted) {
  std::vector<unsigned char> out;
  proact::operation op;
  start_send_stuck_after_the_peers_fin(pair_, port_, out, op);
  if (HasFatalFailure()) return;
  ASSERT_OK(pair_.client.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_TRUE(stays_idle(port_));
}

// A recv started while data is waiting completes with it at once (as
// WSARecv does), so closing the socket right after the start finds it
// done, even when an earlier recv on the socket had found nothing.
TEST_F(Item08_HandleClose, RecvStartedWithDataWaitingKeepsItsDataWhenClosedAtOnce) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));  // finds nothing
  ASSERT_OK(pair_.server.cancel(op));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_ERRC(c.error, operation_aborted);
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("abc", 3)));
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &send_op);
  std::this_thread::sleep_for(settle_time);  // the bytes are in the server's socket
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.close());
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 3u);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item08_HandleClose, PendingAcceptCompletesWithOperationAborted) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket peer;
  proact::operation op;
  ASSERT_OK(listener.accept(op, peer));
  ASSERT_OK(listener.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, listener_key);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_FALSE(peer.is_open());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item08_HandleClose, DestroyingTheHandleClosesIt) {
  auto doomed = std::make_unique<proact::tcp_socket>(std::move(pair_.server));
  EXPECT_TRUE(doomed->is_associated());
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(doomed->recv(op, proact::make_buffer(in)));
  doomed.reset();
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, server_key);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_TRUE(stays_idle(port_));
}

// Item 11 for the same send: closing the port ends it too (the close
// returns only when every operation has its completion queued).
TEST_F(Item08_HandleClose, SendParkedAfterThePeersFinEndsWhenThePortCloses) {
  std::vector<unsigned char> out;
  proact::operation op;
  start_send_stuck_after_the_peers_fin(pair_, port_, out, op);
  if (HasFatalFailure()) return;
  ASSERT_OK(port_.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_ERRC(port_.wait(c, proact::timeout{0}), port_closed);
}

TEST_F(Item08_HandleClose, CompletedResultQueuedBeforeTheCloseIsKept) {
  ASSERT_TRUE(send_all(port_, pair_.client, "kept", 4));
  std::this_thread::sleep_for(20ms);
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  std::this_thread::sleep_for(20ms);
  ASSERT_OK(pair_.server.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 4u);
  EXPECT_EQ(std::string(in, 4), "kept");
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item08_HandleClose, ClosedHandleRefusesNewOperationsWithBadHandle) {
  ASSERT_OK(pair_.server.close());
  char in[8] = {};
  proact::operation op;
  EXPECT_ERRC(pair_.server.recv(op, proact::make_buffer(in)), bad_handle);
  EXPECT_FALSE(op.in_flight());
  EXPECT_ERRC(pair_.server.send(op, proact::make_buffer("x", 1)), bad_handle);
  EXPECT_ERRC(pair_.server.close(), bad_handle);  // a second close
  EXPECT_ERRC(pair_.server.cancel(op), not_found);
  EXPECT_TRUE(stays_idle(port_));
}

// ---- which category: proact's own outcomes ---------------------------------------------

// An operation ended by a proact call (cancel, close of its handle, close of
// its port) and a cancel that finds nothing carry proact's own code, the same
// value on every backend; only outcomes of the I/O itself keep a native code.
class Errors_OwnOutcomes : public PairTest {};

TEST_F(Errors_OwnOutcomes, CancelCloseAndPortCloseUseTheLibraryCategory) {
  const std::error_code aborted = make_error_code(proact::error::operation_aborted);
  char in[8] = {};
  proact::operation op;
  proact::completion c;

  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_EQ(pair_.server.cancel(op), std::error_code{});
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.error, aborted) << "cancel: " << describe(c.error);
  EXPECT_EQ(pair_.server.cancel(op), make_error_code(proact::error::not_found));
  EXPECT_EQ(pair_.server.cancel(), make_error_code(proact::error::not_found));

  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.cancel());
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.error, aborted) << "cancel all: " << describe(c.error);

  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.close());
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.error, aborted) << "handle close: " << describe(c.error);

  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket peer;
  ASSERT_OK(listener.accept(op, peer));
  ASSERT_OK(port_.close());
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.error, aborted) << "port close: " << describe(c.error);
}

}  // namespace
}  // namespace proact_test
