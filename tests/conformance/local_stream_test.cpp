// Item 22: local streams (socketpair on Linux, named pipe on Windows).
#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <thread>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {

class Item22_LocalStream : public PortTest {
 protected:
  void SetUp() override {
    PortTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_OK(proact::local_stream::pair(a_, b_));
    ASSERT_OK(port_.associate(a_, local_key_a));
    ASSERT_OK(port_.associate(b_, local_key_b));
  }

  // Sends `message` from `from` and receives it whole on `to`.
  void send_and_receive(proact::local_stream& from, proact::local_stream& to, std::uintptr_t to_key,
                        const std::string& message) {
    std::string in(message.size() + 16, '\0');
    proact::operation recv_op;
    ASSERT_OK(to.recv(recv_op, proact::buffer{in.data(), in.size()}));
    proact::operation send_op;
    ASSERT_OK(from.send(send_op, proact::const_buffer(message.data(), message.size())));
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_for(port_, {&send_op, &recv_op}, got));
    const proact::completion sent = completion_of(got, &send_op);
    EXPECT_FALSE(sent.error) << describe(sent.error);
    EXPECT_EQ(sent.bytes, message.size());
    const proact::completion received = completion_of(got, &recv_op);
    EXPECT_EQ(received.key, to_key);
    EXPECT_FALSE(received.error) << describe(received.error);
    EXPECT_EQ(in.substr(0, received.bytes), message);
  }

  proact::local_stream a_;
  proact::local_stream b_;
};

TEST_F(Item22_LocalStream, PairCarriesBytesBothWays) {
  EXPECT_TRUE(a_.is_open());
  EXPECT_TRUE(b_.is_open());
  send_and_receive(a_, b_, local_key_b, "from a to b");
  send_and_receive(b_, a_, local_key_a, "and back");
}

TEST_F(Item22_LocalStream, EofWhenTheOtherEndCloses) {
  send_and_receive(a_, b_, local_key_b, "last");
  ASSERT_OK(a_.close());
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(b_.recv(op, proact::make_buffer(in)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, eof);
  // Every later recv too.
  ASSERT_OK(b_.recv(op, proact::make_buffer(in)));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item22_LocalStream, PendingRecvGetsEofWhenTheOtherEndCloses) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(b_.recv(op, proact::make_buffer(in)));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  ASSERT_OK(a_.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, local_key_b);
  EXPECT_ERRC(c.error, eof);
}

// As for TCP (Item05_Eof): the data and the end arrive together while two
// recvs wait; the second sees the end behind the data.
TEST_F(Item22_LocalStream, DataAndEndArrivingTogetherCompleteTwoPendingRecvs) {
  proact::port peer_port;
  ASSERT_OK(peer_port.open(options()));
  proact::local_stream sender;
  proact::local_stream receiver;
  ASSERT_OK(proact::local_stream::pair(sender, receiver));
  ASSERT_OK(peer_port.associate(sender, local_key_a));
  ASSERT_OK(port_.associate(receiver, local_key_b));
  char in[64] = {};
  proact::operation first;
  proact::operation second;
  ASSERT_OK(receiver.recv(first, proact::make_buffer(in)));
  ASSERT_OK(receiver.recv(second, proact::make_buffer(in)));
  proact::operation send_op;
  ASSERT_OK(sender.send(send_op, proact::const_buffer("last words", 10)));
  proact::completion c;
  ASSERT_TRUE(wait_one(peer_port, c));
  EXPECT_FALSE(c.error) << describe(c.error);
  ASSERT_OK(sender.close());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // both arrive before port_ polls
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_TRUE(bytes_then_eof(got, first, second, 10));
}

TEST_F(Item22_LocalStream, LargeSendCompletesWhole) {
  constexpr std::size_t size = 8 * 1024 * 1024;
  const std::vector<unsigned char> out = pattern(size, 51);
  proact::operation send_op;
  ASSERT_OK(a_.send(send_op, proact::const_buffer(out.data(), out.size())));
  std::vector<unsigned char> in(size);
  std::size_t received = 0;
  bool sent = false;
  proact::operation recv_op;
  ASSERT_OK(b_.recv(recv_op, proact::buffer{in.data(), 64 * 1024}));
  const auto deadline = clock_type::now() + 60s;
  while (received < size || !sent) {
    ASSERT_LT(clock_type::now(), deadline) << received << " bytes received";
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    ASSERT_FALSE(c.error) << describe(c.error);
    if (c.op == &send_op) {
      EXPECT_EQ(c.bytes, size) << "a stream send must complete whole";
      sent = true;
      continue;
    }
    ASSERT_EQ(c.op, &recv_op);
    ASSERT_GT(c.bytes, 0u);
    received += c.bytes;
    if (received < size) {
      const std::size_t chunk = std::min<std::size_t>(64 * 1024, size - received);
      ASSERT_OK(b_.recv(recv_op, proact::buffer{in.data() + received, chunk}));
    }
  }
  EXPECT_EQ(first_mismatch(in.data(), in.size(), 0, 51), in.size());
}

TEST_F(Item22_LocalStream, ScatterGatherKeepsTheBufferOrder) {
  const std::array<proact::const_buffer, 3> out = {
      proact::make_buffer("ab", 2), proact::make_buffer("cde", 3), proact::make_buffer("f", 1)};
  proact::operation send_op;
  ASSERT_OK(a_.send(send_op, out));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.bytes, 6u);
  char x[4] = {};
  char y[2] = {};
  const std::array<proact::buffer, 2> in = {proact::make_buffer(x), proact::make_buffer(y)};
  proact::operation recv_op;
  ASSERT_OK(b_.recv(recv_op, in));
  ASSERT_TRUE(wait_one(port_, c));
  ASSERT_EQ(c.op, &recv_op);
  ASSERT_FALSE(c.error) << describe(c.error);
  // A stream may deliver fewer bytes than were sent, never out of order.
  const std::string got = text(x, std::min<std::size_t>(c.bytes, 4)) +
                          (c.bytes > 4 ? text(y, c.bytes - 4) : std::string());
  EXPECT_EQ(got, std::string("abcdef").substr(0, c.bytes));
  EXPECT_GT(c.bytes, 0u);
}

TEST_F(Item22_LocalStream, ReleaseAndAdoptRoundTrip) {
  proact::local_stream c_end;
  proact::local_stream d_end;
  ASSERT_OK(proact::local_stream::pair(c_end, d_end));
  // An end that is not associated can be released (to hand to a child).
  const proact::native_handle_type native = d_end.release();
  ASSERT_NE(native, proact::invalid_native_handle);
  EXPECT_FALSE(d_end.is_open());
  proact::local_stream adopted;
  ASSERT_OK(adopted.adopt(native));
  EXPECT_TRUE(adopted.is_open());
  EXPECT_EQ(adopted.native_handle(), native);
  ASSERT_OK(port_.associate(c_end, 0xC));
  ASSERT_OK(port_.associate(adopted, 0xD));
  send_and_receive(c_end, adopted, 0xD, "through the adopted end");
  send_and_receive(adopted, c_end, 0xC, "and back");
}

TEST_F(Item22_LocalStream, AssociatedEndCannotBeReleased) {
  EXPECT_EQ(a_.release(), proact::invalid_native_handle);
  EXPECT_TRUE(a_.is_open());
  send_and_receive(a_, b_, local_key_b, "still usable");
}

TEST_F(Item22_LocalStream, BadPairAndAdoptArguments) {
  proact::local_stream fresh;
  // An end that is already open.
  EXPECT_ERRC(proact::local_stream::pair(a_, fresh), invalid_argument);
  EXPECT_FALSE(fresh.is_open());
  // The same object twice.
  EXPECT_ERRC(proact::local_stream::pair(fresh, fresh), invalid_argument);
  EXPECT_ERRC(fresh.adopt(proact::invalid_native_handle), bad_handle);
  EXPECT_FALSE(fresh.is_open());
  proact::operation op;
  char in[4] = {};
  EXPECT_ERRC(fresh.recv(op, proact::make_buffer(in)), bad_handle);
}

TEST_F(Item22_LocalStream, CancelAndCloseAbortPendingRecvs) {
  char in1[4] = {};
  char in2[4] = {};
  proact::operation first;
  proact::operation second;
  ASSERT_OK(b_.recv(first, proact::make_buffer(in1)));
  ASSERT_OK(b_.recv(second, proact::make_buffer(in2)));
  ASSERT_OK(b_.cancel(first));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &first);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_ERRC(b_.cancel(first), not_found);
  ASSERT_OK(b_.close());
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &second);
  EXPECT_EQ(c.key, local_key_b);
  EXPECT_ERRC(c.error, operation_aborted);
  EXPECT_TRUE(stays_idle(port_));
}

class Item22_LocalStreamAdopt : public BackendTest {};

TEST_F(Item22_LocalStreamAdopt, RefusesWhatIsNotAStream) {
  // A regular file is not a local stream: adopt refuses it (and leaves it
  // to the caller) on every backend, instead of a failure at associate or
  // at the first recv.
  temp_directory dir;
  ASSERT_TRUE(dir.ok()) << dir.why();
  const std::string path = dir.path("plain");
  {
    proact::file f;
    ASSERT_OK(f.open(path, proact::file_mode::write | proact::file_mode::create));
  }
  const proact::native_handle_type native = open_native_file(path);
  ASSERT_NE(native, proact::invalid_native_handle);
  proact::local_stream s;
  EXPECT_ERRC(s.adopt(native), bad_handle);
  EXPECT_FALSE(s.is_open());
  close_native(native);
}

}  // namespace
}  // namespace proact_test
