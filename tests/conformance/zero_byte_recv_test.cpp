// Item 20: a recv with no buffer space waits for data without consuming it
// (the IOCP idiom for keeping no buffer per idle connection).
#include <array>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"

namespace proact_test {
namespace {

class Item20_ZeroByteRecv : public PairTest {};

TEST_F(Item20_ZeroByteRecv, CompletesWhenDataArrivesWithoutConsumingIt) {
  proact::operation probe;
  ASSERT_OK(pair_.server.recv(probe, proact::buffer{nullptr, 0}));  // a null pointer is fine
  EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));
  EXPECT_TRUE(probe.in_flight());
  // The send's completion and the probe's may come in either order (no
  // order between sockets; on IOCP the data can complete the probe before
  // the send's own packet is queued).
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("payload", 7)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &probe}, got));
  EXPECT_FALSE(completion_of(got, &send_op).error);
  const proact::completion c = completion_of(got, &probe);
  EXPECT_EQ(c.op, &probe);
  EXPECT_EQ(c.key, server_key);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
  // Every byte is still there for the real recv.
  char in[7] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 7));
  EXPECT_EQ(text(in, 7), "payload");
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item20_ZeroByteRecv, CompletesAtOnceWhenDataIsAlreadyWaiting) {
  ASSERT_TRUE(send_all(port_, pair_.client, "early", 5));
  std::this_thread::sleep_for(20ms);
  for (int round = 0; round < 2; ++round) {  // nothing consumed: twice the same
    proact::operation probe;
    ASSERT_OK(pair_.server.recv(probe, proact::buffer{nullptr, 0}));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c, proact::timeout{1000}));
    EXPECT_EQ(c.op, &probe);
    EXPECT_EQ(c.bytes, 0u);
    EXPECT_FALSE(c.error) << describe(c.error);
  }
  char in[5] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 5));
  EXPECT_EQ(text(in, 5), "early");
}

TEST_F(Item20_ZeroByteRecv, ScatterListOfEmptyBuffersIsAProbeToo) {
  char unused[1] = {};
  const std::array<proact::buffer, 2> empty = {proact::buffer{unused, 0},
                                               proact::buffer{nullptr, 0}};
  proact::operation probe;
  ASSERT_OK(pair_.server.recv(probe, empty));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  proact::operation send_op;  // completes before or after the probe
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("x", 1)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &probe}, got));
  EXPECT_FALSE(completion_of(got, &send_op).error);
  const proact::completion c = completion_of(got, &probe);
  EXPECT_EQ(c.op, &probe);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
  char in[1] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 1));
  EXPECT_EQ(in[0], 'x');
}

TEST_F(Item20_ZeroByteRecv, ReportsEofAtTheEndOfTheStream) {
  proact::operation probe;
  ASSERT_OK(pair_.server.recv(probe, proact::buffer{nullptr, 0}));
  ASSERT_OK(pair_.client.shutdown_send());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &probe);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item20_ZeroByteRecv, DataBeforeTheEndIsReportedAsDataFirst) {
  ASSERT_TRUE(send_all(port_, pair_.client, "last", 4));
  ASSERT_OK(pair_.client.shutdown_send());
  std::this_thread::sleep_for(20ms);
  proact::operation probe;
  ASSERT_OK(pair_.server.recv(probe, proact::buffer{nullptr, 0}));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &probe);
  EXPECT_FALSE(c.error) << "data is waiting, so not yet the end: " << describe(c.error);
  char in[4] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 4));
  ASSERT_OK(pair_.server.recv(probe, proact::buffer{nullptr, 0}));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item20_ZeroByteRecv, OnALocalStreamToo) {
  proact::local_stream a;
  proact::local_stream b;
  ASSERT_OK(proact::local_stream::pair(a, b));
  ASSERT_OK(port_.associate(a, local_key_a));
  ASSERT_OK(port_.associate(b, local_key_b));
  proact::operation probe;
  ASSERT_OK(b.recv(probe, proact::buffer{nullptr, 0}));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));
  proact::operation send_op;
  ASSERT_OK(a.send(send_op, proact::make_buffer("pipe", 4)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &probe}, got));
  const proact::completion c = completion_of(got, &probe);
  EXPECT_EQ(c.key, local_key_b);
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_FALSE(c.error) << describe(c.error);
  char in[8] = {};
  proact::operation recv_op;
  ASSERT_OK(b.recv(recv_op, proact::make_buffer(in)));
  proact::completion r;
  ASSERT_TRUE(wait_one(port_, r));
  EXPECT_EQ(r.op, &recv_op);
  EXPECT_EQ(text(in, r.bytes), "pipe");
  // At the end of the stream: eof.
  ASSERT_OK(a.close());
  ASSERT_OK(b.recv(probe, proact::buffer{nullptr, 0}));
  ASSERT_TRUE(wait_one(port_, r));
  EXPECT_EQ(r.op, &probe);
  EXPECT_ERRC(r.error, eof);
}

}  // namespace
}  // namespace proact_test
