// proact's event loop (proact::loop), on each Linux backend:
//  - proact-loop-epoll, proact-loop-io_uring: the raw port's workloads
//    (bench/proact_port.cpp) through the loop: posted callables, timers, and
//    the networking and file workloads with callback_op handlers (each set
//    once, reused by every start);
//  - proact-coro-epoll, proact-coro-io_uring: the one-connection 64-byte
//    ping-pong written as coroutines (co_await s.recv / s.send).
// The loop has concurrency 1 and no worker threads: the benchmark thread
// starts the work and runs the loop itself (run_until), as the raw port's
// benchmarks wait on the port and Asio's call run_one().
#include <array>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"
#include "proact/proact.hpp"
#include "proact_common.hpp"

namespace {

using bench::drive;
using bench::fail;
using proact::make_buffer;

std::unique_ptr<proact::loop> make_loop(benchmark::State& state, proact::backend_kind backend) {
  proact::loop_options o;
  o.backend = backend;
  o.concurrency = 1;
  o.threads = 1;
  try {
    return std::make_unique<proact::loop>(o);
  } catch (const std::system_error& e) {
    (void)fail(state, "loop", e.code());
    return nullptr;
  }
}

// Runs the loop on this thread, one completion at a time, until done()
// holds: the analogue of Asio's run_one() loop (and of the raw port's one
// wait() per completion). A handler that fails stores its error in `error`,
// which ends the run.
template <class Done>
bool run_until(benchmark::State& state, proact::loop& lp, const std::error_code& error,
               Done&& done) {
  while (!done()) {
    if (lp.run_one() == 0)
      return !fail(state, "run_one", make_error_code(proact::error::port_closed));
    if (error) break;
  }
  return !fail(state, "handler", error);
}

// Keeps a handler's error (the first one) for run_until.
void note(std::error_code& error, std::error_code ec) {
  if (ec && !error) error = ec;
}
bool aborted(std::error_code ec) {
  return ec == proact::errc::operation_aborted;
}

// Ties a handle to the loop (the completion key is the loop's own).
auto associate_with(proact::loop& lp) {
  return [&lp](proact::handle& h, std::uintptr_t) { return lp.associate(h); };
}

// Completions of the set-up (accept, connect): counted, errors kept.
struct tally {
  int done = 0;
  std::error_code error;
  auto handler() {
    return [this](std::size_t, std::error_code ec) {
      note(error, ec);
      ++done;
    };
  }
};

// Waits for `count` more completions counted by `t`.
bool wait_for(benchmark::State& state, proact::loop& lp, tally& t, int count) {
  const int target = t.done + count;
  return run_until(state, lp, t.error, [&] { return t.done >= target; });
}

// --- post + run_one / poll ------------------------------------------------------------

// post + run_one, and 64 posts + poll: Asio's post + run_one and post + poll.
void post_run(benchmark::State& state, proact::backend_kind backend, int batch) {
  auto lp = make_loop(state, backend);
  if (!lp) return;
  long ran = 0;
  drive(state, {batch, batch}, [&] {
    for (int i = 0; i < batch; ++i) {
      if (fail(state, "post", lp->post([&ran] { ++ran; }))) return false;
    }
    if (batch == 1) return lp->run_one() == 1;
    const long before = ran;
    while (ran - before < batch) lp->poll();
    return true;
  });
}

// --- TCP ping-pong --------------------------------------------------------------------

// One connection's operations; the handlers are set once, in connect().
struct loop_conn {
  proact::callback_op client_send, client_recv, server_send, server_recv;
  std::size_t client_got = 0, server_got = 0;
};

// pingpong/proact-loop-*: the raw port's ping-pong, each completion handled by
// its callback_op's handler instead of a dispatch on the completed operation.
class loop_pingpong {
 public:
  loop_pingpong(benchmark::State& state, std::size_t conns, std::size_t size)
      : state_(state), bufs_(conns, size), conns_(conns), pairs_(conns) {}

  bool setup(proact::backend_kind backend) {
    lp_ = make_loop(state_, backend);
    if (!lp_) return false;
    tally t;
    proact::callback_op accept_op(t.handler()), connect_op(t.handler());
    proact::tcp_listener listener;
    proact::endpoint address;
    if (!bench::listen_loopback(state_, listener, address, associate_with(*lp_)) ||
        !bench::connect_pairs(state_, listener, address, accept_op, connect_op, pairs_,
                              associate_with(*lp_), [&] { return wait_for(state_, *lp_, t, 2); })) {
      return false;
    }
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      set_handlers(i);
      if (fail(state_, "recv", server_recv(i))) return false;
    }
    return true;
  }

  bool round() {
    done_ = 0;
    sending_ = conns_.size();
    const std::size_t size = bufs_.size();
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      auto& c = conns_[i];
      auto& client = pairs_[i].client;
      c.client_got = 0;
      if (fail(state_, "recv", client.recv(c.client_recv, make_buffer(bufs_.client(i), size))) ||
          fail(state_, "send", client.send(c.client_send, bufs_.ping()))) {
        return false;
      }
    }
    return run_until(state_, *lp_, error_,
                     [this] { return done_ == conns_.size() && sending_ == 0; });
  }

 private:
  // Sets connection i's handlers: the server reads a whole message and sends
  // it back, again and again; the client's end counts what came back.
  void set_handlers(std::size_t i) {
    auto& c = conns_[i];
    c.server_recv.set_handler([this, i](std::size_t bytes, std::error_code ec) {
      if (ec) {
        if (!aborted(ec)) note(error_, ec);  // the loop stopping at the end
        return;
      }
      auto& cc = conns_[i];
      cc.server_got += bytes;
      const std::size_t size = bufs_.size();
      char* buf = bufs_.server(i);
      note(error_, cc.server_got < size
                       ? pairs_[i].server.recv(
                             cc.server_recv, make_buffer(buf + cc.server_got, size - cc.server_got))
                       : pairs_[i].server.send(cc.server_send, make_buffer(buf, size)));
    });
    c.server_send.set_handler([this, i](std::size_t, std::error_code ec) {
      if (ec) return note(error_, ec);
      conns_[i].server_got = 0;
      note(error_, server_recv(i));
    });
    c.client_recv.set_handler([this, i](std::size_t bytes, std::error_code ec) {
      if (ec) return note(error_, ec);
      auto& cc = conns_[i];
      cc.client_got += bytes;
      const std::size_t size = bufs_.size();
      if (cc.client_got < size) {
        note(error_,
             pairs_[i].client.recv(cc.client_recv, make_buffer(bufs_.client(i) + cc.client_got,
                                                               size - cc.client_got)));
      } else {
        ++done_;
      }
    });
    c.client_send.set_handler([this](std::size_t, std::error_code ec) {
      note(error_, ec);
      --sending_;
    });
  }
  std::error_code server_recv(std::size_t i) {
    return pairs_[i].server.recv(conns_[i].server_recv, make_buffer(bufs_.server(i), bufs_.size()));
  }

  benchmark::State& state_;
  bench::pingpong_buffers bufs_;
  std::vector<loop_conn> conns_;
  std::vector<bench::tcp_pair> pairs_;
  std::size_t done_ = 0, sending_ = 0;
  std::error_code error_;
  // Destroyed first: stopping it completes the pending receives (aborted)
  // while the operations, handlers and sockets above still exist.
  std::unique_ptr<proact::loop> lp_;
};

void pingpong(benchmark::State& state, proact::backend_kind backend, int conns, std::size_t size) {
  loop_pingpong session(state, static_cast<std::size_t>(conns), size);
  if (!session.setup(backend)) return;
  drive(state, bench::pingpong_spec(conns), [&] { return session.round(); });
}

// --- TCP ping-pong, coroutines ----------------------------------------------------------

// Where the client coroutine waits between rounds: the benchmark thread
// resumes it (open()) to start the next round trip.
class round_gate {
 public:
  struct awaiter {
    round_gate& gate;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const noexcept { gate.waiter_ = h; }
    void await_resume() const noexcept {}
  };
  awaiter operator co_await() noexcept { return {*this}; }
  bool waiting() const noexcept { return static_cast<bool>(waiter_); }
  void open() { std::exchange(waiter_, nullptr).resume(); }

 private:
  std::coroutine_handle<> waiter_;
};

// The server end: read a whole message, send it back, again.
proact::task<void> echo(proact::tcp_socket& s, proact::buffer buf, std::error_code& error) {
  char* data = static_cast<char*>(buf.data);
  for (;;) {
    for (std::size_t got = 0; got < buf.size;) {
      auto [ec, n] = co_await s.recv(make_buffer(data + got, buf.size - got));
      if (ec) {
        if (!aborted(ec)) note(error, ec);  // the loop stopping at the end
        co_return;
      }
      got += n;
    }
    if (auto [ec, n] = co_await s.send(proact::const_buffer(data, buf.size)); ec) {
      co_return note(error, ec);
    }
  }
}

// The client end: at each opening of the gate, send the ping and read the
// whole echo.
proact::task<void> ping(proact::tcp_socket& s, proact::const_buffer message, char* buf,
                        round_gate& gate, std::int64_t& rounds, std::error_code& error) {
  for (;;) {
    co_await gate;
    if (auto [ec, n] = co_await s.send(message); ec) co_return note(error, ec);
    for (std::size_t got = 0; got < message.size;) {
      auto [ec, n] = co_await s.recv(make_buffer(buf + got, message.size - got));
      if (ec) co_return note(error, ec);
      got += n;
    }
    ++rounds;
  }
}

void coro_pingpong(benchmark::State& state, proact::backend_kind backend, std::size_t size) {
  bench::pingpong_buffers bufs(1, size);
  std::vector<bench::tcp_pair> pairs(1);
  round_gate gate;
  std::int64_t rounds = 0;
  std::error_code error;
  tally t;
  proact::callback_op accept_op(t.handler()), connect_op(t.handler());
  proact::tcp_listener listener;
  // Destroyed first: stopping it ends the server coroutine (its receive
  // aborted) and destroys the client's frame, suspended at the gate.
  auto lp = make_loop(state, backend);
  if (!lp) return;
  proact::endpoint address;
  if (!bench::listen_loopback(state, listener, address, associate_with(*lp)) ||
      !bench::connect_pairs(state, listener, address, accept_op, connect_op, pairs,
                            associate_with(*lp), [&] { return wait_for(state, *lp, t, 2); }) ||
      fail(state, "spawn",
           lp->spawn(echo(pairs[0].server, make_buffer(bufs.server(0), size), error))) ||
      fail(state, "spawn",
           lp->spawn(ping(pairs[0].client, bufs.ping(), bufs.client(0), gate, rounds, error))) ||
      !run_until(state, *lp, error, [&] { return gate.waiting(); })) {
    return;
  }
  drive(state, bench::pingpong_spec(1), [&] {
    const std::int64_t before = rounds;
    gate.open();  // runs the client up to its first co_await
    return run_until(state, *lp, error, [&] { return rounds != before && gate.waiting(); });
  });
}

// --- accept rate ------------------------------------------------------------------------

void accept_rate(benchmark::State& state, proact::backend_kind backend) {
  tally t;
  proact::callback_op accept_op(t.handler()), connect_op(t.handler());
  proact::tcp_listener listener;
  auto lp = make_loop(state, backend);
  if (!lp) return;
  proact::endpoint address;
  if (!bench::listen_loopback(state, listener, address, associate_with(*lp))) return;
  drive(state, {1, 2}, [&] {
    proact::tcp_socket client, server;
    if (fail(state, "open", client.open(address.family())) ||
        fail(state, "associate", lp->associate(client)) ||
        fail(state, "accept", listener.accept(accept_op, server)) ||
        fail(state, "connect", client.connect(connect_op, address)) ||
        !wait_for(state, *lp, t, 2)) {
      return false;
    }
    return !fail(state, "close", server.close()) && !fail(state, "close", client.close());
  });
}

// --- UDP ping-pong ------------------------------------------------------------------------

void udp_pingpong(benchmark::State& state, proact::backend_kind backend) {
  constexpr std::size_t size = bench::kUdpSize;
  std::array<char, size> ping{}, server_buf{}, client_buf{};
  proact::callback_op client_send, client_recv, server_send, server_recv;
  proact::endpoint source, server_address;
  bool received = false, sent = false;
  std::error_code error;
  proact::udp_socket client, server;
  auto lp = make_loop(state, backend);
  if (!lp) return;
  const auto recv_request = [&] {
    return server.recv_from(server_recv, make_buffer(server_buf.data(), server_buf.size()),
                            &source);
  };
  server_recv.set_handler([&](std::size_t bytes, std::error_code ec) {
    if (ec) {
      if (!aborted(ec)) note(error, ec);  // the loop stopping at the end
      return;
    }
    note(error, server.send_to(server_send, make_buffer(server_buf.data(), bytes), source));
  });
  server_send.set_handler([&](std::size_t, std::error_code ec) {
    if (ec) return note(error, ec);
    note(error, recv_request());
  });
  client_recv.set_handler([&](std::size_t, std::error_code ec) {
    note(error, ec);
    received = true;
  });
  client_send.set_handler([&](std::size_t, std::error_code ec) {
    note(error, ec);
    sent = true;
  });
  if (!bench::open_udp_pair(state, server, client, server_address, associate_with(*lp)) ||
      fail(state, "recv_from", recv_request())) {
    return;
  }
  drive(state, {1, 4}, [&] {
    received = sent = false;
    if (fail(state, "recv_from",
             client.recv_from(client_recv, make_buffer(client_buf.data(), client_buf.size()))) ||
        fail(state, "send_to",
             client.send_to(client_send, make_buffer(ping.data(), size), server_address))) {
      return false;
    }
    return run_until(state, *lp, error, [&] { return received && sent; });
  });
}

// --- file reads ---------------------------------------------------------------------------

void file_read(benchmark::State& state, proact::backend_kind backend, bool random) {
  const std::string& path = bench::bench_file();
  if (bench::fail_if(state, path.empty(), "no benchmark file")) return;
  bench::read_offsets offsets(random);
  const std::size_t size = offsets.size();
  std::vector<char> buf(size);
  std::size_t got = 0;
  bool done = false;
  std::error_code error;
  proact::callback_op op([&](std::size_t bytes, std::error_code ec) {
    note(error, ec);
    got = bytes;
    done = true;
  });
  proact::file f;
  auto lp = make_loop(state, backend);
  if (!lp) return;
  const auto read = [&](std::uint64_t offset) {
    done = false;
    return !fail(state, "read_at", f.read_at(op, offset, make_buffer(buf.data(), size))) &&
           run_until(state, *lp, error, [&] { return done; }) &&
           !bench::fail_if(state, got != size, "short read");
  };
  // One read before timing: the epoll backend starts its file threads on
  // first use (as libuv starts its thread pool).
  if (fail(state, "open", f.open(path, proact::file_mode::read)) ||
      fail(state, "associate", lp->associate(f)) || !read(0)) {
    return;
  }
  drive(state, {1, 1, static_cast<std::int64_t>(size)}, [&] { return read(offsets.next()); });
}

// --- timers -------------------------------------------------------------------------------

// Schedules kTimers timers at scrambled offsets and runs the loop until all
// fired (the peers' timers workload).
void timers(benchmark::State& state, proact::backend_kind backend) {
  auto lp = make_loop(state, backend);
  if (!lp) return;
  std::vector<std::unique_ptr<proact::timer>> all;
  all.reserve(bench::kTimers);
  for (int i = 0; i < bench::kTimers; ++i) all.push_back(std::make_unique<proact::timer>(*lp));
  int fired = 0;
  std::error_code error;
  drive(state, {bench::kTimers, bench::kTimers}, [&] {
    fired = 0;
    const auto base = proact::timer::clock::now();
    for (int i = 0; i < bench::kTimers; ++i) {
      const auto deadline = base + std::chrono::microseconds(bench::timer_offset_us(i));
      const std::error_code ec =
          all[static_cast<std::size_t>(i)]->start_at(deadline, [&](std::error_code e) {
            note(error, e);
            ++fired;
          });
      if (fail(state, "timer", ec)) return false;
    }
    return run_until(state, *lp, error, [&] { return fired == bench::kTimers; });
  });
  all.clear();  // before the loop
}

}  // namespace

namespace bench {

void register_proact_loop() {
  for (const auto backend : kProactBackends) {
    const std::string impl = proact_impl_name("proact-loop-", backend);
    if (impl.empty()) continue;
    add("post_wait", impl, {{"threads", 1}},
        [backend](benchmark::State& s) { post_run(s, backend, 1); });
    add("post_wait_many", impl, {{"batch", kPostBatch}},
        [backend](benchmark::State& s) { post_run(s, backend, kPostBatch); });
    add_pingpong_grid(impl, [backend](benchmark::State& s, int conns, std::size_t size) {
      pingpong(s, backend, conns, size);
    });
    add("accept", impl, {}, [backend](benchmark::State& s) { accept_rate(s, backend); });
    add("udp_pingpong", impl, {{"size", static_cast<long>(kUdpSize)}},
        [backend](benchmark::State& s) { udp_pingpong(s, backend); });
    add("file_read_random", impl, {{"size", static_cast<long>(kRandomRead)}},
        [backend](benchmark::State& s) { file_read(s, backend, true); });
    add("file_read_seq", impl, {{"size", static_cast<long>(kSequentialRead)}},
        [backend](benchmark::State& s) { file_read(s, backend, false); });
    add(
        "timers", impl, {{"n", kTimers}}, [backend](benchmark::State& s) { timers(s, backend); },
        kind::once);
  }
  // The coroutine form of the one-connection, 64-byte ping-pong: its own
  // implementation row, compared with the same floor and Asio.
  for (const auto backend : kProactBackends) {
    const std::string impl = proact_impl_name("proact-coro-", backend);
    if (impl.empty()) continue;
    add("pingpong", impl, {{"conns", 1}, {"size", 64}},
        [backend](benchmark::State& s) { coro_pingpong(s, backend, 64); });
  }
}

}  // namespace bench
