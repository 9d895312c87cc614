// Item 1 (exactly one completion per started operation, on the right port)
// and item 2 (immediate results are delivered through the port).
#include <array>
#include <map>
#include <string>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

class Item01_ExactlyOnce : public PairTest {};

TEST_F(Item01_ExactlyOnce, EveryStartedOperationCompletesOnce) {
  constexpr std::size_t chunk = 1000;
  std::array<proact::operation, 4> recv_ops;
  std::array<proact::operation, 4> send_ops;
  std::array<proact::operation, 4> post_ops;
  std::array<std::array<unsigned char, chunk>, 4> in{};
  const std::vector<unsigned char> out = pattern(4 * chunk, 1);

  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_OK(pair_.server.recv(recv_ops[i], proact::buffer{in[i].data(), chunk}));
  }
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_OK(pair_.client.send(send_ops[i], proact::const_buffer{out.data() + i * chunk, chunk}));
  }
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_OK(port_.post(1000 + i, i, &post_ops[i]));
  }

  std::map<const proact::operation*, int> seen;
  std::size_t received = 0;
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 12, got));
  for (const proact::completion& c : got) {
    ++seen[c.op];
    EXPECT_FALSE(c.error) << describe(c.error);
    for (std::size_t i = 0; i < 4; ++i) {
      if (c.op == &recv_ops[i]) {
        EXPECT_EQ(c.key, server_key);
        received += c.bytes;
      }
      if (c.op == &send_ops[i]) {
        EXPECT_EQ(c.key, client_key);
        EXPECT_EQ(c.bytes, chunk);
      }
      if (c.op == &post_ops[i]) {
        EXPECT_EQ(c.key, 1000 + i);
      }
    }
  }
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(seen[&recv_ops[i]], 1) << "recv " << i;
    EXPECT_EQ(seen[&send_ops[i]], 1) << "send " << i;
    EXPECT_EQ(seen[&post_ops[i]], 1) << "post " << i;
  }
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_GT(received, 0u);
  EXPECT_LE(received, 4 * chunk);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item01_ExactlyOnce, FailedStartReturnsTheErrorAndProducesNoCompletion) {
  char byte = 0;
  proact::operation op;
  std::array<proact::buffer, proact::max_buffers + 1> too_many{};
  for (auto& b : too_many) b = proact::buffer{&byte, 1};
  EXPECT_ERRC(pair_.server.recv(op, too_many), invalid_argument);
  EXPECT_FALSE(op.in_flight());
  EXPECT_ERRC(pair_.client.send(op, proact::const_buffer{&byte, proact::max_transfer_size + 1}),
              buffer_too_large);
  EXPECT_FALSE(op.in_flight());
  EXPECT_ERRC(pair_.client.connect(op, proact::endpoint{}), invalid_argument);
  EXPECT_FALSE(op.in_flight());

  proact::operation busy;
  ASSERT_OK(port_.post(1, 0, &busy));
  EXPECT_ERRC(pair_.server.recv(busy, proact::buffer{&byte, 1}), operation_in_progress);
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &busy);
  EXPECT_EQ(c.key, 1u);  // the post's packet, not a recv's
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item01_ExactlyOnce, CompletesOnTheAssociatedPortOnly) {
  proact::port other;
  ASSERT_OK(other.open(options()));
  tcp_pair elsewhere;
  ASSERT_TRUE(connect_pair(other, elsewhere, proact::address_family::ipv4, 71, 72));

  const char message[] = "hello";
  char in[16] = {};
  proact::operation recv_op;
  proact::operation send_op;
  ASSERT_OK(elsewhere.server.recv(recv_op, proact::make_buffer(in)));
  ASSERT_OK(elsewhere.client.send(send_op, proact::make_buffer(message, sizeof(message))));
  EXPECT_TRUE(stays_idle(port_));  // nothing leaks to the first port

  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(other, 2, got));
  for (const proact::completion& c : got) {
    EXPECT_FALSE(c.error) << describe(c.error);
    if (c.op == &recv_op) {
      EXPECT_EQ(c.key, 72u);
      EXPECT_EQ(c.bytes, sizeof(message));
    } else {
      EXPECT_EQ(c.op, &send_op);
      EXPECT_EQ(c.key, 71u);
    }
  }
  EXPECT_STREQ(in, "hello");
  EXPECT_TRUE(stays_idle(other));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{0}));
}

TEST_F(Item01_ExactlyOnce, OperationIsInFlightFromStartUntilDequeued) {
  char in[8] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_TRUE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
  EXPECT_TRUE(op.in_flight());
  const char message[] = "abc";
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer(message, 3)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, 2, got));
  EXPECT_FALSE(op.in_flight());
  EXPECT_FALSE(send_op.in_flight());
  // A completed operation may be started again, for anything.
  ASSERT_OK(pair_.server.send(op, proact::make_buffer(message, 3)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.key, server_key);
  EXPECT_EQ(c.bytes, 3u);
}

TEST_F(Item01_ExactlyOnce, OperationOutlivesTheThreadThatStartedIt) {
  // Windows cancels a thread's pending I/O when it exits unless the handle
  // is associated with a completion port: proact's operations belong to the
  // port, not to the starting thread.
  char in[8] = {};
  proact::operation recv_op;
  std::error_code started;
  std::thread starter([&] { started = pair_.server.recv(recv_op, proact::make_buffer(in)); });
  starter.join();
  ASSERT_OK(started);
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));
  proact::operation send_op;
  ASSERT_OK(pair_.client.send(send_op, proact::make_buffer("alive", 5)));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&send_op, &recv_op}, got));
  const proact::completion c = completion_of(got, &recv_op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(std::string(in, c.bytes), "alive");
}

TEST_F(Item01_ExactlyOnce, SendsOutliveTheThreadThatStartedThem) {
  // Far more than the socket buffers hold, then a second send queued behind
  // it: both are still in progress when their thread has gone.
  const std::vector<unsigned char> out = pattern(32 * 1024 * 1024 + 1024, 9);
  const std::size_t first_size = 32 * 1024 * 1024;
  proact::operation first;
  proact::operation second;
  std::error_code started_first;
  std::error_code started_second;
  std::thread starter([&] {
    started_first = pair_.client.send(first, proact::const_buffer{out.data(), first_size});
    started_second = pair_.client.send(
        second, proact::const_buffer{out.data() + first_size, out.size() - first_size});
  });
  starter.join();
  ASSERT_OK(started_first);
  ASSERT_OK(started_second);
  EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));
  std::vector<unsigned char> in(out.size());
  std::size_t received = 0;
  int sends_done = 0;
  proact::operation recv_op;
  ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{in.data(), in.size()}));
  const auto deadline = clock_type::now() + 30s;
  while (received < in.size() || sends_done < 2) {
    ASSERT_LT(clock_type::now(), deadline);
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    const char* what = c.op == &first    ? " (first send)"
                       : c.op == &second ? " (second send)"
                                         : " (recv)";
    ASSERT_FALSE(c.error) << describe(c.error) << what;
    if (c.op == &first || c.op == &second) {
      EXPECT_EQ(c.op, sends_done == 0 ? &first : &second) << "sends completed out of order";
      EXPECT_EQ(c.bytes, c.op == &first ? first_size : out.size() - first_size) << what;
      ++sends_done;
    } else {
      received += c.bytes;
      if (received < in.size()) {
        ASSERT_OK(
            pair_.server.recv(recv_op, proact::buffer{in.data() + received, in.size() - received}));
      }
    }
  }
  EXPECT_EQ(in, out);
}

TEST_F(Item01_ExactlyOnce, AHandlersSendGoesOutWhenItsThreadWaitsElsewhereOrExits) {
  // A thread running a completion of port_ starts a send there, then never
  // waits on port_ again: it waits on another port, or it exits. The send
  // still goes out (a backend may hold a start back for the thread's next
  // wait, never past it). The receiver is on the other port, so nothing
  // here waits on port_ until the bytes arrived.
  proact::port other;
  ASSERT_OK(other.open(options()));
  tcp_pair split;
  ASSERT_TRUE(connect_split_pair(port_, other, split, 81, 82));
  for (const bool exits : {false, true}) {
    SCOPED_TRACE(exits ? "the thread exits" : "the thread waits on another port");
    char in[8] = {};
    proact::operation recv_op;
    proact::operation send_op;
    proact::operation wake;
    ASSERT_OK(split.server.recv(recv_op, proact::make_buffer(in)));
    ASSERT_OK(port_.post(5, 0, &wake));
    std::error_code dequeued = make_error_code(proact::error::timed_out);
    std::error_code started;
    std::error_code waited_elsewhere;
    proact::completion seen_elsewhere;
    std::thread handler([&] {
      proact::completion c;
      dequeued = port_.wait(c, must_happen_within);
      if (dequeued || c.op != &wake) return;
      // Running port_'s completion: start I/O there and move on.
      started = split.client.send(send_op, proact::make_buffer("moved", 5));
      if (!exits) waited_elsewhere = other.wait(seen_elsewhere, must_happen_within);
    });
    handler.join();
    ASSERT_OK(dequeued);
    ASSERT_OK(started);
    if (exits) {
      ASSERT_TRUE(wait_one(other, seen_elsewhere));
    } else {
      ASSERT_OK(waited_elsewhere);
    }
    EXPECT_EQ(seen_elsewhere.op, &recv_op);
    EXPECT_FALSE(seen_elsewhere.error) << describe(seen_elsewhere.error);
    EXPECT_EQ(std::string(in, seen_elsewhere.bytes), "moved");
    proact::completion sent;
    ASSERT_TRUE(wait_one(port_, sent));
    EXPECT_EQ(sent.op, &send_op);
    EXPECT_EQ(sent.bytes, 5U);
  }
}

// ---- item 2 ------------------------------------------------------------------

class Item02_ThroughThePort : public PairTest {};

TEST_F(Item02_ThroughThePort, ImmediateSendIsDeliveredByWait) {
  const char message[] = "x";
  proact::operation op;
  ASSERT_OK(pair_.client.send(op, proact::make_buffer(message, 1)));
  // The kernel took the byte at once, but the result is not handed back
  // inline: the operation stays in flight until a wait dequeues it.
  EXPECT_TRUE(op.in_flight());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, 1u);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item02_ThroughThePort, RecvWithDataAlreadyWaitingIsDeliveredByWait) {
  const char message[] = "ready";
  ASSERT_TRUE(send_all(port_, pair_.client, message, sizeof(message)));
  std::this_thread::sleep_for(20ms);
  char in[32] = {};
  proact::operation op;
  ASSERT_OK(pair_.server.recv(op, proact::make_buffer(in)));
  EXPECT_TRUE(op.in_flight());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, sizeof(message));
  EXPECT_STREQ(in, "ready");
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item02_ThroughThePort, ImmediateResultIsDequeuedByAnyWaitingThread) {
  // The result is queued on the port, not kept for the thread that started it.
  proact::completion c;
  std::error_code wait_result;
  std::thread waiter([&] { wait_result = port_.wait(c, must_happen_within); });
  std::this_thread::sleep_for(settle_time);
  const char message[] = "hi";
  proact::operation op;
  const std::error_code started = pair_.client.send(op, proact::make_buffer(message, 2));
  waiter.join();
  ASSERT_OK(started);
  ASSERT_OK(wait_result);
  EXPECT_EQ(c.op, &op);
  EXPECT_EQ(c.bytes, 2u);
}

}  // namespace
}  // namespace proact_test
