// Item 25: flush, an operation: it completes once with 0 bytes when the
// file's data is durable, is cancellable while it waits, and ends exactly
// once under cancel, close and port close. A copy with overlapping
// read_at/write_at and a final flush is byte-exact.
#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fixture.hpp"

namespace proact_test {
namespace {

using proact::file_mode;
using proact::flush_mode;

constexpr file_mode read_write = file_mode::read | file_mode::write | file_mode::create;

class Item25_Flush : public FileTest {
 protected:
  // Starts `n` flushes on `f` (alternating data and all).
  template <std::size_t N>
  void start_flushes(proact::file& f, std::array<proact::operation, N>& ops) {
    for (std::size_t i = 0; i < N; ++i)
      ASSERT_OK(f.flush(ops[i], i % 2 == 0 ? flush_mode::data : flush_mode::all));
  }
  // Each of `ops` completed exactly once in `got`, with 0 bytes and success
  // or operation_aborted; returns how many were aborted.
  template <std::size_t N>
  std::size_t check_once(const std::vector<proact::completion>& got,
                         const std::array<proact::operation, N>& ops) {
    std::map<const proact::operation*, int> seen;
    std::size_t aborted = 0;
    for (const proact::completion& c : got) {
      ++seen[c.op];
      EXPECT_EQ(c.key, file_key);
      EXPECT_EQ(c.bytes, 0u);
      if (c.error) {
        EXPECT_ERRC(c.error, operation_aborted);
        ++aborted;
      }
    }
    for (const proact::operation& op : ops) EXPECT_EQ(seen[&op], 1);
    return aborted;
  }
};

TEST_F(Item25_Flush, CompletesOnceWithZeroBytesForDataAndForAll) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "flushed", read_write));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "durable", 7));
  for (const flush_mode what : {flush_mode::data, flush_mode::all}) {
    proact::operation op;
    ASSERT_OK(f.flush(op, what));
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_for(port_, {&op}, got));
    EXPECT_EQ(got[0].key, file_key);
    EXPECT_EQ(got[0].bytes, 0u);
    EXPECT_FALSE(got[0].error) << describe(got[0].error);
  }
  EXPECT_TRUE(stays_idle(port_));
  char in[7] = {};
  proact::completion c;
  ASSERT_TRUE(read_at_and_wait(port_, f, 0, in, sizeof(in), c));
  EXPECT_EQ(text(in, c.bytes), "durable");
}

TEST_F(Item25_Flush, NeedsAnAssociatedOpenFile) {
  proact::operation op;
  proact::file never_opened;
  EXPECT_ERRC(never_opened.flush(op), bad_handle);
  proact::file unassociated;
  ASSERT_OK(unassociated.open(dir_.path("plain"), read_write));
  EXPECT_ERRC(unassociated.flush(op), not_associated);
  ASSERT_OK(port_.associate(unassociated, file_key));
  ASSERT_OK(unassociated.close());
  EXPECT_ERRC(unassociated.flush(op, flush_mode::data), bad_handle);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item25_Flush, FileOpenedWithoutWriteIsRefused) {
  ASSERT_TRUE(create_file("read-only", "data", 4));
  proact::file f;
  ASSERT_TRUE(open_associated(f, "read-only", file_mode::read));
  proact::operation op;
  EXPECT_ERRC(f.flush(op), bad_handle);
  EXPECT_ERRC(f.flush(op, flush_mode::data), bad_handle);
  EXPECT_FALSE(op.in_flight());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item25_Flush, InFlightFlushCannotBeStartedAgain) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "again", read_write));
  proact::operation op;
  ASSERT_OK(f.flush(op));
  EXPECT_ERRC(f.flush(op), operation_in_progress);
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&op}, got));
  EXPECT_FALSE(got[0].error) << describe(got[0].error);
  EXPECT_TRUE(stays_idle(port_));
}

// A flush still waiting for a thread or the kernel is cancelled; one being
// performed completes with its own result and cancel says not_found.
TEST_F(Item25_Flush, CancelAbortsItOrLetsItCompleteOnce) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "cancel", read_write));
  const std::vector<unsigned char> data = pattern(256 * 1024, 71);
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, data.data(), data.size()));
  std::array<proact::operation, 8> ops;
  start_flushes(f, ops);
  if (HasFatalFailure()) return;
  std::map<const proact::operation*, std::error_code> answers;
  for (std::size_t i = ops.size(); i-- > 0;) answers[&ops[i]] = f.cancel(ops[i]);
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, ops.size(), got));
  const std::size_t aborted = check_once(got, ops);
  for (const proact::completion& c : got) {
    if (!answers[c.op]) {
      EXPECT_ERRC(c.error, operation_aborted) << "cancel succeeded, so the flush must abort";
    } else {
      EXPECT_ERRC(answers[c.op], not_found);
      EXPECT_FALSE(c.error) << "cancel found nothing, so it completes with its own result: "
                            << describe(c.error);
    }
  }
  EXPECT_ERRC(f.cancel(ops[0]), not_found);
  std::printf("[   INFO   ] %zu of %zu flushes cancelled, the others already running\n", aborted,
              ops.size());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item25_Flush, CancelAllAndCloseEndEveryFlushOnce) {
  for (const bool close : {false, true}) {
    SCOPED_TRACE(close ? "close" : "cancel()");
    proact::file f;
    ASSERT_TRUE(open_associated(f, "all", read_write));
    ASSERT_TRUE(write_at_and_wait(port_, f, 0, "x", 1));
    std::array<proact::operation, 8> ops;
    start_flushes(f, ops);
    if (HasFatalFailure()) return;
    const std::error_code answer = close ? f.close() : f.cancel();
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_n(port_, ops.size(), got));
    const std::size_t aborted = check_once(got, ops);
    if (close) {
      EXPECT_OK(answer);
    } else if (answer) {
      EXPECT_ERRC(answer, not_found);
      EXPECT_EQ(aborted, 0u) << "cancel() found nothing, yet flushes were aborted";
    } else {
      EXPECT_GT(aborted, 0u) << "cancel() succeeded, yet nothing was aborted";
    }
    EXPECT_TRUE(stays_idle(port_));
  }
}

TEST_F(Item25_Flush, PortCloseEndsEveryFlushOnce) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "port", read_write));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "x", 1));
  std::array<proact::operation, 8> ops;
  start_flushes(f, ops);
  if (HasFatalFailure()) return;
  ASSERT_OK(port_.close());
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, ops.size(), got));
  check_once(got, ops);
  proact::completion c;
  EXPECT_ERRC(port_.wait(c, proact::timeout{1000}), port_closed);
  proact::operation late;
  EXPECT_TRUE(f.flush(late)) << "a flush started on a closed port";
}

TEST_F(Item25_Flush, FlushesRacingWithCloseCompleteOnce) {
  for (int round = 0; round < 10; ++round) {
    proact::file f;
    ASSERT_TRUE(open_associated(f, "race", read_write));
    std::array<proact::operation, 8> ops;
    std::atomic<std::size_t> started{0};
    std::thread starter([&] {
      for (proact::operation& op : ops) {
        const std::error_code ec = f.flush(op);
        if (!ec) {
          started.fetch_add(1);
        } else {
          EXPECT_ERRC(ec, bad_handle);
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::microseconds(100 * round));
    ASSERT_OK(f.close());
    starter.join();
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_n(port_, started.load(), got)) << "round " << round;
    std::map<const proact::operation*, int> seen;
    for (const proact::completion& c : got) {
      ++seen[c.op];
      if (c.error) {
        EXPECT_ERRC(c.error, operation_aborted);
      }
    }
    for (const auto& [op, n] : seen) EXPECT_EQ(n, 1);
    EXPECT_TRUE(stays_idle(port_, proact::timeout{20}));
  }
}

// A copy of a file of random content, several MiB, with reads and writes of
// several blocks in flight at once (each block's write starts when its read
// completes, while other reads still run), then a flush.
TEST_F(Item25_Flush, CopyWithOverlappingReadsAndWritesAndAFinalFlushIsByteExact) {
  constexpr std::size_t size = 6 * 1024 * 1024 + 12345;  // not a whole number of blocks
  constexpr std::size_t block = 256 * 1024;
  constexpr std::size_t in_flight = 6;
  std::vector<unsigned char> original(size);
  std::mt19937_64 random(20261207);
  for (unsigned char& b : original) b = static_cast<unsigned char>(random());

  proact::file source;
  ASSERT_TRUE(open_associated(source, "source", read_write, file_key));
  ASSERT_TRUE(write_at_and_wait(port_, source, 0, original.data(), original.size()));
  proact::file target;
  ASSERT_TRUE(open_associated(target, "target", read_write | file_mode::truncate, file_key + 1));

  struct slot {
    proact::operation op;
    std::vector<unsigned char> bytes = std::vector<unsigned char>(block);
    std::uint64_t offset = 0;
    std::size_t length = 0;
    bool writing = false;
  };
  std::array<slot, in_flight> slots;
  std::uint64_t next = 0;  // the next offset to read
  std::size_t busy = 0;
  std::size_t max_busy = 0;
  auto start_read = [&](slot& s) {
    s.offset = next;
    s.length = static_cast<std::size_t>(std::min<std::uint64_t>(block, size - next));
    s.writing = false;
    next += s.length;
    ++busy;
    max_busy = std::max(max_busy, busy);
    return source.read_at(s.op, s.offset, proact::buffer{s.bytes.data(), s.length});
  };
  for (slot& s : slots) {
    if (next < size) {
      ASSERT_OK(start_read(s));
    }
  }
  while (busy != 0) {
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    slot* s = nullptr;
    for (slot& candidate : slots)
      if (&candidate.op == c.op) s = &candidate;
    ASSERT_NE(s, nullptr) << "a completion of an unknown operation";
    ASSERT_FALSE(c.error) << describe(c.error) << " at offset " << s->offset;
    --busy;
    if (!s->writing) {
      EXPECT_EQ(c.key, file_key);
      ASSERT_EQ(c.bytes, s->length) << "short read at " << s->offset;
      s->writing = true;
      ++busy;
      ASSERT_OK(
          target.write_at(s->op, s->offset, proact::const_buffer{s->bytes.data(), s->length}));
    } else {
      EXPECT_EQ(c.key, file_key + 1);
      ASSERT_EQ(c.bytes, s->length);
      if (next < size) {
        ASSERT_OK(start_read(*s));
      }
    }
  }
  EXPECT_GT(max_busy, 1u) << "the copy never had two operations in flight";
  proact::operation flush;
  ASSERT_OK(target.flush(flush));
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_for(port_, {&flush}, got));
  EXPECT_FALSE(got[0].error) << describe(got[0].error);
  ASSERT_OK(target.close());

  proact::file copy;
  ASSERT_TRUE(open_associated(copy, "target", file_mode::read));
  std::uint64_t copied = 0;
  ASSERT_OK(copy.size(copied));
  ASSERT_EQ(copied, size);
  std::vector<unsigned char> back(size);
  std::size_t got_bytes = 0;
  while (got_bytes < size) {
    proact::completion c;
    ASSERT_TRUE(
        read_at_and_wait(port_, copy, got_bytes, back.data() + got_bytes, size - got_bytes, c));
    ASSERT_FALSE(c.error) << describe(c.error);
    ASSERT_NE(c.bytes, 0u);
    got_bytes += c.bytes;
  }
  std::size_t first_difference = size;
  for (std::size_t i = 0; i < size; ++i) {
    if (back[i] != original[i]) {
      first_difference = i;
      break;
    }
  }
  EXPECT_EQ(first_difference, size) << "the copy differs from the original";
  EXPECT_TRUE(stays_idle(port_));
}

}  // namespace
}  // namespace proact_test
