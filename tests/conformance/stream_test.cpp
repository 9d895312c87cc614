// Stream sockets: per-socket order (item 3), whole sends (item 4), recv and
// end of stream (item 5), scatter/gather, IPv6.
#include <array>
#include <cstring>
#include <string>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

// ---- item 3: order on one socket ---------------------------------------------

class Item03_StreamOrder : public PairTest {};

TEST_F(Item03_StreamOrder, PendingRecvsCompleteInStartOrder) {
  constexpr std::size_t n = 4;
  std::array<proact::operation, n> ops;
  std::array<std::array<char, 4>, n> in{};
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_OK(pair_.server.recv(ops[i], proact::buffer{in[i].data(), in[i].size()}));
  }
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));

  const std::string message = "AAAABBBBCCCCDDDD";
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::const_buffer{message.data(), message.size()}));
  std::vector<proact::completion> all;
  ASSERT_TRUE(wait_for(port_, {&send_op, &ops[0], &ops[1], &ops[2], &ops[3]}, all));
  EXPECT_EQ(completion_of(all, &send_op).bytes, message.size());
  std::vector<proact::completion> got;  // the recvs' completions, in dequeue order
  for (const proact::completion& c : all) {
    if (c.op != &send_op) got.push_back(c);
  }
  std::string stream;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(got[i].op, &ops[i]) << "completion " << i << " is not recv " << i;
    ASSERT_FALSE(got[i].error) << describe(got[i].error);
    stream.append(in[i].data(), got[i].bytes);
  }
  // Each recv took the next bytes of the stream.
  EXPECT_EQ(stream, message.substr(0, stream.size()));
  EXPECT_EQ(stream.size(), message.size());
}

TEST_F(Item03_StreamOrder, RecvsStartedWhileDataWaitsCompleteInStartOrder) {
  const std::vector<unsigned char> out = pattern(3000, 4);
  ASSERT_TRUE(send_all(port_, pair_.client, out.data(), out.size()));
  std::this_thread::sleep_for(20ms);
  constexpr std::size_t n = 3;
  std::array<proact::operation, n> ops;
  std::array<std::array<unsigned char, 1000>, n> in{};
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_OK(pair_.server.recv(ops[i], proact::buffer{in[i].data(), in[i].size()}));
  }
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, n, got));
  std::size_t offset = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(got[i].op, &ops[i]);
    ASSERT_FALSE(got[i].error) << describe(got[i].error);
    EXPECT_EQ(first_mismatch(in[i].data(), got[i].bytes, offset, 4), got[i].bytes)
        << "recv " << i << " did not get the next bytes of the stream";
    offset += got[i].bytes;
  }
}

TEST_F(Item03_StreamOrder, SendsCompleteInStartOrderAndReachTheWireInOrder) {
  // Eight 256 KiB sends of one continuous pattern while the peer is not
  // reading: most of them must wait, and still go out in order.
  constexpr std::size_t sends = 8;
  constexpr std::size_t chunk = 256 * 1024;
  const std::vector<unsigned char> out = pattern(sends * chunk, 5);
  std::array<proact::operation, sends> send_ops;
  for (std::size_t i = 0; i < sends; ++i) {
    ASSERT_OK(pair_.client.send(send_ops[i], proact::const_buffer{out.data() + i * chunk, chunk}));
  }

  std::vector<unsigned char> in(64 * 1024);
  proact::operation recv_op;
  std::size_t received = 0;
  std::size_t sends_done = 0;
  ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{in.data(), in.size()}));
  const auto deadline = clock_type::now() + 20s;
  while (received < out.size() || sends_done < sends) {
    ASSERT_LT(clock_type::now(), deadline) << received << " bytes, " << sends_done << " sends";
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    ASSERT_FALSE(c.error) << describe(c.error);
    if (c.op == &recv_op) {
      ASSERT_GT(c.bytes, 0u);
      ASSERT_EQ(first_mismatch(in.data(), c.bytes, received, 5), c.bytes)
          << "bytes out of order at stream offset " << received;
      received += c.bytes;
      if (received < out.size()) {
        ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{in.data(), in.size()}));
      }
    } else {
      ASSERT_LT(sends_done, sends);
      ASSERT_EQ(c.op, &send_ops[sends_done]) << "send " << sends_done << " expected";
      EXPECT_EQ(c.bytes, chunk);
      ++sends_done;
    }
  }
  EXPECT_EQ(received, out.size());
  EXPECT_TRUE(stays_idle(port_, proact::timeout{20}));
}

// ---- item 4: whole sends -------------------------------------------------------

class Item04_WholeSend : public PairTest {};

TEST_F(Item04_WholeSend, LargeSendCompletesWholeWhileThePeerReadsSlowly) {
  constexpr std::size_t size = 8 * 1024 * 1024;
  const std::vector<unsigned char> out = pattern(size, 6);
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::const_buffer{out.data(), out.size()}));

  std::vector<unsigned char> in(64 * 1024);
  proact::operation recv_op;
  std::size_t received = 0;
  bool sent = false;
  std::size_t recvs = 0;
  ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{in.data(), in.size()}));
  const auto deadline = clock_type::now() + 60s;
  while (received < size || !sent) {
    ASSERT_LT(clock_type::now(), deadline) << received << " bytes received";
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    if (c.op == &send_op) {
      ASSERT_FALSE(sent) << "the send completed twice";
      EXPECT_FALSE(c.error) << describe(c.error);
      EXPECT_EQ(c.bytes, size) << "a stream send must complete whole";
      sent = true;
      continue;
    }
    ASSERT_EQ(c.op, &recv_op);
    ASSERT_FALSE(c.error) << describe(c.error);
    ASSERT_EQ(first_mismatch(in.data(), c.bytes, received, 6), c.bytes) << "at " << received;
    received += c.bytes;
    if (++recvs % 8 == 0) std::this_thread::sleep_for(2ms);  // a slow reader
    if (received < size) {
      ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{in.data(), in.size()}));
    }
  }
  EXPECT_EQ(received, size);
}

TEST_F(Item04_WholeSend, GatherSendCompletesWholeInBufferOrder) {
  const std::vector<unsigned char> out = pattern(3 * 1024 * 1024 + 10, 7);
  const std::size_t a = 1024 * 1024 + 3;
  const std::size_t b = 7;
  const std::array<proact::const_buffer, 4> pieces = {
      proact::const_buffer{out.data(), a},
      proact::const_buffer{out.data() + a, 0},  // an empty piece is allowed
      proact::const_buffer{out.data() + a, b},
      proact::const_buffer{out.data() + a + b, out.size() - a - b},
  };
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, pieces));
  std::vector<unsigned char> in(out.size());
  // Read everything (the send finishes as the peer drains).
  std::size_t received = 0;
  bool sent = false;
  proact::operation recv_op;
  ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{in.data(), in.size()}));
  const auto deadline = clock_type::now() + 30s;
  while (received < out.size() || !sent) {
    ASSERT_LT(clock_type::now(), deadline);
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    ASSERT_FALSE(c.error) << describe(c.error);
    if (c.op == &send_op) {
      EXPECT_EQ(c.bytes, out.size());
      sent = true;
    } else {
      ASSERT_EQ(c.op, &recv_op);
      ASSERT_GT(c.bytes, 0u);
      received += c.bytes;
      if (received < out.size()) {
        ASSERT_OK(
            pair_.server.recv(recv_op, proact::buffer{in.data() + received, in.size() - received}));
      }
    }
  }
  EXPECT_EQ(first_mismatch(in.data(), in.size(), 0, 7), in.size());
}

TEST_F(Item04_WholeSend, SendCutShortByAResetReportsAnErrorAndTheBytesThatWent) {
  // The peer closes with unread data, which resets the connection while a
  // send far larger than the socket buffers is still in progress.
  constexpr std::size_t size = 64 * 1024 * 1024;
  std::vector<unsigned char> out(size, 0x5a);
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::const_buffer{out.data(), out.size()}));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{200}));  // the send cannot finish
  ASSERT_OK(pair_.server.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c, proact::timeout{10000}));
  ASSERT_EQ(c.op, &send_op);
  EXPECT_TRUE(c.error == proact::errc::connection_reset ||
              c.error == proact::errc::connection_aborted)
      << "expected connection_reset or connection_aborted, got " << describe(c.error);
  EXPECT_LT(c.bytes, size);
  std::printf("[   INFO   ] reset send reported %zu of %zu bytes, %s\n", c.bytes, size,
              describe(c.error).c_str());
  EXPECT_TRUE(stays_idle(port_));
}

// ---- item 5: recv ----------------------------------------------------------------

class Item05_Recv : public PairTest {};

TEST_F(Item05_Recv, CompletesWithTheBytesAvailableWithoutFillingTheBuffer) {
  std::vector<char> in(64 * 1024);
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::buffer{in.data(), in.size()}));
  const char message[] = "ten bytes";
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer(message, 10)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &op}, got));
  const proact::completion c = completion_of(got, &op);
  EXPECT_EQ(c.key, server_key);
  EXPECT_EQ(c.bytes, 10u);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(std::memcmp(in.data(), message, 10), 0);
}

TEST_F(Item05_Recv, StaysPendingUntilDataArrives) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{300}));
  EXPECT_TRUE(op.in_flight());
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("z", 1)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &op}, got));
  const proact::completion c = completion_of(got, &op);
  EXPECT_EQ(c.bytes, 1u);
  EXPECT_EQ(in[0], 'z');
}

TEST_F(Item05_Recv, ScatterRecvFillsTheBuffersInOrder) {
  char a[3] = {};
  char b[5] = {};
  char c8[8] = {};
  const std::array<proact::buffer, 3> pieces = {proact::make_buffer(a), proact::make_buffer(b),
                                                proact::make_buffer(c8)};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, pieces));
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("0123456789abcdef", 16)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &op}, got));
  const proact::completion c = completion_of(got, &op);
  ASSERT_FALSE(c.error) << describe(c.error);
  ASSERT_EQ(c.bytes, 16u);
  EXPECT_EQ(std::string(a, 3), "012");
  EXPECT_EQ(std::string(b, 5), "34567");
  EXPECT_EQ(std::string(c8, 8), "89abcdef");
}

TEST_F(Item05_Recv, ZeroLengthRecvWaitsForDataAndConsumesNothing) {
  char unused = 0;
  proact::operation probe;
  ASSERT_OK(pair_.server.recv(probe, proact::buffer{&unused, 0}));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{200}));
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("data", 4)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &probe}, got));
  const proact::completion c = completion_of(got, &probe);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
  char in[4] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 4));  // nothing was consumed
  EXPECT_EQ(std::string(in, 4), "data");
}

TEST_F(Item05_Recv, EchoOverIPv6) {
  std::string why;
  if (!ipv6_loopback_available(why)) GTEST_SKIP() << why;
  tcp_pair v6;
  ASSERT_TRUE(connect_pair(port_, v6, proact::address_family::ipv6, 61, 62));
  EXPECT_EQ(v6.client.family(), proact::address_family::ipv6);
  EXPECT_EQ(v6.server.family(), proact::address_family::ipv6);
  const std::vector<unsigned char> out = pattern(100000, 8);
  std::vector<unsigned char> in(out.size());
  proact::operation send_op;
  ASSERT_OK(v6.client.send(send_op, proact::const_buffer{out.data(), out.size()}));
  std::size_t received = 0;
  bool sent = false;
  proact::operation recv_op;
  ASSERT_OK(v6.server.recv(recv_op, proact::buffer{in.data(), in.size()}));
  while (received < in.size() || !sent) {
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    ASSERT_FALSE(c.error) << describe(c.error);
    if (c.op == &send_op) {
      EXPECT_EQ(c.key, 61u);
      sent = true;
    } else {
      ASSERT_EQ(c.op, &recv_op);
      EXPECT_EQ(c.key, 62u);
      received += c.bytes;
      if (received < in.size()) {
        ASSERT_OK(
            v6.server.recv(recv_op, proact::buffer{in.data() + received, in.size() - received}));
      }
    }
  }
  EXPECT_EQ(in, out);
}

// ---- item 5: end of stream ---------------------------------------------------------

class Item05_Eof : public PairTest {};

TEST_F(Item05_Eof, RecvAfterThePeerClosedGivesZeroBytesAndEof) {
  ASSERT_OK(pair_.client.close());
  std::this_thread::sleep_for(20ms);
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item05_Eof, PendingRecvCompletesWithEofWhenThePeerCloses) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  ASSERT_OK(pair_.client.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, server_key);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item05_Eof, DataSentBeforeTheShutdownIsDeliveredFirst) {
  ASSERT_TRUE(send_all(port_, pair_.client, "last words", 10));
  ASSERT_OK(pair_.client.close());
  std::this_thread::sleep_for(20ms);
  char in[64] = {};
  proact::operation first;
  proact::operation second;
  ASSERT_OK(pair_.server.recv(first, proact::make_buffer(in)));
  ASSERT_OK(pair_.server.recv(second, proact::make_buffer(in)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_TRUE(bytes_then_eof(got, first, second, 10));
}

// The data and the end reach the socket between two polls, while two recvs
// wait: one readiness report carries both. The first recv takes the data,
// and the second must still see the end behind it.
TEST_F(Item05_Eof, DataAndEndArrivingTogetherCompleteTwoPendingRecvs) {
  proact::port peer_port;
  ASSERT_OK(peer_port.open(options()));
  tcp_pair pair;
  ASSERT_TRUE(connect_split_pair(peer_port, port_, pair, client_key, server_key));
  char in[64] = {};
  proact::operation first;
  proact::operation second;
  ASSERT_OK(pair.server.recv(first, proact::make_buffer(in)));
  ASSERT_OK(pair.server.recv(second, proact::make_buffer(in)));
  ASSERT_TRUE(send_all(peer_port, pair.client, "last words", 10));
  ASSERT_OK(pair.client.close());
  std::this_thread::sleep_for(20ms);  // both arrive before port_ polls again
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_TRUE(bytes_then_eof(got, first, second, 10));
}

TEST_F(Item05_Eof, EveryLaterRecvGetsEofToo) {
  ASSERT_OK(pair_.client.close());
  char in[8] = {};
  proact::operation op;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.bytes, 0u);
    EXPECT_ERRC(c.error, eof) << "recv " << i;
  }
}

TEST_F(Item05_Eof, ZeroLengthRecvReportsEof) {
  ASSERT_OK(pair_.client.close());
  char unused = 0;
  proact::operation probe;
  ASSERT_OK(pair_.server.recv(probe, proact::buffer{&unused, 0}));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &probe);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, eof);
}

}  // namespace
}  // namespace proact_test
