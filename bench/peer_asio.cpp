// asio: standalone Asio (Debian's libasio-dev, header-only, ASIO_STANDALONE),
// written as an Asio user would: one io_context (concurrency hint 1 where one
// thread runs it) kept alive by a work guard, completion handlers that are
// lambdas, async_read/async_write for whole messages, run_one() to drive.
// Asio's Linux default reactor is epoll; files are left out (standalone
// Asio's random_access_file needs its io_uring backend, ASIO_HAS_IO_URING,
// which would change every other benchmark's backend too).
#include <asio.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"

namespace {

using asio::ip::tcp;
using asio::ip::udp;
using bench::drive;
using bench::fail;
using work_guard = asio::executor_work_guard<asio::io_context::executor_type>;

// Runs one handler at a time until done() holds or a handler reported an
// error in `error`.
template <class Done>
bool run_until(benchmark::State& state, asio::io_context& ioc, const std::error_code& error,
               Done&& done) {
  while (!done()) {
    if (ioc.run_one() == 0) return !fail(state, "run_one", asio::error::shut_down);
    if (error) return !fail(state, "handler", error);
  }
  return true;
}

// --- post + run_one ------------------------------------------------------------------

void post_wait_one_thread(benchmark::State& state) {
  asio::io_context ioc(1);
  const work_guard guard(ioc.get_executor());
  std::int64_t ran = 0;
  drive(state, {}, [&] {
    asio::post(ioc, [&ran] { ++ran; });
    return ioc.run_one() == 1;
  });
  benchmark::DoNotOptimize(ran);
}

void post_wait_batch(benchmark::State& state) {
  asio::io_context ioc(1);
  const work_guard guard(ioc.get_executor());
  std::int64_t ran = 0;
  drive(state, {bench::kPostBatch, bench::kPostBatch}, [&] {
    for (int i = 0; i < bench::kPostBatch; ++i) asio::post(ioc, [&ran] { ++ran; });
    return ioc.poll() == static_cast<std::size_t>(bench::kPostBatch);
  });
}

// A producer thread posts (at most kProducerWindow handlers not yet run, as
// for the other implementations); the benchmark thread runs them.
void post_wait_two_threads(benchmark::State& state) {
  asio::io_context ioc;
  const work_guard guard(ioc.get_executor());
  std::atomic<std::int64_t> target{0}, ran{0};
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    std::int64_t posted = 0;
    while (true) {
      if (posted == target.load(std::memory_order_acquire) ||
          posted - ran.load(std::memory_order_acquire) >= bench::kProducerWindow) {
        if (stop.load(std::memory_order_acquire)) return;
        std::this_thread::yield();
        continue;
      }
      asio::post(ioc, [&ran] { ran.fetch_add(1, std::memory_order_release); });
      ++posted;
    }
  });
  drive(state, {bench::kProducerChunk, bench::kProducerChunk}, [&] {
    target.fetch_add(bench::kProducerChunk, std::memory_order_release);
    for (int got = 0; got < bench::kProducerChunk; ++got) {
      if (ioc.run_one() != 1) return !fail(state, "run_one", asio::error::shut_down);
    }
    return true;
  });
  stop.store(true, std::memory_order_release);
  producer.join();
}

// --- TCP ping-pong -------------------------------------------------------------------

struct pp_conn {
  explicit pp_conn(asio::io_context& ioc) : client(ioc), server(ioc) {}
  tcp::socket client, server;
  char* client_buf = nullptr;
  char* server_buf = nullptr;
};

class pingpong_session {
 public:
  pingpong_session(benchmark::State& state, std::size_t size) : state_(state), size_(size) {}

  bool setup(int conns) {
    const auto n = static_cast<std::size_t>(conns);
    tcp::acceptor acceptor(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto address = acceptor.local_endpoint();
    ping_.assign(size_, 'x');
    bufs_.resize(2 * n * size_);
    conns_.reserve(n);
    std::error_code ec;
    for (std::size_t i = 0; i < n; ++i) {
      auto& c = *conns_.emplace_back(std::make_unique<pp_conn>(ioc_));
      c.client.connect(address, ec);
      if (!ec) acceptor.accept(c.server, ec);
      if (!ec) c.client.set_option(tcp::no_delay(true), ec);
      if (!ec) c.server.set_option(tcp::no_delay(true), ec);
      if (fail(state_, "connect/accept", ec)) return false;
      c.client_buf = &bufs_[2 * i * size_];
      c.server_buf = &bufs_[(2 * i + 1) * size_];
      serve(c);
    }
    return true;
  }

  bool round() {
    done_ = 0;
    sending_ = conns_.size();
    for (auto& p : conns_) {
      auto& c = *p;
      asio::async_read(c.client, asio::buffer(c.client_buf, size_),
                       [this](std::error_code ec, std::size_t) {
                         if (ec) error_ = ec;
                         ++done_;
                       });
      asio::async_write(c.client, asio::buffer(ping_.data(), size_),
                        [this](std::error_code ec, std::size_t) {
                          if (ec) error_ = ec;
                          --sending_;
                        });
    }
    return run_until(state_, ioc_, error_,
                     [this] { return done_ == conns_.size() && sending_ == 0; });
  }

 private:
  // The server end: read a whole message, write it back, again.
  void serve(pp_conn& c) {
    asio::async_read(c.server, asio::buffer(c.server_buf, size_),
                     [this, &c](std::error_code ec, std::size_t) {
                       if (ec) {
                         if (ec != asio::error::operation_aborted) error_ = ec;
                         return;
                       }
                       asio::async_write(c.server, asio::buffer(c.server_buf, size_),
                                         [this, &c](std::error_code wec, std::size_t) {
                                           if (wec) {
                                             error_ = wec;
                                             return;
                                           }
                                           serve(c);
                                         });
                     });
  }

  benchmark::State& state_;
  std::size_t size_;
  asio::io_context ioc_{1};
  work_guard guard_{ioc_.get_executor()};
  std::vector<char> ping_, bufs_;
  std::vector<std::unique_ptr<pp_conn>> conns_;
  std::size_t done_ = 0, sending_ = 0;
  std::error_code error_;
};

void pingpong(benchmark::State& state, int conns, std::size_t size) {
  pingpong_session session(state, size);
  if (!session.setup(conns)) return;
  drive(state, {conns, 4 * static_cast<std::int64_t>(conns), 0, conns == 1},
        [&] { return session.round(); });
}

// --- many threads: one io_context run by all, or one io_context per thread -------------

// `threads` threads run the io_context(s): all of them one io_context
// (Asio's documented way to use a thread pool), or each its own io_context
// with the connections or chains spread over them round-robin
// (asio-ctx-per-thread, the way Asio's own examples scale).
class context_pool {
 public:
  context_pool(unsigned threads, bool per_thread) {
    const unsigned contexts = per_thread ? threads : 1;
    const int hint = per_thread ? 1 : static_cast<int>(threads);
    for (unsigned i = 0; i < contexts; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(hint));
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    threads_per_context_ = per_thread ? 1 : threads;
  }
  context_pool(const context_pool&) = delete;
  context_pool& operator=(const context_pool&) = delete;
  ~context_pool() { stop(); }
  asio::io_context& at(std::size_t i) { return *contexts_[i % contexts_.size()]; }
  void start() {
    for (auto& ctx : contexts_) {
      for (unsigned t = 0; t < threads_per_context_; ++t) {
        threads_.emplace_back([&ioc = *ctx] { ioc.run(); });
      }
    }
  }
  void stop() {
    guards_.clear();
    for (auto& ctx : contexts_) ctx->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<work_guard> guards_;
  std::vector<std::thread> threads_;
  unsigned threads_per_context_ = 1;
};

struct threaded_conn {
  explicit threaded_conn(asio::io_context& ioc) : client(ioc), server(ioc) {}
  tcp::socket client, server;
  std::array<char, 64> client_buf{}, server_buf{};
  int rounds_left = 0;
};

// Each connection: the server end reads a whole message and writes it back,
// again; the client end writes, reads the echo whole, kThreadedRounds times
// per iteration. The benchmark thread starts the rounds and waits.
class threaded_pingpong {
 public:
  threaded_pingpong(benchmark::State& state, unsigned threads, bool per_thread)
      : state_(state), pool_(threads, per_thread) {}

  bool setup() {
    tcp::acceptor acceptor(pool_.at(0), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto address = acceptor.local_endpoint();
    std::error_code ec;
    for (std::size_t i = 0; i < static_cast<std::size_t>(bench::kThreadedConns); ++i) {
      auto& c = *conns_.emplace_back(std::make_unique<threaded_conn>(pool_.at(i)));
      c.client.connect(address, ec);
      if (!ec) acceptor.accept(c.server, ec);
      if (!ec) c.client.set_option(tcp::no_delay(true), ec);
      if (!ec) c.server.set_option(tcp::no_delay(true), ec);
      if (fail(state_, "connect/accept", ec)) return false;
      serve(c);
    }
    pool_.start();
    return true;
  }

  bool round() {
    finished_.reset(bench::kThreadedConns);
    for (auto& c : conns_) {
      c->rounds_left = bench::kThreadedRounds;
      ping(*c);
    }
    finished_.wait();
    return !bench::fail_if(state_, failed_.load(), "a handler failed");
  }

  // Before the connections go: no handler runs while they are destroyed.
  void stop() { pool_.stop(); }

 private:
  void failed() {
    if (!failed_.exchange(true)) finished_.abandon();
  }
  void serve(threaded_conn& c) {
    asio::async_read(c.server, asio::buffer(c.server_buf),
                     [this, &c](std::error_code ec, std::size_t) {
                       if (ec) {
                         if (ec != asio::error::operation_aborted) failed();
                         return;
                       }
                       asio::async_write(c.server, asio::buffer(c.server_buf),
                                         [this, &c](std::error_code wec, std::size_t) {
                                           if (wec) return failed();
                                           serve(c);
                                         });
                     });
  }
  void ping(threaded_conn& c) {
    asio::async_write(c.client, asio::buffer(ping_), [this, &c](std::error_code ec, std::size_t) {
      if (ec) return failed();
      asio::async_read(c.client, asio::buffer(c.client_buf),
                       [this, &c](std::error_code rec, std::size_t) {
                         if (rec) return failed();
                         if (--c.rounds_left > 0) return ping(c);
                         finished_.done_one();
                       });
    });
  }

  benchmark::State& state_;
  const std::array<char, 64> ping_{};
  bench::countdown finished_;
  std::atomic<bool> failed_{false};
  context_pool pool_;  // after what its handlers use; before the sockets
  std::vector<std::unique_ptr<threaded_conn>> conns_;
};

void pingpong_threads(benchmark::State& state, unsigned threads, bool per_thread) {
  threaded_pingpong session(state, threads, per_thread);
  if (session.setup()) {
    const std::int64_t trips = bench::kThreadedConns * std::int64_t{bench::kThreadedRounds};
    drive(state, {trips, 4 * trips}, [&] { return session.round(); });
  }
  session.stop();
}

// One chain of posts per thread: each handler posts the next until
// kThreadedPosts ran this iteration.
struct post_chain {
  asio::io_context* ioc;
  std::atomic<std::int64_t>* to_post;
  bench::countdown* finished;
  void operator()() const {
    if (to_post->fetch_sub(1, std::memory_order_relaxed) > 0) asio::post(*ioc, *this);
    finished->done_one();
  }
};

void post_wait_threads(benchmark::State& state, unsigned threads, bool per_thread) {
  context_pool pool(threads, per_thread);
  std::atomic<std::int64_t> to_post{0};
  bench::countdown finished;
  pool.start();
  drive(state, {bench::kThreadedPosts, bench::kThreadedPosts}, [&] {
    finished.reset(bench::kThreadedPosts);
    to_post.store(bench::kThreadedPosts - static_cast<std::int64_t>(threads),
                  std::memory_order_relaxed);
    for (unsigned i = 0; i < threads; ++i) {
      asio::io_context& ioc = pool.at(i);
      asio::post(ioc, post_chain{&ioc, &to_post, &finished});
    }
    finished.wait();
    return true;
  });
  pool.stop();
}

// --- accept rate ---------------------------------------------------------------------

void accept_rate(benchmark::State& state) {
  asio::io_context ioc(1);
  const work_guard guard(ioc.get_executor());
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto address = acceptor.local_endpoint();
  std::error_code error;
  drive(state, {1, 2}, [&] {
    tcp::socket client(ioc), server(ioc);
    int done = 0;
    acceptor.async_accept(server, [&](std::error_code ec) {
      if (ec) error = ec;
      ++done;
    });
    client.async_connect(address, [&](std::error_code ec) {
      if (ec) error = ec;
      ++done;
    });
    return run_until(state, ioc, error, [&] { return done == 2; });
  });
}

// --- UDP ping-pong ---------------------------------------------------------------------

void udp_pingpong(benchmark::State& state) {
  asio::io_context ioc(1);
  const work_guard guard(ioc.get_executor());
  const udp::endpoint loopback(asio::ip::address_v4::loopback(), 0);
  udp::socket server(ioc, loopback), client(ioc, loopback);
  const auto server_address = server.local_endpoint();
  std::array<char, bench::kUdpSize> ping{}, server_buf{}, client_buf{};
  udp::endpoint sender;
  std::error_code error;
  std::function<void()> serve = [&] {
    server.async_receive_from(asio::buffer(server_buf), sender,
                              [&](std::error_code ec, std::size_t n) {
                                if (ec) {
                                  if (ec != asio::error::operation_aborted) error = ec;
                                  return;
                                }
                                server.async_send_to(asio::buffer(server_buf.data(), n), sender,
                                                     [&](std::error_code wec, std::size_t) {
                                                       if (wec) error = wec;
                                                       serve();
                                                     });
                              });
  };
  serve();
  drive(state, {1, 4}, [&] {
    bool received = false, sent = false;
    client.async_receive(asio::buffer(client_buf), [&](std::error_code ec, std::size_t) {
      if (ec) error = ec;
      received = true;
    });
    client.async_send_to(asio::buffer(ping), server_address, [&](std::error_code ec, std::size_t) {
      if (ec) error = ec;
      sent = true;
    });
    return run_until(state, ioc, error, [&] { return received && sent; });
  });
}

// --- timers --------------------------------------------------------------------------------

void timers(benchmark::State& state) {
  asio::io_context ioc(1);
  std::vector<asio::steady_timer> timers;
  timers.reserve(bench::kTimers);
  for (int i = 0; i < bench::kTimers; ++i) timers.emplace_back(ioc);
  int fired = 0;
  std::error_code error;
  drive(state, {bench::kTimers, bench::kTimers}, [&] {
    fired = 0;
    const auto base = std::chrono::steady_clock::now();
    for (int i = 0; i < bench::kTimers; ++i) {
      auto& t = timers[static_cast<std::size_t>(i)];
      t.expires_at(base + std::chrono::microseconds(bench::timer_offset_us(i)));
      t.async_wait([&](std::error_code ec) {
        if (ec) error = ec;
        ++fired;
      });
    }
    ioc.restart();
    ioc.run();  // returns once every timer fired
    if (fail(state, "timer", error)) return false;
    return !bench::fail_if(state, fired != bench::kTimers, "lost timers");
  });
}

// --- memory per idle connection ---------------------------------------------------------

struct idle_buf {
  std::array<char, bench::kIdleRecvBuffer> data;
};

void idle_memory(benchmark::State& state) {
  constexpr int n = bench::kIdleConns;
  std::unique_ptr<idle_buf[]> bufs;  // outlives the sockets and the io_context
  asio::io_context ioc(1);
  const work_guard guard(ioc.get_executor());
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = acceptor.local_endpoint().port();
  bench::raw_clients clients(n);
  std::vector<tcp::socket> sockets;
  std::error_code error;
  for (auto _ : state) {
    const bench::memory_meter meter;
    bufs = std::make_unique<idle_buf[]>(n);
    sockets.reserve(n);
    for (int i = 0; i < n; ++i) {
      if (i % 256 == 0 &&
          bench::fail_if(state, !clients.connect(port, std::min(256, n - i)), "connect")) {
        return;
      }
      auto& s = sockets.emplace_back(ioc);
      acceptor.accept(s, error);
      if (fail(state, "accept", error)) return;
      s.async_read_some(asio::buffer(bufs[static_cast<std::size_t>(i)].data),
                        [&](std::error_code ec, std::size_t) {
                          if (ec != asio::error::operation_aborted) error = ec;
                        });
    }
    ioc.poll();  // every read has started and is pending
    if (fail(state, "read", error)) return;
    meter.end(state, n);
  }
  for (auto& s : sockets) s.close();
  ioc.poll();
}

}  // namespace

namespace bench {

void register_asio() {
  const char* impl = "asio";
  add("post_wait", impl, {{"threads", 1}}, post_wait_one_thread);
  add("post_wait", impl, {{"threads", 2}}, post_wait_two_threads);
  add("post_wait_many", impl, {{"batch", kPostBatch}}, post_wait_batch);
  for (const int conns : kPingpongConns) {
    for (const std::size_t size : kPingpongSizes) {
      add("pingpong", impl, {{"conns", conns}, {"size", static_cast<long>(size)}},
          [=](benchmark::State& s) { pingpong(s, conns, size); });
    }
  }
  for (const unsigned threads : threads_grid()) {
    for (const bool per_thread : {false, true}) {
      const char* name = per_thread ? "asio-ctx-per-thread" : impl;
      add("pingpong_threads", name, {{"threads", threads}, {"conns", kThreadedConns}, {"size", 64}},
          [=](benchmark::State& s) { pingpong_threads(s, threads, per_thread); });
      add("post_wait_threads", name, {{"threads", threads}},
          [=](benchmark::State& s) { post_wait_threads(s, threads, per_thread); });
    }
  }
  add("accept", impl, {}, accept_rate);
  add("udp_pingpong", impl, {{"size", static_cast<long>(kUdpSize)}}, udp_pingpong);
  add("timers", impl, {{"n", kTimers}}, timers, kind::once);
  add("idle_memory", impl, {{"conns", kIdleConns}}, idle_memory, kind::once);
}

}  // namespace bench
