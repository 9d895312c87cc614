#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

namespace bench {

namespace {

struct entry {
  std::string group;  // the name without the implementation: workload + params
  std::string name;
  bench_fn fn;
  kind k;
  bool single_threaded;
};

// The CPU that single-threaded workloads run on; none: not pinned.
std::optional<int>& bench_cpu() {
  static std::optional<int> cpu;
  return cpu;
}

// Workloads whose only thread is the benchmark's own, in every
// implementation. Not these: the file reads (the epoll backend's and
// libuv's thread pools), the threads:N workloads, post_wait/threads:2.
bool single_threaded(std::string_view workload,
                     std::initializer_list<std::pair<std::string_view, long>> params) {
  for (const auto& [key, value] : params) {
    if (key == "threads" && value != 1) return false;
  }
  for (const std::string_view w : {"pingpong", "tls_pingpong", "udp_pingpong", "accept",
                                   "post_wait", "post_wait_many", "timers", "idle_memory"}) {
    if (workload == w) return true;
  }
  return false;
}

// Runs fn on bench_cpu() (if any), then restores the thread's CPU set, so
// that threads the benchmark starts inherit the pinning and threads of
// later benchmarks do not.
void run_pinned(const bench_fn& fn, benchmark::State& state) {
  cpu_set_t before;
  CPU_ZERO(&before);
  const bool pin = bench_cpu().has_value() && ::sched_getaffinity(0, sizeof before, &before) == 0;
  if (pin) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(*bench_cpu(), &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0) {
      state.SkipWithError("sched_setaffinity: cannot pin to the benchmark CPU");
      return;
    }
  }
  fn(state);
  if (pin) ::sched_setaffinity(0, sizeof before, &before);
}

std::vector<entry>& entries() {
  static std::vector<entry> all;
  return all;
}

double percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return static_cast<double>(sorted[std::min(rank, sorted.size() - 1)]);
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

}  // namespace

void add(std::string_view workload, std::string_view impl,
         std::initializer_list<std::pair<std::string_view, long>> params, bench_fn fn, kind k) {
  std::string group(workload), name(workload);
  name += '/';
  name += impl;
  for (const auto& [key, value] : params) {
    std::string part(1, '/');
    part.append(key).append(1, ':').append(std::to_string(value));
    group += part;
    name += part;
  }
  entries().push_back(
      {std::move(group), std::move(name), std::move(fn), k, single_threaded(workload, params)});
}

void register_all() {
  // Groups in order of first appearance; within a group, the order of add().
  std::map<std::string, std::size_t> first;
  for (const auto& e : entries()) first.emplace(e.group, first.size());
  std::stable_sort(entries().begin(), entries().end(),
                   [&](const entry& a, const entry& b) { return first[a.group] < first[b.group]; });
  for (auto& e : entries()) {
    benchmark::internal::Benchmark* b = nullptr;
    if (e.single_threaded) {
      b = benchmark::RegisterBenchmark(
          e.name.c_str(), [fn = std::move(e.fn)](benchmark::State& s) { run_pinned(fn, s); });
    } else {
      b = benchmark::RegisterBenchmark(e.name.c_str(), e.fn);
    }
    if (e.k == kind::once) {
      b->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
    } else {
      b->UseRealTime();
    }
  }
  entries().clear();
}

void finish(benchmark::State& state, const drive_spec& spec, std::uint64_t allocations,
            std::vector<std::int64_t>& latencies_ns) {
  const auto iterations = static_cast<double>(state.iterations());
  const double ops = iterations * static_cast<double>(spec.ops);
  state.counters["allocs/op"] = ops == 0 ? 0.0 : static_cast<double>(allocations) / ops;
  state.SetItemsProcessed(state.iterations() * spec.items);
  if (spec.bytes > 0) state.SetBytesProcessed(state.iterations() * spec.bytes);
  if (spec.latency && !latencies_ns.empty()) {
    std::sort(latencies_ns.begin(), latencies_ns.end());
    state.counters["p50_us"] = percentile(latencies_ns, 0.50) / 1000.0;
    state.counters["p99_us"] = percentile(latencies_ns, 0.99) / 1000.0;
    state.counters["p999_us"] = percentile(latencies_ns, 0.999) / 1000.0;
  }
}

bool report_error(benchmark::State& state, std::string_view what, std::error_code ec) {
  const std::string message = std::string(what) + ": " + ec.message();
  state.SkipWithError(message.c_str());
  return true;
}

bool fail_errno(benchmark::State& state, std::string_view what, int err) {
  return report_error(state, what, std::error_code(err < 0 ? -err : err, std::system_category()));
}

bool set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

bool set_nodelay(int fd) {
  const int one = 1;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
}

int listen_loopback(std::uint16_t& port, bool nonblocking, int backlog) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = loopback(0);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(fd, backlog) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  port = bound_port(fd);
  return fd;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_in a = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || !set_nodelay(fd)) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int udp_loopback(std::uint16_t& port, bool nonblocking) {
  const int fd =
      ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  const sockaddr_in a = loopback(0);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  port = bound_port(fd);
  return fd;
}

std::int64_t rss_bytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  std::int64_t kib = 0;
  while (in >> key) {
    if (key == "Rss:") {
      in >> kib;
      return kib * 1024;
    }
    in.ignore(4096, '\n');
  }
  // No smaps_rollup: statm's resident pages.
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

std::int64_t heap_bytes() {
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<std::int64_t>(m.uordblks + m.hblkhd);
}

memory_meter::memory_meter() {
  ::malloc_trim(0);
  rss_ = rss_bytes();
  heap_ = heap_bytes();
}

void memory_meter::end(benchmark::State& state, int connections) const {
  const double n = connections > 0 ? connections : 1;
  state.counters["rss_bytes/conn"] = static_cast<double>(rss_bytes() - rss_) / n;
  state.counters["heap_bytes/conn"] = static_cast<double>(heap_bytes() - heap_) / n;
}

raw_clients::~raw_clients() {
  for (const int fd : fds_) ::close(fd);
}

bool raw_clients::connect(std::uint16_t port, int count) {
  for (int i = 0; i < count; ++i) {
    const int fd = connect_loopback(port);
    if (fd < 0) return false;
    fds_.push_back(fd);
  }
  return true;
}

namespace {

struct temp_file {
  std::string path;
  ~temp_file() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

std::string create_bench_file() {
  const char* dir = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): before any thread
  std::string path =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/proact-bench-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) {
    std::fprintf(stderr, "proact_bench: cannot create %s: %s; file_read skipped\n", path.c_str(),
                 std::error_code(errno, std::system_category()).message().c_str());
    return {};
  }
  std::vector<unsigned char> chunk(1 << 20);
  std::uint64_t x = 0x9e3779b97f4a7c15u;
  bool ok = true;
  for (std::uint64_t written = 0; ok && written < kFileSize; written += chunk.size()) {
    for (auto& b : chunk) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<unsigned char>(x);
    }
    ok = ::write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size());
  }
  // Warm the page cache: every benchmark reads from memory, none from disk.
  for (off_t at = 0; ok && at < static_cast<off_t>(kFileSize);
       at += static_cast<off_t>(chunk.size())) {
    ok = ::pread(fd, chunk.data(), chunk.size(), at) == static_cast<ssize_t>(chunk.size());
  }
  ::close(fd);
  if (!ok) {
    std::fprintf(stderr, "proact_bench: cannot write %s; file_read skipped\n", path.c_str());
    ::unlink(path.c_str());
    return {};
  }
  return path;
}

}  // namespace

const std::string& bench_file() {
  static temp_file file{create_bench_file()};
  return file.path;
}

const std::vector<std::uint64_t>& random_offsets() {
  static const std::vector<std::uint64_t> offsets = [] {
    std::vector<std::uint64_t> v(std::size_t{64} * 1024);
    std::uint64_t x = 88172645463325252u;
    for (auto& o : v) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      o = (x % (kFileSize / kRandomRead)) * kRandomRead;
    }
    return v;
  }();
  return offsets;
}

void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t needed = 2 * static_cast<rlim_t>(kIdleConns) + 64;
  if (limit.rlim_cur < needed) {
    std::fprintf(stderr,
                 "proact_bench: warning: RLIMIT_NOFILE is %llu; the 1,000-connection and "
                 "idle-memory benchmarks need %llu descriptors and will fail\n",
                 static_cast<unsigned long long>(limit.rlim_cur),
                 static_cast<unsigned long long>(needed));
  }
}

void choose_bench_cpu() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    benchmark::AddCustomContext("pinned_cpu", "off (sched_getaffinity failed)");
    return;
  }
  // NOLINTNEXTLINE(concurrency-mt-unsafe): in main, before any thread
  const char* wanted = std::getenv("PROACT_BENCH_CPU");
  if (wanted != nullptr && std::string_view(wanted) == "off") {
    benchmark::AddCustomContext("pinned_cpu", "off (PROACT_BENCH_CPU=off)");
    return;
  }
  int cpu = -1;
  if (wanted != nullptr && *wanted != '\0') {
    char* end = nullptr;
    const long n = std::strtol(wanted, &end, 10);
    if (*end != '\0' || n < 0 || n >= CPU_SETSIZE || !CPU_ISSET(static_cast<int>(n), &allowed)) {
      std::fprintf(stderr,
                   "proact_bench: PROACT_BENCH_CPU=%s is not a CPU this process may use; "
                   "not pinning\n",
                   wanted);
      benchmark::AddCustomContext("pinned_cpu", "off (PROACT_BENCH_CPU not usable)");
      return;
    }
    cpu = static_cast<int>(n);
  } else {
    for (int i = 0; i < CPU_SETSIZE && cpu < 0; ++i) {
      if (CPU_ISSET(i, &allowed)) cpu = i;
    }
  }
  if (cpu < 0) return;
  bench_cpu() = cpu;
  benchmark::AddCustomContext("pinned_cpu", std::to_string(cpu));
}

std::vector<unsigned> threads_grid() {
  std::vector<unsigned> grid{1, 2};
  const unsigned hw = std::min(std::thread::hardware_concurrency(), 16U);
  if (hw > 2) grid.push_back(hw);
  return grid;
}

}  // namespace bench
