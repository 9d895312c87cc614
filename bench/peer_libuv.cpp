// libuv (Debian's libuv1-dev), written as a libuv user would: one uv_loop_t
// driven with uv_run(UV_RUN_ONCE), uv_read_start with an alloc callback that
// hands out the connection's buffer, uv_write / uv_udp_send with request
// objects that live in the connection, uv_timer_t for timers and uv_fs_read
// (libuv's thread pool) for files.
//
// post + wait: libuv has no user completion queue, so a "post" is what a
// libuv user writes: push the item on a queue and uv_async_send(); the async
// callback drains the queue. On one thread the queue has no lock; with a
// producer thread it takes a mutex. uv_async_send coalesces: a batch of 64
// costs one wakeup.
//
// libuv allocates with malloc; uv_replace_allocator routes it through
// counting functions so that allocs/op sees libuv's allocations too.
#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"

namespace {

using bench::drive;
using bench::fail_errno;
using bench::fail_if;

// An initialised loop; closes every handle and the loop on destruction. The
// handles' storage must be declared before it (so it outlives the closing).
class loop_owner {
 public:
  loop_owner() { ok_ = uv_loop_init(&loop_) == 0; }
  loop_owner(const loop_owner&) = delete;
  loop_owner& operator=(const loop_owner&) = delete;
  ~loop_owner() {
    if (!ok_) return;
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (uv_is_closing(h) == 0) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  bool ok() const noexcept { return ok_; }
  uv_loop_t* get() noexcept { return &loop_; }

 private:
  uv_loop_t loop_{};
  bool ok_ = false;
};

bool uv_fail(benchmark::State& state, const char* what, int r) {
  if (r >= 0) return false;
  const std::string message = std::string(what) + ": " + uv_strerror(r);
  state.SkipWithError(message.c_str());
  return true;
}

// Runs the loop one round at a time until done() or an error was recorded.
template <class Done>
bool run_until(benchmark::State& state, uv_loop_t* loop, const int& error, Done&& done) {
  while (!done()) {
    uv_run(loop, UV_RUN_ONCE);
    if (uv_fail(state, "callback", error)) return false;
  }
  return true;
}

sockaddr_in loopback_address(int port) {
  sockaddr_in a{};
  uv_ip4_addr("127.0.0.1", port, &a);
  return a;
}

int bound_port(const uv_tcp_t* tcp) {
  sockaddr_in a{};
  int len = sizeof a;
  uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// --- post + wait --------------------------------------------------------------------

struct post_queue {
  uv_async_t async{};
  std::mutex mutex;  // taken only with a producer thread
  bool locked = false;
  std::vector<int> items, draining;
  std::atomic<std::int64_t> ran{0};

  void push(int item) {
    if (locked) {
      const std::lock_guard lock(mutex);
      items.push_back(item);
    } else {
      items.push_back(item);
    }
    uv_async_send(&async);
  }
  static void on_async(uv_async_t* a) {
    auto& q = *static_cast<post_queue*>(a->data);
    if (q.locked) {
      const std::lock_guard lock(q.mutex);
      q.items.swap(q.draining);
    } else {
      q.items.swap(q.draining);
    }
    for (const int item : q.draining) benchmark::DoNotOptimize(item);  // the "handler"
    q.ran.fetch_add(static_cast<std::int64_t>(q.draining.size()), std::memory_order_release);
    q.draining.clear();
  }
};

bool init_queue(benchmark::State& state, uv_loop_t* loop, post_queue& q, bool locked) {
  q.locked = locked;
  q.items.reserve(bench::kProducerWindow + bench::kPostBatch);
  q.draining.reserve(bench::kProducerWindow + bench::kPostBatch);
  q.async.data = &q;
  return !uv_fail(state, "uv_async_init", uv_async_init(loop, &q.async, post_queue::on_async));
}

void post_wait_one_thread(benchmark::State& state, int batch) {
  post_queue q;
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init") || !init_queue(state, loop.get(), q, false)) {
    return;
  }
  drive(state, {batch, batch}, [&] {
    const std::int64_t goal = q.ran.load(std::memory_order_relaxed) + batch;
    for (int i = 0; i < batch; ++i) q.push(i);
    while (q.ran.load(std::memory_order_relaxed) < goal) uv_run(loop.get(), UV_RUN_ONCE);
    return true;
  });
}

void post_wait_two_threads(benchmark::State& state) {
  post_queue q;
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init") || !init_queue(state, loop.get(), q, true)) {
    return;
  }
  std::atomic<std::int64_t> target{0};
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    std::int64_t posted = 0;
    while (true) {
      if (posted == target.load(std::memory_order_acquire) ||
          posted - q.ran.load(std::memory_order_acquire) >= bench::kProducerWindow) {
        if (stop.load(std::memory_order_acquire)) return;
        std::this_thread::yield();
        continue;
      }
      q.push(static_cast<int>(posted));
      ++posted;
    }
  });
  drive(state, {bench::kProducerChunk, bench::kProducerChunk}, [&] {
    const std::int64_t goal = target.fetch_add(bench::kProducerChunk) + bench::kProducerChunk;
    while (q.ran.load(std::memory_order_acquire) < goal) uv_run(loop.get(), UV_RUN_ONCE);
    return true;
  });
  stop.store(true, std::memory_order_release);
  producer.join();
}

// --- TCP ping-pong -------------------------------------------------------------------

struct pp_session;

struct pp_conn {
  uv_tcp_t client{}, server{};
  uv_write_t client_write{}, server_write{};
  char* client_buf = nullptr;
  char* server_buf = nullptr;
  std::size_t client_got = 0, server_got = 0;
  pp_session* session = nullptr;
};

struct pp_session {
  std::size_t size = 0;
  std::vector<char> ping;
  std::size_t done = 0, sending = 0;
  int error = 0;
};

// Each end's buffer holds two messages: libuv reads again whenever a read
// filled the buffer it was given, and an empty buffer would end the read with
// UV_ENOBUFS; the room past one message is never filled (a peer sends one).
void pp_alloc_client(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  auto& c = *static_cast<pp_conn*>(h->data);
  *buf = uv_buf_init(c.client_buf + c.client_got,
                     static_cast<unsigned>(2 * c.session->size - c.client_got));
}

void pp_alloc_server(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  auto& c = *static_cast<pp_conn*>(h->data);
  *buf = uv_buf_init(c.server_buf + c.server_got,
                     static_cast<unsigned>(2 * c.session->size - c.server_got));
}

void pp_read_client(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto& c = *static_cast<pp_conn*>(s->data);
  if (nread < 0) {
    c.session->error = static_cast<int>(nread);
    return;
  }
  c.client_got += static_cast<std::size_t>(nread);
  if (c.client_got == c.session->size) ++c.session->done;
}

void pp_read_server(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto& c = *static_cast<pp_conn*>(s->data);
  if (nread < 0) {
    c.session->error = static_cast<int>(nread);
    return;
  }
  c.server_got += static_cast<std::size_t>(nread);
  if (c.server_got < c.session->size) return;
  c.server_got = 0;
  const uv_buf_t b = uv_buf_init(c.server_buf, static_cast<unsigned>(c.session->size));
  const int r = uv_write(&c.server_write, s, &b, 1, [](uv_write_t* w, int status) {
    if (status < 0) static_cast<pp_conn*>(w->handle->data)->session->error = status;
  });
  if (r < 0) c.session->error = r;
}

void pingpong(benchmark::State& state, int conns, std::size_t size) {
  const auto n = static_cast<std::size_t>(conns);
  pp_session session;
  session.size = size;
  session.ping.assign(size, 'x');
  std::vector<char> bufs(4 * n * size);
  const auto c = std::make_unique<pp_conn[]>(n);
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init")) return;
  std::uint16_t port = 0;
  const int listener = bench::listen_loopback(port, false);
  if (listener < 0) {
    fail_errno(state, "listen", errno);
    return;
  }
  // Connected pairs made with plain sockets, handed to libuv with uv_tcp_open.
  for (std::size_t i = 0; i < n; ++i) {
    auto& k = c[i];
    k.session = &session;
    k.client_buf = &bufs[4 * i * size];
    k.server_buf = &bufs[(4 * i + 2) * size];
    k.client.data = k.server.data = &k;
    const int client = bench::connect_loopback(port);
    const int server = client < 0 ? -1 : ::accept(listener, nullptr, nullptr);
    if (server < 0) {
      fail_errno(state, "connect/accept", errno);
      if (client >= 0) ::close(client);
      ::close(listener);
      return;
    }
    uv_tcp_init(loop.get(), &k.client);
    uv_tcp_init(loop.get(), &k.server);
    if (uv_fail(state, "uv_tcp_open", uv_tcp_open(&k.client, client)) ||
        uv_fail(state, "uv_tcp_open", uv_tcp_open(&k.server, server)) ||
        uv_fail(state, "uv_tcp_nodelay", uv_tcp_nodelay(&k.server, 1)) ||
        uv_fail(state, "uv_read_start",
                uv_read_start(reinterpret_cast<uv_stream_t*>(&k.client), pp_alloc_client,
                              pp_read_client)) ||
        uv_fail(state, "uv_read_start",
                uv_read_start(reinterpret_cast<uv_stream_t*>(&k.server), pp_alloc_server,
                              pp_read_server))) {
      ::close(listener);
      return;
    }
  }
  ::close(listener);

  drive(state, {conns, 4 * static_cast<std::int64_t>(conns), 0, conns == 1}, [&] {
    session.done = 0;
    session.sending = n;
    const uv_buf_t b = uv_buf_init(session.ping.data(), static_cast<unsigned>(size));
    for (std::size_t i = 0; i < n; ++i) {
      c[i].client_got = 0;
      const int r = uv_write(&c[i].client_write, reinterpret_cast<uv_stream_t*>(&c[i].client), &b,
                             1, [](uv_write_t* w, int status) {
                               auto& s = *static_cast<pp_conn*>(w->handle->data)->session;
                               if (status < 0) s.error = status;
                               --s.sending;
                             });
      if (uv_fail(state, "uv_write", r)) return false;
    }
    return run_until(state, loop.get(), session.error,
                     [&] { return session.done == n && session.sending == 0; });
  });
}

// --- accept rate ---------------------------------------------------------------------

struct accept_state {
  uv_tcp_t listener{}, client{}, server{};
  uv_connect_t connect{};
  int accepted = 0, connected = 0, closed = 0, error = 0;
};

void accept_rate(benchmark::State& state) {
  accept_state a;
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init")) return;
  a.listener.data = a.client.data = a.server.data = a.connect.data = &a;
  const sockaddr_in any = loopback_address(0);
  uv_tcp_init(loop.get(), &a.listener);
  if (uv_fail(state, "uv_tcp_bind",
              uv_tcp_bind(&a.listener, reinterpret_cast<const sockaddr*>(&any), 0)) ||
      uv_fail(state, "uv_listen",
              uv_listen(reinterpret_cast<uv_stream_t*>(&a.listener), 4096,
                        [](uv_stream_t* l, int status) {
                          auto& s = *static_cast<accept_state*>(l->data);
                          if (status < 0) {
                            s.error = status;
                            return;
                          }
                          uv_tcp_init(l->loop, &s.server);
                          const int r = uv_accept(l, reinterpret_cast<uv_stream_t*>(&s.server));
                          if (r < 0) s.error = r;
                          ++s.accepted;
                        }))) {
    return;
  }
  const sockaddr_in address = loopback_address(bound_port(&a.listener));
  auto on_close = [](uv_handle_t* h) { ++static_cast<accept_state*>(h->data)->closed; };
  drive(state, {1, 2}, [&] {
    a.accepted = a.connected = a.closed = 0;
    uv_tcp_init(loop.get(), &a.client);
    const int r = uv_tcp_connect(&a.connect, &a.client, reinterpret_cast<const sockaddr*>(&address),
                                 [](uv_connect_t* req, int status) {
                                   auto& s = *static_cast<accept_state*>(req->data);
                                   if (status < 0) s.error = status;
                                   ++s.connected;
                                 });
    if (uv_fail(state, "uv_tcp_connect", r) ||
        !run_until(state, loop.get(), a.error, [&] { return a.accepted && a.connected; })) {
      return false;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&a.client), on_close);
    uv_close(reinterpret_cast<uv_handle_t*>(&a.server), on_close);
    return run_until(state, loop.get(), a.error, [&] { return a.closed == 2; });
  });
}

// --- UDP ping-pong ---------------------------------------------------------------------

struct udp_state {
  uv_udp_t server{}, client{};
  uv_udp_send_t server_send{}, client_send{};
  std::array<char, bench::kUdpSize> ping{}, server_buf{}, client_buf{};
  sockaddr_in peer{};
  bool received = false, sent = false;
  int error = 0;
};

void udp_pingpong(benchmark::State& state) {
  udp_state u;
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init")) return;
  u.server.data = u.client.data = &u;
  const sockaddr_in any = loopback_address(0);
  uv_udp_init(loop.get(), &u.server);
  uv_udp_init(loop.get(), &u.client);
  if (uv_fail(state, "uv_udp_bind",
              uv_udp_bind(&u.server, reinterpret_cast<const sockaddr*>(&any), 0)) ||
      uv_fail(state, "uv_udp_bind",
              uv_udp_bind(&u.client, reinterpret_cast<const sockaddr*>(&any), 0))) {
    return;
  }
  sockaddr_in server_address{};
  int len = sizeof server_address;
  uv_udp_getsockname(&u.server, reinterpret_cast<sockaddr*>(&server_address), &len);
  const int rs = uv_udp_recv_start(
      &u.server,
      [](uv_handle_t* h, std::size_t, uv_buf_t* b) {
        auto& s = *static_cast<udp_state*>(h->data);
        *b = uv_buf_init(s.server_buf.data(), static_cast<unsigned>(s.server_buf.size()));
      },
      [](uv_udp_t* h, ssize_t nread, const uv_buf_t*, const sockaddr* from, unsigned) {
        auto& s = *static_cast<udp_state*>(h->data);
        if (nread < 0) {
          s.error = static_cast<int>(nread);
          return;
        }
        if (from == nullptr) return;  // nothing more to read
        const uv_buf_t b = uv_buf_init(s.server_buf.data(), static_cast<unsigned>(nread));
        const int r = uv_udp_send(&s.server_send, h, &b, 1, from, [](uv_udp_send_t* req, int st) {
          if (st < 0) static_cast<udp_state*>(req->handle->data)->error = st;
        });
        if (r < 0) s.error = r;
      });
  const int rc = uv_udp_recv_start(
      &u.client,
      [](uv_handle_t* h, std::size_t, uv_buf_t* b) {
        auto& s = *static_cast<udp_state*>(h->data);
        *b = uv_buf_init(s.client_buf.data(), static_cast<unsigned>(s.client_buf.size()));
      },
      [](uv_udp_t* h, ssize_t nread, const uv_buf_t*, const sockaddr* from, unsigned) {
        auto& s = *static_cast<udp_state*>(h->data);
        if (nread < 0) s.error = static_cast<int>(nread);
        if (from != nullptr) s.received = true;
      });
  if (uv_fail(state, "uv_udp_recv_start", rs) || uv_fail(state, "uv_udp_recv_start", rc)) return;
  const uv_buf_t ping = uv_buf_init(u.ping.data(), static_cast<unsigned>(u.ping.size()));
  drive(state, {1, 4}, [&] {
    u.received = u.sent = false;
    const int r = uv_udp_send(&u.client_send, &u.client, &ping, 1,
                              reinterpret_cast<const sockaddr*>(&server_address),
                              [](uv_udp_send_t* req, int st) {
                                auto& s = *static_cast<udp_state*>(req->handle->data);
                                if (st < 0) s.error = st;
                                s.sent = true;
                              });
    return !uv_fail(state, "uv_udp_send", r) &&
           run_until(state, loop.get(), u.error, [&] { return u.received && u.sent; });
  });
}

// --- file reads ------------------------------------------------------------------------

struct file_state {
  uv_fs_t req{};
  bool done = false;
};

void file_read(benchmark::State& state, bool random) {
  const std::string& path = bench::bench_file();
  if (fail_if(state, path.empty(), "no benchmark file")) return;
  const std::size_t size = random ? bench::kRandomRead : bench::kSequentialRead;
  std::vector<char> buf(size);
  file_state f;
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init")) return;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail_errno(state, "open", errno);
    return;
  }
  f.req.data = &f;
  const auto& offsets = bench::random_offsets();
  std::size_t next = 0;
  std::int64_t offset = 0;
  const uv_buf_t b = uv_buf_init(buf.data(), static_cast<unsigned>(size));
  int error = 0;
  // One read before timing: libuv starts its thread pool on first use.
  f.done = false;
  if (uv_fail(state, "uv_fs_read", uv_fs_read(loop.get(), &f.req, fd, &b, 1, 0, [](uv_fs_t* req) {
                static_cast<file_state*>(req->data)->done = true;
              }))) {
    ::close(fd);
    return;
  }
  while (!f.done) uv_run(loop.get(), UV_RUN_ONCE);
  uv_fs_req_cleanup(&f.req);
  drive(state, {1, 1, static_cast<std::int64_t>(size)}, [&] {
    if (random) {
      offset = static_cast<std::int64_t>(offsets[next++ % offsets.size()]);
    } else {
      offset =
          (offset + static_cast<std::int64_t>(size)) % static_cast<std::int64_t>(bench::kFileSize);
    }
    f.done = false;
    const int r = uv_fs_read(loop.get(), &f.req, fd, &b, 1, offset, [](uv_fs_t* req) {
      static_cast<file_state*>(req->data)->done = true;
    });
    if (uv_fail(state, "uv_fs_read", r) ||
        !run_until(state, loop.get(), error, [&] { return f.done; })) {
      return false;
    }
    const auto got = f.req.result;
    uv_fs_req_cleanup(&f.req);
    if (uv_fail(state, "read", static_cast<int>(got))) return false;
    return !fail_if(state, static_cast<std::size_t>(got) != size, "short read");
  });
  ::close(fd);
}

// --- timers --------------------------------------------------------------------------------

void timers(benchmark::State& state) {
  const auto t = std::make_unique<uv_timer_t[]>(bench::kTimers);
  int fired = 0;
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init")) return;
  for (int i = 0; i < bench::kTimers; ++i) {
    uv_timer_init(loop.get(), &t[static_cast<std::size_t>(i)]);
    t[static_cast<std::size_t>(i)].data = &fired;
  }
  drive(state, {bench::kTimers, bench::kTimers}, [&] {
    fired = 0;
    uv_update_time(loop.get());
    for (int i = 0; i < bench::kTimers; ++i) {
      const int r = uv_timer_start(
          &t[static_cast<std::size_t>(i)], [](uv_timer_t* h) { ++*static_cast<int*>(h->data); },
          static_cast<std::uint64_t>(bench::timer_offset_us(i) / 1000), 0);
      if (uv_fail(state, "uv_timer_start", r)) return false;
    }
    while (fired < bench::kTimers) uv_run(loop.get(), UV_RUN_ONCE);
    return true;
  });
}

// --- memory per idle connection ---------------------------------------------------------

struct idle_conn {
  uv_tcp_t tcp{};
  std::array<char, bench::kIdleRecvBuffer> buf{};
};

struct idle_state {
  uv_tcp_t listener{};
  idle_conn* conns = nullptr;
  int accepted = 0, error = 0;
};

void idle_memory(benchmark::State& state) {
  constexpr int n = bench::kIdleConns;
  std::unique_ptr<idle_conn[]> conns;  // outlives the loop
  idle_state s;
  loop_owner loop;
  if (fail_if(state, !loop.ok(), "uv_loop_init")) return;
  s.listener.data = &s;
  const sockaddr_in any = loopback_address(0);
  uv_tcp_init(loop.get(), &s.listener);
  if (uv_fail(state, "uv_tcp_bind",
              uv_tcp_bind(&s.listener, reinterpret_cast<const sockaddr*>(&any), 0)) ||
      uv_fail(state, "uv_listen",
              uv_listen(reinterpret_cast<uv_stream_t*>(&s.listener), 4096,
                        [](uv_stream_t* l, int status) {
                          auto& st = *static_cast<idle_state*>(l->data);
                          if (status < 0) {
                            st.error = status;
                            return;
                          }
                          auto& c = st.conns[st.accepted++];
                          uv_tcp_init(l->loop, &c.tcp);
                          c.tcp.data = &c;
                          int r = uv_accept(l, reinterpret_cast<uv_stream_t*>(&c.tcp));
                          if (r == 0) {
                            r = uv_read_start(
                                reinterpret_cast<uv_stream_t*>(&c.tcp),
                                [](uv_handle_t* h, std::size_t, uv_buf_t* b) {
                                  auto& k = *static_cast<idle_conn*>(h->data);
                                  *b = uv_buf_init(k.buf.data(),
                                                   static_cast<unsigned>(k.buf.size()));
                                },
                                [](uv_stream_t*, ssize_t, const uv_buf_t*) {});
                          }
                          if (r < 0) st.error = r;
                        }))) {
    return;
  }
  const int port = bound_port(&s.listener);
  bench::raw_clients clients(n);
  for (auto _ : state) {
    const bench::memory_meter meter;
    conns = std::make_unique<idle_conn[]>(n);
    s.conns = conns.get();
    for (int i = 0; i < n; i += 256) {
      const int k = std::min(256, n - i);
      if (fail_if(state, !clients.connect(static_cast<std::uint16_t>(port), k), "connect") ||
          !run_until(state, loop.get(), s.error, [&] { return s.accepted == i + k; })) {
        return;
      }
    }
    meter.end(state, n);
  }
}

// Counting allocator functions for uv_replace_allocator.
void* counting_malloc(std::size_t size) {
  proact_bench::note_allocation();
  return std::malloc(size);
}
void* counting_realloc(void* p, std::size_t size) {
  proact_bench::note_allocation();
  return std::realloc(p, size);
}
void* counting_calloc(std::size_t count, std::size_t size) {
  proact_bench::note_allocation();
  return std::calloc(count, size);
}

}  // namespace

namespace bench {

void register_libuv() {
  const char* impl = "libuv";
  uv_replace_allocator(counting_malloc, counting_realloc, counting_calloc, std::free);
  add("post_wait", impl, {{"threads", 1}}, [](benchmark::State& s) { post_wait_one_thread(s, 1); });
  add("post_wait", impl, {{"threads", 2}}, post_wait_two_threads);
  add("post_wait_many", impl, {{"batch", kPostBatch}},
      [](benchmark::State& s) { post_wait_one_thread(s, kPostBatch); });
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
