// proact's raw port API, on each Linux backend: proact-epoll, proact-io_uring.
//
// Everything goes through one port waited on by the benchmark thread: start
// operations, wait() for their completions, as with an I/O completion port.
// The workloads mirror the other implementations' files one for one.
#include <array>
#include <atomic>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"
#include "proact/proact.hpp"
#include "proact_common.hpp"

namespace {

using bench::drive;
using bench::fail;
using bench::fail_if;
using proact::make_buffer;

// Waits are infinite, as in a real loop: a finite timeout would cost a clock
// read per wait, which the other implementations do not pay.
constexpr proact::timeout kWait = proact::infinite;

bool open_port(benchmark::State& state, proact::port& port, proact::backend_kind backend,
               unsigned concurrency = 1) {
  return !fail(state, "port.open", port.open({backend, concurrency}));
}

bool wait_one(benchmark::State& state, proact::port& port, proact::completion& c) {
  return !fail(state, "wait", port.wait(c, kWait));
}

// --- post + wait ------------------------------------------------------------------

void post_wait_one_thread(benchmark::State& state, proact::backend_kind backend) {
  proact::operation op;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  proact::completion c;
  drive(state, {}, [&] {
    if (fail(state, "post", port.post(1, 64, &op)) || !wait_one(state, port, c)) return false;
    benchmark::DoNotOptimize(c);
    return true;
  });
}

void post_wait_batch(benchmark::State& state, proact::backend_kind backend) {
  std::array<proact::operation, bench::kPostBatch> ops;
  std::array<proact::completion, bench::kPostBatch> out;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  drive(state, {bench::kPostBatch, bench::kPostBatch}, [&] {
    for (auto& op : ops) {
      if (fail(state, "post", port.post(1, 64, &op))) return false;
    }
    for (std::size_t got = 0; got < ops.size();) {
      std::size_t count = 0;
      if (fail(state, "wait_many",
               port.wait_many(std::span(out).first(ops.size() - got), count, kWait))) {
        return false;
      }
      got += count;
    }
    benchmark::DoNotOptimize(out.data());
    return true;
  });
}

// A producer thread posts; the benchmark thread waits. The producer reuses a
// ring of operations, waiting for one to be dequeued before posting it again.
void post_wait_two_threads(benchmark::State& state, proact::backend_kind backend) {
  std::vector<proact::operation> ring(bench::kProducerWindow);
  proact::port port;
  if (!open_port(state, port, backend)) return;
  std::atomic<std::int64_t> target{0};
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    std::int64_t posted = 0;
    while (true) {
      if (posted == target.load(std::memory_order_acquire)) {
        if (stop.load(std::memory_order_acquire)) return;
        std::this_thread::yield();
        continue;
      }
      auto& op = ring[static_cast<std::size_t>(posted % bench::kProducerWindow)];
      while (op.in_flight()) std::this_thread::yield();
      if (port.post(1, 64, &op)) return;  // the consumer times out and reports it
      ++posted;
    }
  });
  proact::completion c;
  drive(state, {bench::kProducerChunk, bench::kProducerChunk}, [&] {
    target.fetch_add(bench::kProducerChunk, std::memory_order_release);
    for (int got = 0; got < bench::kProducerChunk; ++got) {
      if (!wait_one(state, port, c)) return false;
    }
    return true;
  });
  stop.store(true, std::memory_order_release);
  producer.join();
}

// --- TCP ping-pong -------------------------------------------------------------------

struct pp_ops {
  proact::operation client_send, client_recv, server_send, server_recv;
  std::size_t client_got = 0, server_got = 0;
  bool client_sending = false;
};

// Ties a handle to the port with a completion key.
auto associate_with(proact::port& port) {
  return [&port](proact::handle& h, std::uintptr_t key) { return port.associate(h, key); };
}

// Listens on loopback and connects sockets.size() pairs through the port
// (pair i's ends complete with keys 2i and 2i+1), then starts each server
// end's first recv, into bufs.server(i) with the operation server_recv(i).
template <class ServerRecv>
bool open_pairs(benchmark::State& state, proact::port& port, proact::tcp_listener& listener,
                proact::operation& accept_op, proact::operation& connect_op,
                std::vector<bench::tcp_pair>& sockets, bench::pingpong_buffers& bufs,
                std::size_t size, ServerRecv server_recv) {
  proact::endpoint address;
  proact::completion c;
  const auto wait_both = [&] {
    for (int done = 0; done < 2; ++done) {
      if (!wait_one(state, port, c) || fail(state, "accept/connect", c.error)) return false;
    }
    return true;
  };
  if (!bench::listen_loopback(state, listener, address, associate_with(port)) ||
      !bench::connect_pairs(state, listener, address, accept_op, connect_op, sockets,
                            associate_with(port), wait_both)) {
    return false;
  }
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    if (fail(state, "recv",
             sockets[i].server.recv(server_recv(i), make_buffer(bufs.server(i), size)))) {
      return false;
    }
  }
  return true;
}

void pingpong(benchmark::State& state, proact::backend_kind backend, int conns, std::size_t size) {
  const auto n = static_cast<std::size_t>(conns);
  bench::pingpong_buffers bufs(n, size);
  // Operations outlive the port and the sockets (destroyed in reverse order).
  std::vector<pp_ops> ops(n);
  proact::operation accept_op, connect_op;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  proact::tcp_listener listener;
  std::vector<bench::tcp_pair> sockets(n);
  if (!open_pairs(state, port, listener, accept_op, connect_op, sockets, bufs, size,
                  [&](std::size_t i) -> proact::operation& { return ops[i].server_recv; })) {
    return;
  }
  proact::completion c;

  drive(state, bench::pingpong_spec(conns), [&] {
    for (std::size_t i = 0; i < n; ++i) {
      auto& o = ops[i];
      o.client_got = 0;
      o.client_sending = true;
      if (fail(state, "recv",
               sockets[i].client.recv(o.client_recv, make_buffer(bufs.client(i), size))) ||
          fail(state, "send", sockets[i].client.send(o.client_send, bufs.ping()))) {
        return false;
      }
    }
    std::size_t done = 0, sending = n;
    while (done < n || sending > 0) {
      if (!wait_one(state, port, c) || fail(state, "completion", c.error)) return false;
      const std::size_t i = c.key / 2;
      auto& o = ops[i];
      auto& s = sockets[i];
      std::error_code ec;
      if (c.op == &o.server_recv) {
        o.server_got += c.bytes;
        char* buf = bufs.server(i);
        ec =
            o.server_got < size
                ? s.server.recv(o.server_recv, make_buffer(buf + o.server_got, size - o.server_got))
                : s.server.send(o.server_send, make_buffer(buf, size));
      } else if (c.op == &o.server_send) {
        o.server_got = 0;
        ec = s.server.recv(o.server_recv, make_buffer(bufs.server(i), size));
      } else if (c.op == &o.client_recv) {
        o.client_got += c.bytes;
        if (o.client_got < size) {
          ec = s.client.recv(o.client_recv,
                             make_buffer(bufs.client(i) + o.client_got, size - o.client_got));
        } else {
          ++done;
        }
      } else if (c.op == &o.client_send) {
        --sending;
      }
      if (fail(state, "recv/send", ec)) return false;
    }
    return true;
  });
}

// --- many threads on one port --------------------------------------------------------

// `threads` workers wait on one port (its concurrency `threads`), as an IOCP
// server's pool does, and handle whichever completion comes. A connection's
// client end and server end are separate chains with one operation in flight
// each, so no two threads ever touch the same chain at once. Each iteration
// the benchmark thread starts every connection's kThreadedRounds round trips
// and waits for the last to finish; `null` packets stop the workers.
struct threaded_conn {
  proact::operation client_op, server_op;
  std::size_t client_got = 0, server_got = 0;
  int rounds_left = 0;
  bool client_sending = false, server_sending = false;
};

class worker_pool {
 public:
  worker_pool(proact::port& port, unsigned threads) : port_(port), threads_(threads) {}
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() { stop(); }
  template <class Handle>
  void start(Handle handle) {
    for (unsigned i = 0; i < threads_; ++i) {
      workers_.emplace_back([this, handle] {
        proact::completion c;
        while (!port_.wait(c, kWait) && c.op != nullptr) handle(c);
      });
    }
  }
  void stop() {
    for (std::size_t i = 0; i < workers_.size(); ++i) (void)port_.post(0, 0, nullptr);
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

 private:
  proact::port& port_;
  unsigned threads_;
  std::vector<std::thread> workers_;
};

void pingpong_threads(benchmark::State& state, proact::backend_kind backend, unsigned threads) {
  constexpr std::size_t size = 64;
  const auto n = static_cast<std::size_t>(bench::kThreadedConns);
  bench::pingpong_buffers bufs(n, size);
  std::vector<threaded_conn> conns(n);  // outlives the port and the sockets
  proact::operation accept_op, connect_op;
  proact::port port;
  if (!open_port(state, port, backend, threads)) return;
  proact::tcp_listener listener;
  std::vector<bench::tcp_pair> sockets(n);
  if (!open_pairs(state, port, listener, accept_op, connect_op, sockets, bufs, size,
                  [&](std::size_t i) -> proact::operation& { return conns[i].server_op; })) {
    return;
  }
  proact::completion c;
  // The benchmark thread dequeued during set-up, so it counts as active
  // until it waits again (item 12: an emulating backend cannot see it block
  // later in finished.wait()). One wait with nothing queued ends that, so
  // that all `threads` workers may run.
  if (fail_if(state, !port.wait(c, proact::timeout{0}), "a completion left after set-up")) {
    return;
  }
  bench::countdown finished;
  std::atomic<bool> failed{false};
  const auto handle = [&](const proact::completion& done) {
    const std::size_t i = done.key / 2;
    threaded_conn& m = conns[i];
    bench::tcp_pair& s = sockets[i];
    std::error_code ec = done.error;
    if (!ec && done.key % 2 == 1) {  // the server's chain: recv whole, echo, recv
      if (m.server_sending) {
        m.server_sending = false;
        m.server_got = 0;
        ec = s.server.recv(m.server_op, make_buffer(bufs.server(i), size));
      } else if ((m.server_got += done.bytes) < size) {
        ec = s.server.recv(m.server_op,
                           make_buffer(bufs.server(i) + m.server_got, size - m.server_got));
      } else {
        m.server_sending = true;
        ec = s.server.send(m.server_op, make_buffer(bufs.server(i), size));
      }
    } else if (!ec) {  // the client's chain: send, recv whole, again or done
      if (m.client_sending) {
        m.client_sending = false;
        m.client_got = 0;
        ec = s.client.recv(m.client_op, make_buffer(bufs.client(i), size));
      } else if ((m.client_got += done.bytes) < size) {
        ec = s.client.recv(m.client_op,
                           make_buffer(bufs.client(i) + m.client_got, size - m.client_got));
      } else if (--m.rounds_left > 0) {
        m.client_sending = true;
        ec = s.client.send(m.client_op, bufs.ping());
      } else {
        finished.done_one();
      }
    }
    if (ec && !failed.exchange(true)) finished.abandon();
  };
  worker_pool pool(port, threads);
  pool.start(handle);
  const std::int64_t trips = bench::kThreadedConns * std::int64_t{bench::kThreadedRounds};
  drive(state, {trips, 4 * trips}, [&] {
    finished.reset(bench::kThreadedConns);
    for (std::size_t i = 0; i < n; ++i) {
      conns[i].rounds_left = bench::kThreadedRounds;
      conns[i].client_sending = true;
      if (fail(state, "send", sockets[i].client.send(conns[i].client_op, bufs.ping()))) {
        return false;
      }
    }
    finished.wait();
    return !fail_if(state, failed.load(), "a completion failed");
  });
  pool.stop();
}

// `threads` chains of posts on one port, each packet posted again by the
// worker that dequeues it until kThreadedPosts were dequeued this iteration.
void post_wait_threads(benchmark::State& state, proact::backend_kind backend, unsigned threads) {
  std::vector<proact::operation> chains(threads);
  proact::port port;
  if (!open_port(state, port, backend, threads)) return;
  bench::countdown finished;
  std::atomic<std::int64_t> to_post{0};
  std::atomic<bool> failed{false};
  worker_pool pool(port, threads);
  pool.start([&](const proact::completion& c) {
    if (to_post.fetch_sub(1, std::memory_order_relaxed) > 0 && port.post(c.key, c.bytes, c.op)) {
      if (!failed.exchange(true)) finished.abandon();
      return;
    }
    finished.done_one();
  });
  drive(state, {bench::kThreadedPosts, bench::kThreadedPosts}, [&] {
    finished.reset(bench::kThreadedPosts);
    to_post.store(bench::kThreadedPosts - static_cast<std::int64_t>(threads),
                  std::memory_order_relaxed);
    for (auto& op : chains) {
      if (fail(state, "post", port.post(1, 64, &op))) return false;
    }
    finished.wait();
    return !fail_if(state, failed.load(), "a post failed");
  });
  pool.stop();
}

// --- accept rate ---------------------------------------------------------------------

void accept_rate(benchmark::State& state, proact::backend_kind backend) {
  proact::operation accept_op, connect_op;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  proact::tcp_listener listener;
  proact::endpoint address;
  if (!bench::listen_loopback(state, listener, address, associate_with(port))) return;
  proact::completion c;
  drive(state, {1, 2}, [&] {
    proact::tcp_socket client, server;
    if (fail(state, "open", client.open(address.family())) ||
        fail(state, "associate", port.associate(client, 1)) ||
        fail(state, "accept", listener.accept(accept_op, server)) ||
        fail(state, "connect", client.connect(connect_op, address))) {
      return false;
    }
    for (int done = 0; done < 2; ++done) {
      if (!wait_one(state, port, c) || fail(state, "accept/connect", c.error)) return false;
    }
    return !fail(state, "close", server.close()) && !fail(state, "close", client.close());
  });
}

// --- UDP ping-pong ---------------------------------------------------------------------

void udp_pingpong(benchmark::State& state, proact::backend_kind backend) {
  constexpr std::size_t size = bench::kUdpSize;
  std::array<char, size> ping{}, server_buf{}, client_buf{};
  proact::operation client_send, client_recv, server_send, server_recv;
  proact::endpoint source;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  proact::udp_socket client, server;
  proact::endpoint server_address;
  std::error_code ec;
  if (!bench::open_udp_pair(state, server, client, server_address, associate_with(port)) ||
      fail(state, "recv_from",
           server.recv_from(server_recv, make_buffer(server_buf.data(), server_buf.size()),
                            &source))) {
    return;
  }
  proact::completion c;
  drive(state, {1, 4}, [&] {
    if (fail(state, "recv_from",
             client.recv_from(client_recv, make_buffer(client_buf.data(), client_buf.size()))) ||
        fail(state, "send_to",
             client.send_to(client_send, make_buffer(ping.data(), size), server_address))) {
      return false;
    }
    bool received = false, sent = false;
    while (!(received && sent)) {
      if (!wait_one(state, port, c) || fail(state, "completion", c.error)) return false;
      if (c.op == &server_recv) {
        ec = server.send_to(server_send, make_buffer(server_buf.data(), c.bytes), source);
      } else if (c.op == &server_send) {
        ec = server.recv_from(server_recv, make_buffer(server_buf.data(), server_buf.size()),
                              &source);
      } else if (c.op == &client_recv) {
        received = true;
      } else if (c.op == &client_send) {
        sent = true;
      }
      if (fail(state, "send_to/recv_from", ec)) return false;
    }
    return true;
  });
}

// --- file reads ------------------------------------------------------------------------

void file_read(benchmark::State& state, proact::backend_kind backend, bool random) {
  const std::string& path = bench::bench_file();
  if (bench::fail_if(state, path.empty(), "no benchmark file")) return;
  bench::read_offsets offsets(random);
  const std::size_t size = offsets.size();
  std::vector<char> buf(size);
  proact::operation op;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  proact::file f;
  if (fail(state, "open", f.open(path, proact::file_mode::read)) ||
      fail(state, "associate", port.associate(f, 1))) {
    return;
  }
  proact::completion c;
  // One read before timing: the epoll backend starts its file threads on
  // first use (as libuv starts its thread pool).
  if (fail(state, "read_at", f.read_at(op, 0, make_buffer(buf.data(), size))) ||
      !wait_one(state, port, c) || fail(state, "read", c.error)) {
    return;
  }
  drive(state, {1, 1, static_cast<std::int64_t>(size)}, [&] {
    if (fail(state, "read_at", f.read_at(op, offsets.next(), make_buffer(buf.data(), size))) ||
        !wait_one(state, port, c) || fail(state, "read", c.error)) {
      return false;
    }
    return !bench::fail_if(state, c.bytes != size, "short read");
  });
}

// --- memory per idle connection ---------------------------------------------------------

struct idle_ops {
  proact::operation recv;
  std::array<char, bench::kIdleRecvBuffer> buf;
};

void idle_memory(benchmark::State& state, proact::backend_kind backend) {
  constexpr int n = bench::kIdleConns;
  std::unique_ptr<idle_ops[]> ops;  // outlives the port and the sockets
  proact::operation accept_op;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  proact::tcp_listener listener;
  proact::endpoint address;
  if (!bench::listen_loopback(state, listener, address, associate_with(port))) return;
  bench::raw_clients clients(n);
  std::unique_ptr<proact::tcp_socket[]> sockets;
  for (auto _ : state) {
    const bench::memory_meter meter;
    ops = std::make_unique<idle_ops[]>(n);
    sockets = std::make_unique<proact::tcp_socket[]>(n);
    proact::completion c;
    for (int i = 0; i < n; ++i) {
      if (i % 256 == 0 &&
          bench::fail_if(state, !clients.connect(address.port(), std::min(256, n - i)),
                         "connect")) {
        return;
      }
      auto& o = ops[static_cast<std::size_t>(i)];
      auto& s = sockets[static_cast<std::size_t>(i)];
      if (fail(state, "accept", listener.accept(accept_op, s)) || !wait_one(state, port, c) ||
          fail(state, "accepted", c.error) ||
          fail(state, "associate", port.associate(s, static_cast<std::uintptr_t>(i))) ||
          fail(state, "recv", s.recv(o.recv, make_buffer(o.buf.data(), o.buf.size())))) {
        return;
      }
    }
    // Nothing is queued: every recv is pending.
    if (bench::fail_if(state, port.wait(c, proact::timeout{0}) != proact::errc::timed_out,
                       "unexpected completion")) {
      return;
    }
    meter.end(state, n);
  }
}

}  // namespace

namespace bench {

void register_proact_port() {
  for (const auto backend : kProactBackends) {
    const std::string impl = proact_impl_name("proact-", backend);
    if (impl.empty()) continue;
    add("post_wait", impl, {{"threads", 1}},
        [backend](benchmark::State& s) { post_wait_one_thread(s, backend); });
    add("post_wait", impl, {{"threads", 2}},
        [backend](benchmark::State& s) { post_wait_two_threads(s, backend); });
    add("post_wait_many", impl, {{"batch", kPostBatch}},
        [backend](benchmark::State& s) { post_wait_batch(s, backend); });
    add_pingpong_grid(impl, [backend](benchmark::State& s, int conns, std::size_t size) {
      pingpong(s, backend, conns, size);
    });
    for (const unsigned threads : threads_grid()) {
      add("pingpong_threads", impl, {{"threads", threads}, {"conns", kThreadedConns}, {"size", 64}},
          [backend, threads](benchmark::State& s) { pingpong_threads(s, backend, threads); });
      add("post_wait_threads", impl, {{"threads", threads}},
          [backend, threads](benchmark::State& s) { post_wait_threads(s, backend, threads); });
    }
    add("accept", impl, {}, [backend](benchmark::State& s) { accept_rate(s, backend); });
    add("udp_pingpong", impl, {{"size", static_cast<long>(kUdpSize)}},
        [backend](benchmark::State& s) { udp_pingpong(s, backend); });
    add("file_read_random", impl, {{"size", static_cast<long>(kRandomRead)}},
        [backend](benchmark::State& s) { file_read(s, backend, true); });
    add("file_read_seq", impl, {{"size", static_cast<long>(kSequentialRead)}},
        [backend](benchmark::State& s) { file_read(s, backend, false); });
    add(
        "idle_memory", impl, {{"conns", kIdleConns}},
        [backend](benchmark::State& s) { idle_memory(s, backend); }, kind::once);
  }
}

}  // namespace bench
