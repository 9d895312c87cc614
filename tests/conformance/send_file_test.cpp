// Item 17: send_file, a byte range of a file sent on a connected socket.
#include <algorithm>
#include <string>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

using proact::file_mode;

class Item17_SendFile : public FileTest {
 protected:
  void SetUp() override {
    FileTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_TRUE(connect_pair(port_, pair_));
  }

  // A file holding pattern(size, seed), open for reading (not associated).
  void make_source(proact::file& f, std::size_t size, unsigned seed) {
    const std::vector<unsigned char> data = pattern(size, seed);
    ASSERT_TRUE(create_file("source", data.data(), data.size()));
    ASSERT_OK(f.open(dir_.path("source"), file_mode::read));
  }

  // Runs until `op` (on the client) completed and the server saw end of
  // stream, receiving everything into `received`; the client's send side is
  // shut down once `op` completed.
  void complete_and_receive(const proact::operation& op, proact::completion& done,
                            std::vector<unsigned char>& received) {
    std::vector<unsigned char> chunk(256 * 1024);
    proact::operation recv_op;
    ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{chunk.data(), chunk.size()}));
    bool completed = false;
    const auto deadline = clock_type::now() + 60s;
    for (;;) {
      ASSERT_LT(clock_type::now(), deadline) << received.size() << " bytes received";
      proact::completion c;
      ASSERT_TRUE(wait_one(port_, c));
      if (c.op == &op) {
        ASSERT_FALSE(completed) << "the operation completed twice";
        completed = true;
        done = c;
        ASSERT_OK(pair_.client.shutdown_send());
        continue;
      }
      ASSERT_EQ(c.op, &recv_op);
      if (c.error == proact::errc::eof) break;
      ASSERT_FALSE(c.error) << describe(c.error);
      received.insert(received.end(), chunk.data(), chunk.data() + c.bytes);
      ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{chunk.data(), chunk.size()}));
    }
    ASSERT_TRUE(completed) << "end of stream before the operation completed";
  }

  tcp_pair pair_;
};

TEST_F(Item17_SendFile, SendsExactlyTheRangeAndCompletesWhenWhole) {
  proact::file source;
  make_source(source, 1024 * 1024, 31);
  if (HasFatalFailure()) return;
  constexpr std::size_t offset = 1000;
  constexpr std::size_t count = 500000;
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, offset, count));
  proact::completion done;
  std::vector<unsigned char> received;
  complete_and_receive(op, done, received);
  if (HasFatalFailure()) return;
  EXPECT_EQ(done.key, client_key);
  EXPECT_FALSE(done.error) << describe(done.error);
  EXPECT_EQ(done.bytes, count);
  ASSERT_EQ(received.size(), count);
  EXPECT_EQ(first_mismatch(received.data(), received.size(), offset, 31), received.size());
}

TEST_F(Item17_SendFile, LargeRangeCompletesWholeWhileThePeerReadsSlowly) {
  constexpr std::size_t size = 32 * 1024 * 1024;
  proact::file source;
  make_source(source, size, 32);
  if (HasFatalFailure()) return;
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, 0, size));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));  // cannot finish before the peer reads
  proact::completion done;
  std::vector<unsigned char> received;
  complete_and_receive(op, done, received);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(done.error) << describe(done.error);
  EXPECT_EQ(done.bytes, size);
  ASSERT_EQ(received.size(), size);
  EXPECT_EQ(first_mismatch(received.data(), received.size(), 0, 32), received.size());
}

TEST_F(Item17_SendFile, RangePastTheEndCompletesWithEofAndTheBytesSent) {
  proact::file source;
  make_source(source, 1000, 33);
  if (HasFatalFailure()) return;
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, 900, 500));
  proact::completion done;
  std::vector<unsigned char> received;
  complete_and_receive(op, done, received);
  if (HasFatalFailure()) return;
  EXPECT_ERRC(done.error, eof);
  EXPECT_EQ(done.bytes, 100u);
  ASSERT_EQ(received.size(), 100u);
  EXPECT_EQ(first_mismatch(received.data(), received.size(), 900, 33), received.size());
}

TEST_F(Item17_SendFile, RangeStartingAtOrPastTheEndSendsNothingAndGivesEof) {
  proact::file source;
  make_source(source, 1000, 34);
  if (HasFatalFailure()) return;
  for (const std::uint64_t offset : {std::uint64_t{1000}, std::uint64_t{5000}}) {
    proact::operation op;
    ASSERT_OK(pair_.client.send_file(op, source, offset, 10));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    EXPECT_ERRC(c.error, eof) << "at offset " << offset;
    EXPECT_EQ(c.bytes, 0u);
  }
  // Nothing went: the next bytes the peer reads are those of a plain send.
  ASSERT_TRUE(send_all(port_, pair_.client, "after", 5));
  char in[5] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 5));
  EXPECT_EQ(text(in, 5), "after");
}

TEST_F(Item17_SendFile, ZeroCountCompletesWithZeroBytes) {
  proact::file source;
  make_source(source, 1000, 35);
  if (HasFatalFailure()) return;
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, 10, 0));  // not "the whole file"
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 0u);
  ASSERT_TRUE(send_all(port_, pair_.client, "next", 4));
  char in[4] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 4));
  EXPECT_EQ(text(in, 4), "next");
}

TEST_F(Item17_SendFile, GoesAfterTheSendsStartedBeforeItAndBeforeLaterOnes) {
  constexpr std::size_t file_size = 3 * 1024 * 1024;
  proact::file source;
  make_source(source, file_size, 36);
  if (HasFatalFailure()) return;
  // A send larger than the socket buffers first, so that send_file must wait.
  const std::vector<unsigned char> before(4 * 1024 * 1024, 'B');
  const std::string after = "after the file";
  proact::operation send_before;
  proact::operation send_file_op;
  proact::operation send_after;
  ASSERT_OK(pair_.client.send(send_before, proact::const_buffer(before.data(), before.size())));
  ASSERT_OK(pair_.client.send_file(send_file_op, source, 0, file_size));
  ASSERT_OK(pair_.client.send(send_after, proact::const_buffer(after.data(), after.size())));

  std::vector<unsigned char> chunk(256 * 1024);
  std::vector<unsigned char> received;
  proact::operation recv_op;
  ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{chunk.data(), chunk.size()}));
  std::vector<const proact::operation*> completed;
  const std::size_t total = before.size() + file_size + after.size();
  const auto deadline = clock_type::now() + 60s;
  while (completed.size() < 3 || received.size() < total) {
    ASSERT_LT(clock_type::now(), deadline) << received.size() << " bytes received";
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    ASSERT_FALSE(c.error) << describe(c.error);
    if (c.op == &recv_op) {
      received.insert(received.end(), chunk.data(), chunk.data() + c.bytes);
      if (received.size() < total) {
        ASSERT_OK(pair_.server.recv(recv_op, proact::buffer{chunk.data(), chunk.size()}));
      }
      continue;
    }
    completed.push_back(c.op);
  }
  // Completions in start order; bytes on the wire in start order.
  ASSERT_EQ(completed.size(), 3u);
  EXPECT_EQ(completed[0], &send_before);
  EXPECT_EQ(completed[1], &send_file_op);
  EXPECT_EQ(completed[2], &send_after);
  ASSERT_EQ(received.size(), total);
  EXPECT_EQ(std::vector<unsigned char>(received.begin(), received.begin() + before.size()), before);
  EXPECT_EQ(first_mismatch(received.data() + before.size(), file_size, 0, 36), file_size);
  EXPECT_EQ(text(received.data() + before.size() + file_size, after.size()), after);
}

TEST_F(Item17_SendFile, SourceFileMayBeAssociatedWithThePort) {
  const std::vector<unsigned char> data = pattern(100000, 37);
  ASSERT_TRUE(create_file("source", data.data(), data.size()));
  proact::file source;
  ASSERT_TRUE(open_associated(source, "source", file_mode::read));
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, 10, 50000));
  proact::completion done;
  std::vector<unsigned char> received;
  complete_and_receive(op, done, received);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(done.error) << describe(done.error);
  EXPECT_EQ(done.bytes, 50000u);
  EXPECT_EQ(done.key, client_key);  // not the file's key
  ASSERT_EQ(received.size(), 50000u);
  EXPECT_EQ(first_mismatch(received.data(), received.size(), 10, 37), received.size());
  EXPECT_TRUE(stays_idle(port_));  // nothing for the file itself
}

TEST_F(Item17_SendFile, ClosedOrUnopenedSourceIsABadHandle) {
  proact::file never_opened;
  proact::operation op;
  EXPECT_ERRC(pair_.client.send_file(op, never_opened, 0, 10), bad_handle);
  proact::file closed;
  make_source(closed, 10, 38);
  if (HasFatalFailure()) return;
  ASSERT_OK(closed.close());
  EXPECT_ERRC(pair_.client.send_file(op, closed, 0, 10), bad_handle);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item17_SendFile, CutShortByAResetReportsAnErrorAndTheBytesThatWent) {
  // The peer closes with unread data while a range far larger than the socket
  // buffers is being sent: a reset (and, on Linux, EPIPE from sendfile, which
  // must not raise SIGPIPE and kill the process).
  proact::file source;
  ASSERT_OK(
      source.open(dir_.path("large"), file_mode::read | file_mode::write | file_mode::create));
  ASSERT_OK(port_.associate(source, file_key));
  ASSERT_TRUE(write_at_and_wait(port_, source, stuck_transfer_size - 1, "z", 1));
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, 0, stuck_transfer_size));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{200}));  // it cannot finish
  ASSERT_OK(pair_.server.close());
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c, proact::timeout{10000}));
  ASSERT_EQ(c.op, &op);
  EXPECT_EQ(c.key, client_key);
  EXPECT_TRUE(c.error == proact::errc::connection_reset ||
              c.error == proact::errc::connection_aborted)
      << "expected connection_reset or connection_aborted, got " << describe(c.error);
  EXPECT_LT(c.bytes, stuck_transfer_size);
  // A later send_file on the reset connection fails too, without a signal.
  ASSERT_OK(pair_.client.send_file(op, source, 0, 1000));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_TRUE(c.error) << "a send_file on a reset connection succeeded";
  EXPECT_TRUE(stays_idle(port_));
}

// What `received` holds from `at` on: `expected`; false (with a failure) if not.
bool holds_at(const std::vector<unsigned char>& received, std::size_t at,
              const std::string& expected) {
  EXPECT_GE(received.size(), at + expected.size());
  if (received.size() < at + expected.size()) return false;
  const std::string got(received.begin() + static_cast<std::ptrdiff_t>(at),
                        received.begin() + static_cast<std::ptrdiff_t>(at + expected.size()));
  EXPECT_EQ(got, expected) << "at byte " << at;
  return got == expected;
}

// `received` is `head`, then `count` bytes of pattern `seed` from file offset
// `offset`, then `tail`, and nothing else.
void expect_framed(const std::vector<unsigned char>& received, const std::string& head,
                   std::size_t count, std::size_t offset, unsigned seed, const std::string& tail) {
  ASSERT_EQ(received.size(), head.size() + count + tail.size());
  EXPECT_TRUE(holds_at(received, 0, head));
  EXPECT_EQ(first_mismatch(received.data() + head.size(), count, offset, seed), count);
  EXPECT_TRUE(holds_at(received, head.size() + count, tail));
}

TEST_F(Item17_SendFile, HeadRangeAndTailGoInOrderAsOneOperation) {
  proact::file source;
  make_source(source, 200000, 40);
  if (HasFatalFailure()) return;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n";
  const std::string tail = "\r\n0\r\n\r\n";
  const proact::send_file_buffers around{{head.data(), head.size()}, {tail.data(), tail.size()}};
  constexpr std::size_t offset = 1234;
  constexpr std::size_t count = 50000;
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, offset, count, around));
  proact::completion done;
  std::vector<unsigned char> received;
  complete_and_receive(op, done, received);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(done.error) << describe(done.error);
  EXPECT_EQ(done.bytes, head.size() + count + tail.size());  // all three count
  expect_framed(received, head, count, offset, 40, tail);
}

TEST_F(Item17_SendFile, HeadAndTailLargerThanTheSocketBuffersGoWhole) {
  proact::file source;
  make_source(source, 1024 * 1024 + 7, 41);
  if (HasFatalFailure()) return;
  const std::string head(4 * 1024 * 1024, 'h');
  const std::string tail(4 * 1024 * 1024, 't');
  const proact::send_file_buffers around{{head.data(), head.size()}, {tail.data(), tail.size()}};
  // A long range and a short one (a backend may copy a short one).
  for (const std::size_t count : {std::size_t{1024 * 1024}, std::size_t{10000}}) {
    SCOPED_TRACE(count);
    proact::operation op;
    ASSERT_OK(pair_.client.send_file(op, source, 7, count, around));
    EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));  // cannot finish before the peer reads
    proact::completion done;
    std::vector<unsigned char> received;
    complete_and_receive(op, done, received);
    if (HasFatalFailure()) return;
    EXPECT_FALSE(done.error) << describe(done.error);
    const std::size_t total = head.size() + count + tail.size();
    EXPECT_EQ(done.bytes, total);
    expect_framed(received, head, count, 7, 41, tail);
    if (HasFatalFailure()) return;
    if (count != 10000) {
      // complete_and_receive shut the sending side down: a new pair.
      ASSERT_OK(pair_.client.close());
      ASSERT_OK(pair_.server.close());
      ASSERT_TRUE(connect_pair(port_, pair_));
    }
  }
}

TEST_F(Item17_SendFile, FileEndingFirstStillSendsTheTailAndGivesEof) {
  proact::file source;
  make_source(source, 1000, 42);
  if (HasFatalFailure()) return;
  const std::string head = "head:";
  const std::string tail = ":tail";
  const proact::send_file_buffers around{{head.data(), head.size()}, {tail.data(), tail.size()}};
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, 900, 500, around));
  proact::completion done;
  std::vector<unsigned char> received;
  complete_and_receive(op, done, received);
  if (HasFatalFailure()) return;
  EXPECT_ERRC(done.error, eof);
  EXPECT_EQ(done.bytes, head.size() + 100 + tail.size());
  expect_framed(received, head, 100, 900, 42, tail);
}

TEST_F(Item17_SendFile, HeadOfARangePastTheEndStillReachesThePeer) {
  // Nothing of the file follows the head: it must not wait in the socket
  // for bytes that never come (Linux holds a segment sent with more to come
  // for 200 ms). The peer reads it while the connection stays quiet. A
  // held head is late every time; a slow scheduler only now and then, so a
  // late head is tried again before it counts as held.
  proact::file source;
  make_source(source, 1000, 43);
  if (HasFatalFailure()) return;
  const std::string head = "a head alone";
  const proact::send_file_buffers around{{head.data(), head.size()}, {}};
  auto fastest = clock_type::duration::max();
  for (int attempt = 0; attempt < 3 && fastest >= 150ms; ++attempt) {
    proact::operation op;
    // A long range: the head waits for it where ranges go by sendfile.
    ASSERT_OK(pair_.client.send_file(op, source, 1000, 1024 * 1024, around));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    EXPECT_ERRC(c.error, eof);
    EXPECT_EQ(c.bytes, head.size());
    std::string in(head.size(), '\0');
    const auto started = clock_type::now();
    ASSERT_TRUE(recv_exactly(port_, pair_.server, in.data(), in.size()));
    fastest = std::min(fastest, clock_type::now() - started);
    EXPECT_EQ(in, head);
  }
  EXPECT_LT(fastest, 150ms) << "the head was held back";
}

TEST_F(Item17_SendFile, ZeroCountSendsTheHeadAndTheTail) {
  proact::file source;
  make_source(source, 1000, 44);
  if (HasFatalFailure()) return;
  const std::string head = "head";
  const std::string tail = "tail";
  const proact::send_file_buffers around{{head.data(), head.size()}, {tail.data(), tail.size()}};
  proact::operation op;
  ASSERT_OK(pair_.client.send_file(op, source, 10, 0, around));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &op);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 8u);
  char in[8] = {};
  ASSERT_TRUE(recv_exactly(port_, pair_.server, in, 8));
  EXPECT_EQ(text(in, 8), "headtail");
}

TEST_F(Item17_SendFile, BadHeadOrTailIsRefused) {
  proact::file source;
  make_source(source, 10, 45);
  if (HasFatalFailure()) return;
  proact::operation op;
  const char byte = 'x';
  // A null pointer with a size.
  EXPECT_ERRC(
      pair_.client.send_file(op, source, 0, 10, proact::send_file_buffers{{nullptr, 5}, {}}),
      invalid_argument);
  EXPECT_ERRC(
      pair_.client.send_file(op, source, 0, 10, proact::send_file_buffers{{}, {nullptr, 5}}),
      invalid_argument);
  // Head, range and tail together above max_transfer_size.
  EXPECT_ERRC(pair_.client.send_file(op, source, 0, proact::max_transfer_size,
                                     proact::send_file_buffers{{&byte, 1}, {}}),
              buffer_too_large);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item17_SendFile, CountAboveMaxTransferSizeIsRefused) {
  proact::file source;
  make_source(source, 10, 39);
  if (HasFatalFailure()) return;
  proact::operation op;
  EXPECT_ERRC(pair_.client.send_file(op, source, 0, proact::max_transfer_size + 1),
              buffer_too_large);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

}  // namespace
}  // namespace proact_test
