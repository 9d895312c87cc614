// floor-io_uring: the hand-written io_uring loop through liburing, the
// practical floor for proact's io_uring backend. There is no post + wait
// here: a proact post never enters the kernel, so an IORING_OP_NOP round trip
// would be no floor for it. One SQE per operation
// (recv, send, sendmsg, recvmsg, accept, connect, read), submitted and
// waited for with io_uring_submit_and_wait; user_data is the connection index
// and the operation's kind; no abstraction. The ring is set up with no flags
// (like proact's: no SQPOLL, no DEFER_TASKRUN). Timers are a binary heap plus
// io_uring_wait_cqe_timeout.
//
// floor-io_uring-tuned: the same ping-pong loops with io_uring's newer
// set-up, to measure what it buys a hand-written loop on this machine: one
// issuer with deferred task work (IORING_SETUP_SINGLE_ISSUER |
// IORING_SETUP_DEFER_TASKRUN, Linux 6.1), the ring descriptor registered
// (io_uring_register_ring_fd, 5.18) and the sockets as fixed files
// (IOSQE_FIXED_FILE). Skipped where the kernel refuses the set-up.
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"

namespace {

using bench::drive;
using bench::fail_errno;
using bench::fail_if;

constexpr unsigned kRingEntries = 4096;

class ring {
 public:
  ring() = default;
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;
  ~ring() {
    if (ok_) io_uring_queue_exit(&ring_);
  }
  int init(unsigned entries = kRingEntries, bool tuned = false) {
    const unsigned flags = tuned ? IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN : 0;
    int r = io_uring_queue_init(entries, &ring_, flags);
    ok_ = r == 0;
    if (ok_ && tuned) {
      r = io_uring_register_ring_fd(&ring_);
      r = r == 1 ? 0 : (r < 0 ? r : -EINVAL);
    }
    return r;
  }
  // Registers `fds` as fixed files 0..n-1 (tuned rings only).
  int register_files(const std::vector<int>& fds) {
    return io_uring_register_files(&ring_, fds.data(), static_cast<unsigned>(fds.size()));
  }
  io_uring* get() noexcept { return &ring_; }
  // An SQE, submitting what is queued if the submission queue is full.
  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    if (s == nullptr) {
      io_uring_submit(&ring_);
      s = io_uring_get_sqe(&ring_);
    }
    return s;
  }

 private:
  io_uring ring_{};
  bool ok_ = false;
};

class fd_owner {
 public:
  explicit fd_owner(int fd = -1) noexcept : fd_(fd) {}
  fd_owner(const fd_owner&) = delete;
  fd_owner& operator=(const fd_owner&) = delete;
  ~fd_owner() { reset(); }
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

std::uint64_t tag(std::size_t index, unsigned kind) noexcept {
  return (index << 3) | kind;
}

// Runs `on_cqe(user_data, res)` for each completion after submitting and
// waiting for at least one; false if on_cqe returned false.
template <class F>
bool submit_and_reap(ring& r, F&& on_cqe) {
  const int s = io_uring_submit_and_wait(r.get(), 1);
  if (s < 0 && s != -EINTR) return on_cqe(~std::uint64_t{0}, s);
  unsigned head = 0, seen = 0;
  io_uring_cqe* cqe = nullptr;
  bool ok = true;
  io_uring_for_each_cqe(r.get(), head, cqe) {
    ++seen;
    if (ok) ok = on_cqe(cqe->user_data, cqe->res);
  }
  io_uring_cq_advance(r.get(), seen);
  return ok;
}

// --- TCP ping-pong -------------------------------------------------------------------

enum pp_kind : unsigned { client_send, client_recv, server_send, server_recv };

struct pp_conn {
  fd_owner client, server;
  char* client_buf = nullptr;
  char* server_buf = nullptr;
  std::size_t client_got = 0, client_sent = 0, server_got = 0, server_sent = 0;
};

// A socket as an SQE names it: its descriptor, or with fixed files its index.
struct sqe_file {
  int fd;
  bool fixed;
  void apply(io_uring_sqe* s) const noexcept {
    if (fixed) s->flags |= IOSQE_FIXED_FILE;
  }
};

void pingpong(benchmark::State& state, int conns, std::size_t size, bool tuned) {
  const auto n = static_cast<std::size_t>(conns);
  // Buffers outlive the ring, which ends the operations still pending.
  std::vector<char> ping(size, 'x'), bufs(2 * n * size);
  auto c = std::make_unique<pp_conn[]>(n);
  ring r;
  if (const int e = r.init(kRingEntries, tuned); e < 0) {
    fail_errno(state, "io_uring_queue_init", e);
    return;
  }
  std::uint16_t port = 0;
  fd_owner listener(bench::listen_loopback(port, false));
  if (listener.get() < 0) {
    fail_errno(state, "listen", errno);
    return;
  }
  // With fixed files, connection i's client is file 2i and its server 2i+1.
  auto client_of = [&](std::size_t i) {
    return tuned ? sqe_file{static_cast<int>(2 * i), true} : sqe_file{c[i].client.get(), false};
  };
  auto server_of = [&](std::size_t i) {
    return tuned ? sqe_file{static_cast<int>(2 * i + 1), true} : sqe_file{c[i].server.get(), false};
  };
  auto prep_recv = [&](std::size_t i, unsigned kind, sqe_file f, char* buf, std::size_t len) {
    io_uring_sqe* s = r.sqe();
    io_uring_prep_recv(s, f.fd, buf, len, 0);
    f.apply(s);
    io_uring_sqe_set_data64(s, tag(i, kind));
  };
  auto prep_send = [&](std::size_t i, unsigned kind, sqe_file f, const char* buf, std::size_t len) {
    io_uring_sqe* s = r.sqe();
    io_uring_prep_send(s, f.fd, buf, len, MSG_NOSIGNAL);
    f.apply(s);
    io_uring_sqe_set_data64(s, tag(i, kind));
  };
  for (std::size_t i = 0; i < n; ++i) {
    c[i].client.reset(bench::connect_loopback(port));
    c[i].server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c[i].client.get() < 0 || c[i].server.get() < 0 || !bench::set_nodelay(c[i].server.get())) {
      fail_errno(state, "connect/accept", errno);
      return;
    }
    c[i].client_buf = &bufs[2 * i * size];
    c[i].server_buf = &bufs[(2 * i + 1) * size];
  }
  if (tuned) {
    std::vector<int> fds;
    for (std::size_t i = 0; i < n; ++i) {
      fds.push_back(c[i].client.get());
      fds.push_back(c[i].server.get());
    }
    if (const int e = r.register_files(fds); e < 0) {
      fail_errno(state, "io_uring_register_files", e);
      return;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    prep_recv(i, server_recv, server_of(i), c[i].server_buf, size);

  drive(state, {conns, 4 * static_cast<std::int64_t>(conns), 0, conns == 1}, [&] {
    for (std::size_t i = 0; i < n; ++i) {
      c[i].client_got = c[i].client_sent = 0;
      prep_recv(i, client_recv, client_of(i), c[i].client_buf, size);
      prep_send(i, client_send, client_of(i), ping.data(), size);
    }
    std::size_t done = 0, sending = n;
    while (done < n || sending > 0) {
      const bool ok = submit_and_reap(r, [&](std::uint64_t data, int res) {
        if (res <= 0) return !fail_errno(state, "recv/send", res == 0 ? ECONNRESET : res);
        const std::size_t i = data >> 3;
        auto& k = c[i];
        const auto bytes = static_cast<std::size_t>(res);
        switch (data & 7) {
          case server_recv:
            k.server_got += bytes;
            if (k.server_got < size) {
              prep_recv(i, server_recv, server_of(i), k.server_buf + k.server_got,
                        size - k.server_got);
            } else {
              k.server_got = k.server_sent = 0;
              prep_send(i, server_send, server_of(i), k.server_buf, size);
            }
            break;
          case server_send:
            k.server_sent += bytes;
            if (k.server_sent < size) {
              prep_send(i, server_send, server_of(i), k.server_buf + k.server_sent,
                        size - k.server_sent);
            } else {
              prep_recv(i, server_recv, server_of(i), k.server_buf, size);
            }
            break;
          case client_recv:
            k.client_got += bytes;
            if (k.client_got < size) {
              prep_recv(i, client_recv, client_of(i), k.client_buf + k.client_got,
                        size - k.client_got);
            } else {
              ++done;
            }
            break;
          default:  // client_send
            k.client_sent += bytes;
            if (k.client_sent < size) {
              prep_send(i, client_send, client_of(i), ping.data() + k.client_sent,
                        size - k.client_sent);
            } else {
              --sending;
            }
            break;
        }
        return true;
      });
      if (!ok) return false;
    }
    return true;
  });
}

// --- accept rate ---------------------------------------------------------------------

void accept_rate(benchmark::State& state) {
  ring r;
  if (const int e = r.init(64); e < 0) {
    fail_errno(state, "io_uring_queue_init", e);
    return;
  }
  std::uint16_t port = 0;
  fd_owner listener(bench::listen_loopback(port, false));
  if (listener.get() < 0) {
    fail_errno(state, "listen", errno);
    return;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  drive(state, {1, 2}, [&] {
    fd_owner client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (client.get() < 0) return !fail_errno(state, "socket", errno);
    fd_owner server;
    io_uring_sqe* s = r.sqe();
    io_uring_prep_accept(s, listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(s, 0);
    s = r.sqe();
    io_uring_prep_connect(s, client.get(), reinterpret_cast<const sockaddr*>(&address),
                          sizeof address);
    io_uring_sqe_set_data64(s, 1);
    for (int done = 0; done < 2;) {
      if (!submit_and_reap(r, [&](std::uint64_t data, int res) {
            ++done;
            if (res < 0) return !fail_errno(state, data == 0 ? "accept" : "connect", res);
            if (data == 0) server.reset(res);
            return true;
          })) {
        return false;
      }
    }
    return true;  // both closed here
  });
}

// --- UDP ping-pong ---------------------------------------------------------------------

enum udp_kind : unsigned { udp_client_send, udp_client_recv, udp_server_send, udp_server_recv };

struct udp_msg {
  sockaddr_in peer{};
  iovec iov{};
  msghdr msg{};
  std::array<char, bench::kUdpSize> buf{};
  void prepare(bool with_peer) {
    iov = {buf.data(), buf.size()};
    msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (with_peer) {
      msg.msg_name = &peer;
      msg.msg_namelen = sizeof peer;
    }
  }
};

void udp_pingpong(benchmark::State& state, bool tuned) {
  ring r;
  if (const int e = r.init(64, tuned); e < 0) {
    fail_errno(state, "io_uring_queue_init", e);
    return;
  }
  std::uint16_t server_port = 0, client_port = 0;
  fd_owner server(bench::udp_loopback(server_port, false));
  fd_owner client(bench::udp_loopback(client_port, false));
  if (server.get() < 0 || client.get() < 0) {
    fail_errno(state, "udp", errno);
    return;
  }
  if (tuned) {
    if (const int e = r.register_files({server.get(), client.get()}); e < 0) {
      fail_errno(state, "io_uring_register_files", e);
      return;
    }
  }
  const sqe_file server_file = tuned ? sqe_file{0, true} : sqe_file{server.get(), false};
  const sqe_file client_file = tuned ? sqe_file{1, true} : sqe_file{client.get(), false};
  udp_msg server_in, server_out, client_in, client_out;
  auto prep = [&](sqe_file f, udp_msg& m, unsigned kind, bool send) {
    io_uring_sqe* s = r.sqe();
    if (send) {
      io_uring_prep_sendmsg(s, f.fd, &m.msg, 0);
    } else {
      io_uring_prep_recvmsg(s, f.fd, &m.msg, 0);
    }
    f.apply(s);
    io_uring_sqe_set_data64(s, kind);
  };
  client_out.prepare(true);
  client_out.peer.sin_family = AF_INET;
  client_out.peer.sin_port = htons(server_port);
  client_out.peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server_in.prepare(true);
  prep(server_file, server_in, udp_server_recv, false);
  drive(state, {1, 4}, [&] {
    client_in.prepare(false);
    prep(client_file, client_in, udp_client_recv, false);
    prep(client_file, client_out, udp_client_send, true);
    bool received = false, sent = false;
    while (!(received && sent)) {
      if (!submit_and_reap(r, [&](std::uint64_t data, int res) {
            if (res < 0) return !fail_errno(state, "sendmsg/recvmsg", res);
            switch (data) {
              case udp_server_recv:  // echo to the sender
                server_out.prepare(true);
                server_out.peer = server_in.peer;
                server_out.iov.iov_len = static_cast<std::size_t>(res);
                prep(server_file, server_out, udp_server_send, true);
                break;
              case udp_server_send:
                server_in.prepare(true);
                prep(server_file, server_in, udp_server_recv, false);
                break;
              case udp_client_recv:
                received = true;
                break;
              default:
                sent = true;
                break;
            }
            return true;
          })) {
        return false;
      }
    }
    return true;
  });
}

// --- file reads ------------------------------------------------------------------------

void file_read(benchmark::State& state, bool random) {
  const std::string& path = bench::bench_file();
  if (fail_if(state, path.empty(), "no benchmark file")) return;
  ring r;
  if (const int e = r.init(64); e < 0) {
    fail_errno(state, "io_uring_queue_init", e);
    return;
  }
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
    io_uring_prep_read(r.sqe(), fd.get(), buf.data(), static_cast<unsigned>(size), offset);
    return submit_and_reap(r, [&](std::uint64_t, int res) {
      if (res < 0) return !fail_errno(state, "read", res);
      return !fail_if(state, static_cast<std::size_t>(res) != size, "short read");
    });
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
  ring r;
  if (const int e = r.init(64); e < 0) {
    fail_errno(state, "io_uring_queue_init", e);
    return;
  }
  std::vector<timer_entry> heap;
  heap.reserve(bench::kTimers);
  std::vector<int> fired_count(bench::kTimers);
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
      __kernel_timespec ts{wait / 1'000'000'000, wait % 1'000'000'000};
      io_uring_cqe* cqe = nullptr;
      const int e = io_uring_wait_cqe_timeout(r.get(), &cqe, &ts);
      if (e < 0 && e != -ETIME && e != -EINTR) return !fail_errno(state, "wait_cqe_timeout", e);
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
  std::unique_ptr<idle_conn[]> conns;  // outlives the ring, which ends the pending recvs
  ring r;
  if (const int e = r.init(); e < 0) {
    fail_errno(state, "io_uring_queue_init", e);
    return;
  }
  std::uint16_t port = 0;
  fd_owner listener(bench::listen_loopback(port, false));
  if (listener.get() < 0) {
    fail_errno(state, "listen", errno);
    return;
  }
  bench::raw_clients clients(n);
  for (auto _ : state) {
    const bench::memory_meter meter;
    conns = std::make_unique<idle_conn[]>(n);
    for (int i = 0; i < n; ++i) {
      if (i % 256 == 0 && fail_if(state, !clients.connect(port, std::min(256, n - i)), "connect")) {
        return;
      }
      auto& c = conns[static_cast<std::size_t>(i)];
      c.fd.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c.fd.get() < 0) {
        fail_errno(state, "accept", errno);
        return;
      }
      io_uring_sqe* s = r.sqe();
      io_uring_prep_recv(s, c.fd.get(), c.buf.data(), c.buf.size(), 0);
      io_uring_sqe_set_data64(s, static_cast<std::uint64_t>(i));
    }
    if (const int e = io_uring_submit(r.get()); e < 0) {
      fail_errno(state, "io_uring_submit", e);
      return;
    }
    meter.end(state, n);
  }
}

}  // namespace

namespace bench {

void register_floor_uring() {
  const char* impl = "floor-io_uring";
  {
    ring probe;
    if (const int e = probe.init(8); e < 0) {
      std::fprintf(stderr, "proact_bench: %s: io_uring_queue_init failed (%s); skipped\n", impl,
                   std::error_code(-e, std::system_category()).message().c_str());
      return;
    }
  }
  for (const int conns : kPingpongConns) {
    for (const std::size_t size : kPingpongSizes) {
      add("pingpong", impl, {{"conns", conns}, {"size", static_cast<long>(size)}},
          [=](benchmark::State& s) { pingpong(s, conns, size, false); });
    }
  }
  add("accept", impl, {}, accept_rate);
  add("udp_pingpong", impl, {{"size", static_cast<long>(kUdpSize)}},
      [](benchmark::State& s) { udp_pingpong(s, false); });
  add("file_read_random", impl, {{"size", static_cast<long>(kRandomRead)}},
      [](benchmark::State& s) { file_read(s, true); });
  add("file_read_seq", impl, {{"size", static_cast<long>(kSequentialRead)}},
      [](benchmark::State& s) { file_read(s, false); });
  add("timers", impl, {{"n", kTimers}}, timers, kind::once);
  add("idle_memory", impl, {{"conns", kIdleConns}}, idle_memory, kind::once);

  const char* tuned = "floor-io_uring-tuned";
  {
    ring probe;
    if (const int e = probe.init(8, true); e < 0) {
      std::fprintf(stderr, "proact_bench: %s: the tuned ring set-up failed (%s); skipped\n", tuned,
                   std::error_code(-e, std::system_category()).message().c_str());
      return;
    }
  }
  for (const int conns : kPingpongConns) {
    for (const std::size_t size : kPingpongSizes) {
      add("pingpong", tuned, {{"conns", conns}, {"size", static_cast<long>(size)}},
          [=](benchmark::State& s) { pingpong(s, conns, size, true); });
    }
  }
  add("udp_pingpong", tuned, {{"size", static_cast<long>(kUdpSize)}},
      [](benchmark::State& s) { udp_pingpong(s, true); });
}

}  // namespace bench
