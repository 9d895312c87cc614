// Stress: four threads, 100,000 operations mixing recv, send, cancel, close
// and post on one port. Counters prove that every started operation
// completed exactly once; the byte streams prove that nothing was lost,
// duplicated or reordered.
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {

namespace {

constexpr std::size_t lane_count = 16;
constexpr std::size_t max_message = 4096;
// Per lane: recv and send of stream 2*lane, recv and send of stream 2*lane+1,
// a post operation (used on every fourth lane only, so that I/O dominates).
constexpr std::size_t ops_per_lane = 5;

enum class op_kind { recv, send, post };

// One operation slot. Between a completion and the next start it belongs to
// the thread that dequeued it; its counters are shared.
struct stress_op : proact::operation {
  op_kind kind = op_kind::post;
  std::size_t lane = 0;
  unsigned stream = 0;      // the byte stream it reads or writes
  std::size_t offset = 0;   // next stream offset (recv/send), or post sequence
  std::size_t pending = 0;  // bytes of the send in flight
  std::uintptr_t id = 0;
  std::array<unsigned char, max_message> buffer{};
  std::atomic<long> started{0};
  std::atomic<long> completed{0};
  std::atomic<bool> parked{false};  // a post operation waiting for I/O to catch up
};

struct lane {
  tcp_pair pair;
  std::atomic<bool> closed{false};
};

class Stress : public BackendTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  proact::tcp_socket& socket_for(const stress_op& op) {
    lane& l = *lanes_[op.lane];
    // stream 2*lane: client -> server; stream 2*lane+1: server -> client.
    const bool client_sends = op.stream % 2 == 0;
    if (op.kind == op_kind::send) return client_sends ? l.pair.client : l.pair.server;
    return client_sends ? l.pair.server : l.pair.client;
  }
  // Starts (or posts) `op` unless the run is over; counts the start.
  void start(stress_op& op, std::mt19937& random);
  void handle(const proact::completion& c, std::mt19937& random);
  void disturb(std::mt19937& random);  // cancel, close, extra posts
  void worker(unsigned seed);
  void fail(const std::string& what);

  proact::port stress_port_;
  std::vector<std::unique_ptr<lane>> lanes_;
  std::vector<std::unique_ptr<stress_op>> ops_;
  std::size_t target_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> starts_{0};  // successful starts, for the target
  std::atomic<long> outstanding_{0};    // started and not yet completed
  std::atomic<long> null_posts_started_{0};
  std::atomic<long> null_posts_completed_{0};
  std::array<std::atomic<std::size_t>, 3> starts_by_kind_{};
  std::atomic<std::size_t> cancels_{0};
  std::atomic<std::size_t> closes_{0};
  std::atomic<std::size_t> bytes_verified_{0};
  std::atomic<std::size_t> live_lanes_{lane_count};
  std::atomic<int> failures_{0};
  std::mutex failure_lock_;
  std::string first_failure_;
};

void Stress::SetUp() {
  BackendTest::SetUp();
  if (IsSkipped()) return;
  target_ = stress_operation_count();
  ASSERT_OK(stress_port_.open(options(4)));
  for (std::size_t i = 0; i < lane_count; ++i) {
    lanes_.push_back(std::make_unique<lane>());
    ASSERT_TRUE(connect_pair(stress_port_, lanes_.back()->pair, proact::address_family::ipv4, 2 * i,
                             2 * i + 1));
  }
  for (std::size_t i = 0; i < lane_count; ++i) {
    for (unsigned dir = 0; dir < 2; ++dir) {
      for (const op_kind kind : {op_kind::recv, op_kind::send}) {
        auto op = std::make_unique<stress_op>();
        op->kind = kind;
        op->lane = i;
        op->stream = static_cast<unsigned>(2 * i + dir);
        ops_.push_back(std::move(op));
      }
    }
    auto post = std::make_unique<stress_op>();
    post->kind = op_kind::post;
    post->lane = i;
    ops_.push_back(std::move(post));
  }
  for (std::size_t i = 0; i < ops_.size(); ++i) ops_[i]->id = i;
  ASSERT_EQ(ops_.size(), lane_count * ops_per_lane);
}

void Stress::TearDown() {
  // Sockets go before the port that their pending operations belong to.
  lanes_.clear();
  EXPECT_OK(stress_port_.close());  // idempotent: the test may have closed it
}

void Stress::fail(const std::string& what) {
  if (failures_.fetch_add(1) == 0) {
    std::lock_guard lock(failure_lock_);
    first_failure_ = what;
  }
}

void Stress::start(stress_op& op, std::mt19937& random) {
  if (stop_.load(std::memory_order_relaxed)) return;
  op.started.fetch_add(1);
  outstanding_.fetch_add(1);
  std::error_code ec;
  switch (op.kind) {
    case op_kind::recv: {
      const std::size_t size = 1 + random() % max_message;
      ec = socket_for(op).recv(op, proact::buffer{op.buffer.data(), size});
      break;
    }
    case op_kind::send: {
      op.pending = 1 + random() % max_message;
      for (std::size_t i = 0; i < op.pending; ++i)
        op.buffer[i] = pattern_byte(op.offset + i, op.stream);
      ec = socket_for(op).send(op, proact::const_buffer{op.buffer.data(), op.pending});
      break;
    }
    case op_kind::post:
      ++op.offset;
      ec = stress_port_.post(op.id, op.offset, &op);
      break;
  }
  if (!ec) {
    starts_by_kind_[static_cast<std::size_t>(op.kind)].fetch_add(1);
    if (starts_.fetch_add(1) + 1 >= target_) stop_.store(true);
    return;
  }
  op.started.fetch_sub(1);
  outstanding_.fetch_sub(1);
  // Refusals are expected only once the lane or the port is closed.
  const bool lane_closed = lanes_[op.lane]->closed.load();
  if (!((lane_closed && ec == proact::errc::bad_handle) || ec == proact::errc::port_closed))
    fail("start refused: " + describe(ec));
}

void Stress::handle(const proact::completion& c, std::mt19937& random) {
  if (c.op == nullptr) {
    null_posts_completed_.fetch_add(1);
    outstanding_.fetch_sub(1);
    if (c.key != 0xABCD) fail("null post came back with another key");
    return;
  }
  auto& op = *static_cast<stress_op*>(c.op);
  const long completed = op.completed.fetch_add(1) + 1;
  if (completed > op.started.load()) fail("completed more often than started");
  const std::uintptr_t expected_key =
      op.kind == op_kind::post
          ? op.id
          : 2 * op.lane + (&socket_for(op) == &lanes_[op.lane]->pair.client ? 0 : 1);
  if (c.key != expected_key) fail("completion with the wrong key");
  outstanding_.fetch_sub(1);
  const bool lane_closed = lanes_[op.lane]->closed.load();

  switch (op.kind) {
    case op_kind::post:
      if (c.bytes != op.offset || c.error) fail("post not delivered verbatim");
      // Posts complete faster than I/O: keep them to a fifth of the mix.
      if (5 * starts_by_kind_[static_cast<std::size_t>(op_kind::post)].load() > starts_.load())
        op.parked.store(true);
      else
        start(op, random);
      return;
    case op_kind::recv:
      if (!c.error) {
        if (c.bytes == 0) {
          fail("recv completed with 0 bytes and no error");
          return;
        }
        if (first_mismatch(op.buffer.data(), c.bytes, op.offset, op.stream) != c.bytes) {
          fail("stream " + std::to_string(op.stream) + " corrupted at offset " +
               std::to_string(op.offset));
          return;
        }
        op.offset += c.bytes;
        bytes_verified_.fetch_add(c.bytes);
        start(op, random);
      } else if (c.error == proact::errc::operation_aborted) {
        if (c.bytes != 0) fail("aborted recv reports bytes");
        if (!lane_closed) start(op, random);  // a cancel: carry on
      } else if (!lane_closed) {
        fail("recv failed on an open lane: " + describe(c.error));
      }
      return;
    case op_kind::send:
      if (!c.error) {
        if (c.bytes != op.pending) fail("send completed partially without an error");
        op.offset += op.pending;
        start(op, random);
      } else if (c.error == proact::errc::operation_aborted && !lane_closed) {
        // Cancelled part-way: exactly c.bytes went, the stream goes on from there.
        if (c.bytes > op.pending) fail("aborted send reports more bytes than it had");
        op.offset += c.bytes;
        start(op, random);
      } else if (!lane_closed) {
        fail("send failed on an open lane: " + describe(c.error));
      }
      return;
  }
}

void Stress::disturb(std::mt19937& random) {
  const auto dice = random() % 1000;
  if (dice < 30) {
    // Cancel one recv, or everything of one socket (its send too); either
    // may have completed already.
    const std::size_t index = random() % lane_count;
    lane& l = *lanes_[index];
    const std::size_t which = random() % 3;
    const std::error_code ec = which == 0   ? l.pair.server.cancel()
                               : which == 1 ? l.pair.client.cancel()
                                            : l.pair.server.cancel(*ops_[index * ops_per_lane]);
    cancels_.fetch_add(1);
    if (ec && ec != proact::errc::not_found && ec != proact::errc::bad_handle)
      fail("cancel: " + describe(ec));
  } else if (dice < 60) {
    null_posts_started_.fetch_add(1);
    outstanding_.fetch_add(1);
    if (auto ec = stress_port_.post(0xABCD, 0, nullptr)) {
      null_posts_started_.fetch_sub(1);
      outstanding_.fetch_sub(1);
      if (ec != proact::errc::port_closed) fail("post: " + describe(ec));
    }
  } else if (dice < 160) {
    stress_op& post = *ops_[(random() % (lane_count / 4)) * 4 * ops_per_lane + 4];
    if (5 * starts_by_kind_[static_cast<std::size_t>(op_kind::post)].load() <= starts_.load() &&
        post.parked.exchange(false))
      start(post, random);
  } else if (dice < 161 && live_lanes_.load() > 4) {
    lane& l = *lanes_[random() % lane_count];
    if (!l.closed.exchange(true)) {
      live_lanes_.fetch_sub(1);
      closes_.fetch_add(1);
      if (auto ec = l.pair.client.close()) fail("close: " + describe(ec));
      if (auto ec = l.pair.server.close()) fail("close: " + describe(ec));
    }
  }
}

void Stress::worker(unsigned seed) {
  std::mt19937 random(seed);
  for (;;) {
    proact::completion c;
    const std::error_code ec = stress_port_.wait(c, proact::timeout{200});
    if (ec == proact::errc::port_closed) return;
    if (ec == proact::errc::timed_out) continue;
    if (ec) {
      fail("wait: " + describe(ec));
      return;
    }
    handle(c, random);
    if (!stop_.load(std::memory_order_relaxed)) disturb(random);
  }
}

TEST_F(Stress, MixedOperations) {
  std::printf("[   INFO   ] %zu operations on %zu connections, 4 threads\n", target_, lane_count);
  std::mt19937 random(1);
  for (auto& op : ops_)
    if (op->kind != op_kind::post || op->lane % 4 == 0) start(*op, random);

  const auto begin = clock_type::now();
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < 4; ++t) workers.emplace_back([this, t] { worker(100 + t); });

  const bool reached = spin_until([&] { return stop_.load(); }, 300s);
  // Nothing restarts any more: close every lane to abort what still waits
  // (the recvs), then let the workers drain.
  for (auto& l : lanes_) {
    l->closed.store(true);
    (void)l->pair.client.close();
    (void)l->pair.server.close();
  }
  const bool drained = spin_until([&] { return outstanding_.load() == 0; }, 60s);
  EXPECT_OK(stress_port_.close());
  for (auto& w : workers) w.join();
  const auto elapsed = std::chrono::duration<double>(clock_type::now() - begin).count();

  std::printf("[   INFO   ] %zu recvs, %zu sends, %zu posts started\n", starts_by_kind_[0].load(),
              starts_by_kind_[1].load(), starts_by_kind_[2].load());
  std::printf(
      "[   INFO   ] %zu starts, %zu cancels, %zu lane closes, %ld null posts, %zu bytes "
      "verified, %.2f s\n",
      starts_.load(), cancels_.load(), closes_.load(), null_posts_completed_.load(),
      bytes_verified_.load(), elapsed);
  EXPECT_TRUE(reached) << "only " << starts_.load() << " of " << target_ << " operations started";
  EXPECT_TRUE(drained) << outstanding_.load() << " operations never completed";
  EXPECT_EQ(failures_.load(), 0) << "first failure: " << first_failure_;
  EXPECT_GE(starts_.load(), target_);
  EXPECT_EQ(null_posts_started_.load(), null_posts_completed_.load());
  long never_completed = 0;
  long completed_twice = 0;
  for (const auto& op : ops_) {
    const long started = op->started.load();
    const long completed = op->completed.load();
    if (completed < started) never_completed += started - completed;
    if (completed > started) completed_twice += completed - started;
  }
  EXPECT_EQ(never_completed, 0);
  EXPECT_EQ(completed_twice, 0);
  EXPECT_GT(bytes_verified_.load(), 0u);
  // I/O dominates the mix.
  EXPECT_GE(starts_by_kind_[static_cast<std::size_t>(op_kind::recv)].load(), target_ / 5);
  EXPECT_GE(starts_by_kind_[static_cast<std::size_t>(op_kind::send)].load(), target_ / 5);
  EXPECT_GT(cancels_.load(), 0u);
  EXPECT_GT(closes_.load(), 0u);
  // No wall-clock limit: the time depends on the machine and its load (a
  // hang is caught by drained above and by the test runner's timeout).
}

}  // namespace
}  // namespace proact_test
