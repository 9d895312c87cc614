// floor-epoll: the hand-written epoll loop, the practical floor for proact's
// epoll backend. Non-blocking sockets, level-triggered epoll, one system call
// per operation (a recv or send is tried once per readiness event), no
// abstraction: epoll_event.data points at the connection end. Files are read
// with plain pread(), which is what an epoll program does (epoll cannot wait
// on regular files). Timers are a binary heap plus epoll_pwait2's timeout.
// There is no post + wait: a completion queue is what proact adds, and a
// hand-written one would be a reimplementation of it, not a floor.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"

namespace {

using bench::drive;
using bench::fail_errno;
using bench::fail_if;

// Owns a file descriptor.
class fd_owner {
 public:
  fd_owner() noexcept = default;
  explicit fd_owner(int fd) noexcept : fd_(fd) {}
  fd_owner(const fd_owner&) = delete;
  fd_owner& operator=(const fd_owner&) = delete;
  fd_owner(fd_owner&& other) noexcept : fd_(other.release()) {}
  fd_owner& operator=(fd_owner&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~fd_owner() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

bool epoll_add(int ep, int fd, std::uint32_t events, void* ptr) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = ptr;
  return ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool epoll_mod(int ep, int fd, std::uint32_t events, void* ptr) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = ptr;
  return ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0;
}

// --- TCP ping-pong -------------------------------------------------------------------

// One end of a connection: what it reads into, and what remains to be written.
struct tcp_end {
  fd_owner fd;
  char* buf = nullptr;
  std::size_t got = 0;
  const char* out = nullptr;
  std::size_t out_left = 0;
  bool server = false;
};

struct pp_conn {
  tcp_end client, server;
};

class pingpong_loop {
 public:
  pingpong_loop(benchmark::State& state, std::size_t size) : state_(state), size_(size) {}

  bool setup(int conns) {
    ep_.reset(::epoll_create1(EPOLL_CLOEXEC));
    std::uint16_t port = 0;
    fd_owner listener(bench::listen_loopback(port, false));
    if (ep_.get() < 0 || listener.get() < 0) return !fail_errno(state_, "epoll/listen", errno);
    const auto n = static_cast<std::size_t>(conns);
    conns_ = std::make_unique<pp_conn[]>(n);
    n_ = n;
    ping_.assign(size_, 'x');
    bufs_.resize(2 * n * size_);
    for (std::size_t i = 0; i < n; ++i) {
      auto& c = conns_[i];
      c.client.fd.reset(bench::connect_loopback(port));
      c.server.fd.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (c.client.fd.get() < 0 || c.server.fd.get() < 0 ||
          !bench::set_nonblocking(c.client.fd.get()) || !bench::set_nodelay(c.server.fd.get()) ||
          !epoll_add(ep_.get(), c.client.fd.get(), EPOLLIN, &c.client) ||
          !epoll_add(ep_.get(), c.server.fd.get(), EPOLLIN, &c.server)) {
        return !fail_errno(state_, "connect/accept", errno);
      }
      c.client.buf = &bufs_[2 * i * size_];
      c.server.buf = &bufs_[(2 * i + 1) * size_];
      c.server.server = true;
    }
    return true;
  }

  bool round() {
    for (std::size_t i = 0; i < n_; ++i) {
      conns_[i].client.got = 0;
      if (!start_write(conns_[i].client, ping_.data())) return false;
    }
    std::size_t done = 0;
    while (done < n_) {
      const int k = ::epoll_wait(ep_.get(), events_.data(), static_cast<int>(events_.size()), -1);
      if (k < 0) {
        if (errno == EINTR) continue;
        return !fail_errno(state_, "epoll_wait", errno);
      }
      for (int j = 0; j < k; ++j) {
        auto& e = *static_cast<tcp_end*>(events_[static_cast<std::size_t>(j)].data.ptr);
        const std::uint32_t what = events_[static_cast<std::size_t>(j)].events;
        if ((what & EPOLLOUT) != 0 && !continue_write(e)) return false;
        if ((what & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0) continue;
        const ssize_t r = ::recv(e.fd.get(), e.buf + e.got, size_ - e.got, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) return !fail_errno(state_, "recv", r == 0 ? ECONNRESET : errno);
        e.got += static_cast<std::size_t>(r);
        if (e.got < size_) continue;
        if (e.server) {  // echo it back
          e.got = 0;
          if (!start_write(e, e.buf)) return false;
        } else {
          ++done;
        }
      }
    }
    return true;
  }

 private:
  bool start_write(tcp_end& e, const char* data) {
    e.out = data;
    e.out_left = size_;
    const ssize_t w = ::send(e.fd.get(), e.out, e.out_left, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) return !fail_errno(state_, "send", errno);
    if (w > 0) {
      e.out += w;
      e.out_left -= static_cast<std::size_t>(w);
    }
    // A short write: the rest goes when the socket is writable again.
    if (e.out_left > 0 && !epoll_mod(ep_.get(), e.fd.get(), EPOLLIN | EPOLLOUT, &e)) {
      return !fail_errno(state_, "epoll_ctl", errno);
    }
    return true;
  }

  bool continue_write(tcp_end& e) {
    if (e.out_left == 0) return true;
    const ssize_t w = ::send(e.fd.get(), e.out, e.out_left, MSG_NOSIGNAL);
    if (w < 0) return errno == EAGAIN || !fail_errno(state_, "send", errno);
    e.out += w;
    e.out_left -= static_cast<std::size_t>(w);
    if (e.out_left == 0 && !epoll_mod(ep_.get(), e.fd.get(), EPOLLIN, &e)) {
      return !fail_errno(state_, "epoll_ctl", errno);
    }
    return true;
  }

  benchmark::State& state_;
  std::size_t size_;
  std::size_t n_ = 0;
  fd_owner ep_;
  std::unique_ptr<pp_conn[]> conns_;
  std::vector<char> ping_, bufs_;
  std::array<epoll_event, 256> events_{};
};

void pingpong(benchmark::State& state, int conns, std::size_t size) {
  pingpong_loop loop(state, size);
  if (!loop.setup(conns)) return;
  drive(state, {conns, 4 * static_cast<std::int64_t>(conns), 0, conns == 1},
        [&] { return loop.round(); });
}

// --- accept rate ---------------------------------------------------------------------

void accept_rate(benchmark::State& state) {
  std::uint16_t port = 0;
  fd_owner ep(::epoll_create1(EPOLL_CLOEXEC));
  fd_owner listener(bench::listen_loopback(port, true));
  int listener_tag = 0, client_tag = 0;
  if (ep.get() < 0 || listener.get() < 0 ||
      !epoll_add(ep.get(), listener.get(), EPOLLIN, &listener_tag)) {
    fail_errno(state, "epoll/listen", errno);
    return;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::array<epoll_event, 4> events{};
  drive(state, {1, 2}, [&] {
    fd_owner client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (client.get() < 0) return !fail_errno(state, "socket", errno);
    bool connected =
        ::connect(client.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    if (!connected && errno != EINPROGRESS) return !fail_errno(state, "connect", errno);
    if (!connected && !epoll_add(ep.get(), client.get(), EPOLLOUT, &client_tag)) {
      return !fail_errno(state, "epoll_ctl", errno);
    }
    fd_owner server;
    while (!connected || server.get() < 0) {
      const int k = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), -1);
      if (k < 0 && errno != EINTR) return !fail_errno(state, "epoll_wait", errno);
      for (int j = 0; j < k; ++j) {
        if (events[static_cast<std::size_t>(j)].data.ptr == &listener_tag) {
          server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
          if (server.get() < 0 && errno != EAGAIN) return !fail_errno(state, "accept", errno);
        } else {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(client.get(), SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) return !fail_errno(state, "connect", err);
          connected = true;
        }
      }
    }
    return true;  // both closed here (the client's close also leaves the epoll set)
  });
}

// --- UDP ping-pong ---------------------------------------------------------------------

void udp_pingpong(benchmark::State& state) {
  std::uint16_t server_port = 0, client_port = 0;
  fd_owner ep(::epoll_create1(EPOLL_CLOEXEC));
  fd_owner server(bench::udp_loopback(server_port, true));
  fd_owner client(bench::udp_loopback(client_port, true));
  if (ep.get() < 0 || server.get() < 0 || client.get() < 0 ||
      !epoll_add(ep.get(), server.get(), EPOLLIN, &server) ||
      !epoll_add(ep.get(), client.get(), EPOLLIN, &client)) {
    fail_errno(state, "udp", errno);
    return;
  }
  sockaddr_in server_address{};
  server_address.sin_family = AF_INET;
  server_address.sin_port = htons(server_port);
  server_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::array<char, bench::kUdpSize> ping{}, buf{};
  std::array<epoll_event, 4> events{};
  drive(state, {1, 4}, [&] {
    if (::sendto(client.get(), ping.data(), ping.size(), 0,
                 reinterpret_cast<const sockaddr*>(&server_address), sizeof server_address) < 0) {
      return !fail_errno(state, "sendto", errno);
    }
    for (bool received = false; !received;) {
      const int k = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), -1);
      if (k < 0 && errno != EINTR) return !fail_errno(state, "epoll_wait", errno);
      for (int j = 0; j < k; ++j) {
        if (events[static_cast<std::size_t>(j)].data.ptr == &server) {
          sockaddr_in source{};
          socklen_t len = sizeof source;
          const ssize_t r = ::recvfrom(server.get(), buf.data(), buf.size(), 0,
                                       reinterpret_cast<sockaddr*>(&source), &len);
          if (r < 0) {
            if (errno == EAGAIN) continue;
            return !fail_errno(state, "recvfrom", errno);
          }
          if (::sendto(server.get(), buf.data(), static_cast<std::size_t>(r), 0,
                       reinterpret_cast<const sockaddr*>(&source), len) < 0) {
            return !fail_errno(state, "sendto", errno);
          }
        } else {
          const ssize_t r = ::recvfrom(client.get(), buf.data(), buf.size(), 0, nullptr, nullptr);
          if (r < 0) {
            if (errno == EAGAIN) continue;
            return !fail_errno(state, "recvfrom", errno);
          }
          received = true;
        }
      }
    }
    return true;
  });
}

// --- file reads ------------------------------------------------------------------------

void file_read(benchmark::State& state, bool random) {
  const std::string& path = bench::bench_file();
  if (fail_if(state, path.empty(), "no benchmark file")) return;
  const std::size_t size = random ? bench::kRandomRead : bench::kSequentialRead;
  std::vector<char> buf(size);
  fd_owner fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    fail_errno(state, "open", errno);
    return;
  }
  const auto& offsets = bench::random_offsets();
  std::size_t next = 0;
  std::uint64_t offset = 0;
  drive(state, {1, 1, static_cast<std::int64_t>(size)}, [&] {
    if (random) {
      offset = offsets[next++ % offsets.size()];
    } else {
      offset = (offset + size) % bench::kFileSize;
    }
    const ssize_t r = ::pread(fd.get(), buf.data(), size, static_cast<off_t>(offset));
    if (r < 0) return !fail_errno(state, "pread", errno);
    return !fail_if(state, static_cast<std::size_t>(r) != size, "short read");
  });
}

// --- timers --------------------------------------------------------------------------------

struct timer_entry {
  std::int64_t deadline_ns;
  int id;
  bool operator>(const timer_entry& o) const noexcept { return deadline_ns > o.deadline_ns; }
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void timers(benchmark::State& state) {
  fd_owner ep(::epoll_create1(EPOLL_CLOEXEC));
  if (ep.get() < 0) {
    fail_errno(state, "epoll_create1", errno);
    return;
  }
  std::vector<timer_entry> heap;
  heap.reserve(bench::kTimers);
  std::vector<int> fired_count(bench::kTimers);
  epoll_event event{};
  drive(state, {bench::kTimers, bench::kTimers}, [&] {
    const std::int64_t base = now_ns();
    for (int i = 0; i < bench::kTimers; ++i) {
      heap.push_back({base + bench::timer_offset_us(i) * 1000, i});
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
    int fired = 0;
    while (fired < bench::kTimers) {
      const std::int64_t now = now_ns();
      while (!heap.empty() && heap.front().deadline_ns <= now) {
        ++fired_count[static_cast<std::size_t>(heap.front().id)];  // the timer's "callback"
        ++fired;
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        heap.pop_back();
      }
      if (heap.empty()) break;
      const std::int64_t wait = heap.front().deadline_ns - now;
      const timespec ts{static_cast<time_t>(wait / 1'000'000'000),
                        static_cast<long>(wait % 1'000'000'000)};
      if (::epoll_pwait2(ep.get(), &event, 1, &ts, nullptr) < 0 && errno != EINTR) {
        return !fail_errno(state, "epoll_pwait2", errno);
      }
    }
    return !fail_if(state, fired != bench::kTimers, "lost timers");
  });
}

// --- memory per idle connection ---------------------------------------------------------

struct idle_conn {
  fd_owner fd;
  std::array<char, bench::kIdleRecvBuffer> buf;
};

void idle_memory(benchmark::State& state) {
  constexpr int n = bench::kIdleConns;
  std::uint16_t port = 0;
  fd_owner ep(::epoll_create1(EPOLL_CLOEXEC));
  fd_owner listener(bench::listen_loopback(port, false));
  if (ep.get() < 0 || listener.get() < 0) {
    fail_errno(state, "epoll/listen", errno);
    return;
  }
  bench::raw_clients clients(n);
  std::unique_ptr<idle_conn[]> conns;
  for (auto _ : state) {
    const bench::memory_meter meter;
    conns = std::make_unique<idle_conn[]>(n);
    for (int i = 0; i < n; ++i) {
      if (i % 256 == 0 && fail_if(state, !clients.connect(port, std::min(256, n - i)), "connect")) {
        return;
      }
      auto& c = conns[static_cast<std::size_t>(i)];
      // "A pending recv": registered for EPOLLIN, with its buffer ready.
      c.fd.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (c.fd.get() < 0 || !epoll_add(ep.get(), c.fd.get(), EPOLLIN, &c)) {
        fail_errno(state, "accept", errno);
        return;
      }
    }
    meter.end(state, n);
  }
}

}  // namespace

namespace bench {

void register_floor_epoll() {
  const char* impl = "floor-epoll";
  for (const int conns : kPingpongConns) {
    for (const std::size_t size : kPingpongSizes) {
      add("pingpong", impl, {{"conns", conns}, {"size", static_cast<long>(size)}},
          [=](benchmark::State& s) { pingpong(s, conns, size); });
    }
  }
  add("accept", impl, {}, accept_rate);
  add("udp_pingpong", impl, {{"size", static_cast<long>(kUdpSize)}}, udp_pingpong);
  add("file_read_random", impl, {{"size", static_cast<long>(kRandomRead)}},
      [](benchmark::State& s) { file_read(s, true); });
  add("file_read_seq", impl, {{"size", static_cast<long>(kSequentialRead)}},
      [](benchmark::State& s) { file_read(s, false); });
  add("timers", impl, {{"n", kTimers}}, timers, kind::once);
  add("idle_memory", impl, {{"conns", kIdleConns}}, idle_memory, kind::once);
}

}  // namespace bench
