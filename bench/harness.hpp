// The shared harness of the comparison benchmarks.
//
// Every implementation (proact's port on each backend, the hand-written epoll
// and io_uring loops, Asio, libuv; later proact's loop) lives in one file that
// registers its variants of the same workloads under consistent names:
//
//   <workload>/<impl>[/<param>:<value>...]
//
// e.g. pingpong/asio/conns:100/size:64. bench/report.py groups by workload
// and parameters, then compares the implementations of each group. The
// harness owns what must be identical for everyone: the timed loop (drive),
// the allocation meter, latency percentiles, loopback sockets, the file to
// read, and the memory readings.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "alloc_counter.hpp"

namespace bench {

// --- the workloads' parameters, the same for every implementation ----------

inline constexpr int kPingpongConns[] = {1, 100, 1000};
inline constexpr std::size_t kPingpongSizes[] = {64, 16 * 1024};
inline constexpr std::size_t kUdpSize = 64;
// tls_pingpong: the ping-pong over TLS (same sizes, fewer connections: each
// holds a TLS session on both ends).
inline constexpr int kTlsPingpongConns[] = {1, 100};
inline constexpr int kPostBatch = 64;
// Packets a producer hands over per iteration in post_wait/.../threads:2.
inline constexpr int kProducerChunk = 4096;
// Operations the producer may have in flight at once (a ring of operations).
inline constexpr int kProducerWindow = 1024;
inline constexpr int kTimers = 1'000'000;
// Timer deadlines are spread over this many microseconds after scheduling
// begins, in a scrambled order (see timer_offset_us): 10 distinct
// milliseconds for libuv, whose timers count in milliseconds. Scheduling a
// million timers takes longer than that everywhere, so the benchmark measures
// inserting and expiring, not waiting.
inline constexpr int kTimerSpreadUs = 10'000;
inline constexpr int kIdleConns = 4000;
inline constexpr std::size_t kIdleRecvBuffer = 64;
inline constexpr std::uint64_t kFileSize = std::uint64_t{64} << 20;
inline constexpr std::size_t kRandomRead = 4 * 1024;
inline constexpr std::size_t kSequentialRead = 1024 * 1024;

// Many threads on one port (one io_context): pingpong_threads runs
// kThreadedConns connections of 64 B, each doing kThreadedRounds round trips
// per iteration; post_wait_threads keeps one chain of posts per thread
// going, kThreadedPosts packets per iteration. Thread counts: threads_grid().
inline constexpr int kThreadedConns = 100;
inline constexpr int kThreadedRounds = 8;
inline constexpr int kThreadedPosts = 4096;
// 1, 2 and the machine's hardware threads (each once, at most 16).
std::vector<unsigned> threads_grid();

// Offset of timer i's deadline, in microseconds after scheduling began.
constexpr std::int64_t timer_offset_us(int i) noexcept {
  return (static_cast<std::int64_t>(i) * 7919) % kTimerSpreadUs;
}

// --- registration -------------------------------------------------------------

enum class kind {
  timed,  // wall-clock timed loop (UseRealTime)
  once,   // a single iteration (timers, memory): Iterations(1)
};

using bench_fn = std::function<void(benchmark::State&)>;

// Adds <workload>/<impl>/<params...>. Benchmarks are registered by
// register_all() grouped by workload and parameters, in the order the groups
// were first added, so the console shows the implementations side by side.
void add(std::string_view workload, std::string_view impl,
         std::initializer_list<std::pair<std::string_view, long>> params, bench_fn fn,
         kind k = kind::timed);
void register_all();

// Adds tls_pingpong/<impl>/conns:N/size:S for every N and S of the grid.
template <class Pingpong>
void add_tls_pingpong_grid(std::string_view impl, Pingpong pingpong) {
  for (const int conns : kTlsPingpongConns) {
    for (const std::size_t size : kPingpongSizes) {
      add("tls_pingpong", impl, {{"conns", conns}, {"size", static_cast<long>(size)}},
          [=](benchmark::State& s) { pingpong(s, conns, size); });
    }
  }
}

// --- the timed loop --------------------------------------------------------------

struct drive_spec {
  std::int64_t items = 1;  // items (round trips, packets, reads...) per iteration
  std::int64_t ops = 1;    // operations started per iteration, for allocs/op
  std::int64_t bytes = 0;  // payload bytes per iteration (bytes_per_second), if any
  bool latency = false;    // time each iteration: p50_us, p99_us, p999_us
};

// Reports items_per_second, allocs/op and, with spec.latency, percentiles.
void finish(benchmark::State& state, const drive_spec& spec, std::uint64_t allocations,
            std::vector<std::int64_t>& latencies_ns);

// Runs `round` once per iteration; `round` returns false after calling
// state.SkipWithError. Setup belongs before drive(), teardown after it.
template <class Round>
void drive(benchmark::State& state, const drive_spec& spec, Round&& round) {
  std::vector<std::int64_t> latencies;
  if (spec.latency) latencies.reserve(static_cast<std::size_t>(state.max_iterations));
  const std::uint64_t start = proact_bench::allocation_count();
  for (auto _ : state) {
    if (spec.latency) {
      const auto t0 = std::chrono::steady_clock::now();
      if (!round()) break;
      const auto t1 = std::chrono::steady_clock::now();
      latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    } else if (!round()) {
      break;
    }
  }
  finish(state, spec, proact_bench::allocation_count() - start, latencies);
}

// Counts down to zero from another thread (the workers of the *_threads
// benchmarks); the benchmark thread sleeps in wait() until it is there.
class countdown {
 public:
  void reset(std::int64_t n) { left_.store(n, std::memory_order_relaxed); }
  void done_one() {
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) left_.notify_one();
  }
  void abandon() {
    left_.store(0, std::memory_order_release);
    left_.notify_one();
  }
  void wait() {
    for (std::int64_t v = left_.load(std::memory_order_acquire); v > 0;
         v = left_.load(std::memory_order_acquire)) {
      left_.wait(v, std::memory_order_acquire);
    }
  }

 private:
  std::atomic<std::int64_t> left_{0};
};

// --- failures ----------------------------------------------------------------------

// state.SkipWithError("what: message"); returns true if ec is an error.
// Inline so that the check on the hot path costs a test, not a call.
bool report_error(benchmark::State& state, std::string_view what, std::error_code ec);
inline bool fail(benchmark::State& state, std::string_view what, std::error_code ec) {
  return ec && report_error(state, what, ec);
}
// The same for an errno value (also liburing's -errno results).
bool fail_errno(benchmark::State& state, std::string_view what, int err);
inline bool fail_if(benchmark::State& state, bool failed, std::string_view what) {
  if (failed) state.SkipWithError(std::string(what).c_str());
  return failed;
}

// --- sockets for the hand-written loops and for raw peers ------------------------

// A listening IPv4 loopback TCP socket on an ephemeral port; -1 and errno on
// failure. `nonblocking` applies to the listener.
int listen_loopback(std::uint16_t& port, bool nonblocking, int backlog = 4096);
// A blocking connect to 127.0.0.1:port (TCP_NODELAY set); -1 on failure.
int connect_loopback(std::uint16_t port);
// A UDP socket bound to 127.0.0.1 on an ephemeral port; -1 on failure.
int udp_loopback(std::uint16_t& port, bool nonblocking);
bool set_nonblocking(int fd);
bool set_nodelay(int fd);

// --- memory -------------------------------------------------------------------------

// Resident set size of the process, from /proc/self/smaps_rollup.
std::int64_t rss_bytes();
// Bytes in use from malloc (mallinfo2: arena + mmapped chunks).
std::int64_t heap_bytes();

// Memory per idle connection: construct it before creating any
// per-connection state, call end(state, n) once n connections each have a
// recv pending. Reports rss_bytes/conn and heap_bytes/conn. The constructor
// first returns free heap pages to the kernel (malloc_trim), so that memory
// freed by earlier benchmarks and reused here still counts as new RSS.
class memory_meter {
 public:
  memory_meter();
  void end(benchmark::State& state, int connections) const;

 private:
  std::int64_t rss_ = 0, heap_ = 0;
};

// Client ends for the idle-memory benchmark: plain blocking sockets, which
// hold no user-space memory beyond their descriptors (reserved up front).
class raw_clients {
 public:
  explicit raw_clients(int capacity) { fds_.reserve(static_cast<std::size_t>(capacity)); }
  raw_clients(const raw_clients&) = delete;
  raw_clients& operator=(const raw_clients&) = delete;
  ~raw_clients();
  // Connects `count` more clients to 127.0.0.1:port; false on failure.
  bool connect(std::uint16_t port, int count);

 private:
  std::vector<int> fds_;
};

// --- the file for file_read --------------------------------------------------------

// A kFileSize-byte file of pseudo-random bytes, created on first use in
// $TMPDIR (else /tmp) and read once so the page cache is warm; removed at
// exit. Empty string if it could not be created (the message is printed).
const std::string& bench_file();
// Offsets for 4 KiB random reads: aligned, pseudo-random, the same sequence
// for every implementation (a ring of 64 Ki offsets).
const std::vector<std::uint64_t>& random_offsets();

// --- process set-up ------------------------------------------------------------------

// Raises RLIMIT_NOFILE's soft limit to its hard limit; prints a warning if
// that leaves fewer descriptors than the 1,000-connection ping-pong needs.
void raise_fd_limit();

// Chooses the CPU that single-threaded workloads run on (see
// single_threaded()): $PROACT_BENCH_CPU if set (a CPU number, or "off" for
// no pinning), else the first CPU this process may use. The cores of a
// virtual machine can differ in speed; a benchmark that migrates between
// them mixes two speeds into one figure, pinned every implementation runs
// at the same one. Adds the choice to the JSON context ("pinned_cpu").
void choose_bench_cpu();

}  // namespace bench
