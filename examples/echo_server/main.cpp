// proact-echo-server: a multi-threaded TCP echo server on proact::loop, one
// coroutine per connection.
//
//   proact-echo-server --port 7000 --threads 4 --backend io_uring
//
// Prints "listening on ADDRESS:PORT" first (with --port 0 the port the system
// chose), runs until SIGINT or SIGTERM (Ctrl-C), then prints one line of
// statistics. A connection that sends nothing for --idle-timeout, or whose
// peer does not take an echo within it, is closed.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "cli.hpp"
#include "platform.hpp"
#include "proact/proact.hpp"
#include "throttled_log.hpp"

namespace {

struct statistics {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};  // over --max-connections
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> messages{0};
};

// One connection: receive, send the bytes back, until the peer hangs up, an
// error, the idle timeout, or the loop stops (the pending operation then
// completes with operation_aborted). The socket closes when the coroutine ends.
proact::task<void> echo_session(proact::tcp_socket socket, statistics& stats,
                                std::chrono::milliseconds idle) {
  std::array<char, 16384> data;
  for (;;) {
    auto [ec, n] =
        co_await socket.recv(proact::buffer{data.data(), data.size()}).with_timeout(idle);
    if (ec || n == 0) break;
    auto [send_ec, sent] =
        co_await socket.send(proact::const_buffer(data.data(), n)).with_timeout(idle);
    stats.bytes.fetch_add(sent, std::memory_order_relaxed);
    if (send_ec) break;
    stats.messages.fetch_add(1, std::memory_order_relaxed);
  }
  stats.active.fetch_sub(1, std::memory_order_relaxed);
}

// Accept failures (out of descriptors) repeat every 50 ms while they last:
// one line a second says so.
examples::throttled_log accept_failures(std::chrono::seconds(1));

// Accepts connections and spawns a session for each. Several acceptors run
// at once so that accepts are not serialized behind one operation.
proact::task<void> acceptor(proact::loop& lp, proact::tcp_listener& listener,
                            std::uint64_t max_connections, statistics& stats,
                            std::chrono::milliseconds idle) {
  proact::timer backoff(lp);
  for (;;) {
    proact::tcp_socket peer;
    auto [ec, n] = co_await listener.accept(peer);
    (void)n;
    if (ec) {
      if (lp.stopped() || ec == proact::errc::operation_aborted || ec == proact::errc::port_closed)
        co_return;
      // Out of descriptors, or a connection reset before it was accepted:
      // wait a little rather than spin, then carry on.
      if (ec == proact::errc::no_resources) {
        accept_failures.print("accept: " + ec.message());
        if ((co_await backoff.wait(std::chrono::milliseconds(50))).error) co_return;
      }
      continue;
    }
    stats.accepted.fetch_add(1, std::memory_order_relaxed);
    if (max_connections != 0 && stats.active.load(std::memory_order_relaxed) >= max_connections) {
      stats.refused.fetch_add(1, std::memory_order_relaxed);
      continue;  // peer closes here
    }
    if (lp.associate(peer)) continue;
    (void)peer.set_no_delay(true);
    stats.active.fetch_add(1, std::memory_order_relaxed);
    if (lp.spawn(echo_session(std::move(peer), stats, idle))) {
      stats.active.fetch_sub(1, std::memory_order_relaxed);  // stopped: never ran
    }
  }
}

int run(int argc, char** argv) {
  std::string port = "7000", address = "127.0.0.1", threads = "0", concurrency = "0",
              backend = "auto", max_connections = "0", acceptors = "0", idle_timeout = "300000";
  const examples::flag flags[] = {
      {"port", &port, "TCP port; 0 = any free port (printed on the first line)"},
      {"address", &address, "numeric address to listen on (0.0.0.0, ::1, ...)"},
      {"threads", &threads, "worker threads; 0 = twice the concurrency"},
      {"concurrency", &concurrency, "most threads running at once; 0 = processors"},
      {"backend", &backend, "epoll, io_uring, iocp or auto"},
      {"max-connections", &max_connections, "close connections beyond this many; 0 = no limit"},
      {"acceptors", &acceptors, "accepts pending at once; 0 = the concurrency"},
      {"idle-timeout", &idle_timeout, "ms a connection may stay silent (or not read its echo)"},
  };
  switch (examples::parse_flags(argc, argv, flags, "usage: proact-echo-server [flags]")) {
    case examples::parse_outcome::run:
      break;
    case examples::parse_outcome::exit_ok:
      return 0;
    case examples::parse_outcome::exit_error:
      return 2;
  }
  std::uint64_t port_n = 0, threads_n = 0, concurrency_n = 0, max_n = 0, acceptors_n = 0,
                idle_ms = 0;
  proact::loop_options options;
  if (!examples::to_unsigned("port", port, 65535, port_n) ||
      !examples::to_unsigned("threads", threads, 1024, threads_n) ||
      !examples::to_unsigned("concurrency", concurrency, 1024, concurrency_n) ||
      !examples::to_unsigned("max-connections", max_connections, UINT64_MAX, max_n) ||
      !examples::to_unsigned("acceptors", acceptors, 1024, acceptors_n) ||
      !examples::to_unsigned("idle-timeout", idle_timeout, 24ULL * 3600 * 1000, idle_ms) ||
      !examples::to_backend(backend, options.backend))
    return 2;
  options.threads = static_cast<unsigned>(threads_n);
  options.concurrency = static_cast<unsigned>(concurrency_n);

  std::error_code ec;
  const proact::endpoint local =
      proact::endpoint::parse(address, static_cast<std::uint16_t>(port_n), ec);
  if (ec) {
    std::fputs(("--address: not a numeric address: " + address + "\n").c_str(), stderr);
    return 2;
  }

  examples::raise_open_file_limit();

  proact::loop lp(options);  // throws std::system_error if the backend is unavailable
  statistics stats;
  // Declared after the loop: closed first, once the loop has stopped.
  proact::tcp_listener listener;
  ec = listener.listen(local);
  if (!ec) ec = lp.associate(listener);
  if (ec) {
    std::fputs(("listen on " + local.to_string() + ": " + ec.message() + "\n").c_str(), stderr);
    return 1;
  }
  const proact::endpoint bound = listener.local_endpoint(ec);
  if (ec) {
    std::fputs(("local_endpoint: " + ec.message() + "\n").c_str(), stderr);
    return 1;
  }

  const unsigned accepts = acceptors_n != 0 ? static_cast<unsigned>(acceptors_n) : lp.concurrency();
  for (unsigned i = 0; i < accepts; ++i) {
    ec = lp.spawn(acceptor(lp, listener, max_n, stats, std::chrono::milliseconds(idle_ms)));
    if (ec) {
      std::fputs(("spawn: " + ec.message() + "\n").c_str(), stderr);
      return 1;
    }
  }
  // Ctrl-C or a termination request (SIGINT, SIGTERM; on Windows also
  // Ctrl-Break and closing the console) stops the server: the signal is a
  // completion on the loop. The set then lets go of the signals, so that a
  // second Ctrl-C ends a server that does not stop.
  proact::signal_set stop_signals(lp);
  ec = stop_signals.add(proact::signal_set::interrupt);
  if (!ec) ec = stop_signals.add(proact::signal_set::terminate);
  if (!ec)
    ec = stop_signals.wait([&](std::error_code e, int) {
      if (e) return;  // the loop stopped otherwise
      stop_signals.clear();
      lp.stop();  // every pending accept, recv and send completes with operation_aborted
    });
  if (ec) {
    std::fputs(("signals: " + ec.message() + "\n").c_str(), stderr);
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  ec = lp.start();
  if (ec) {
    std::fputs(("start: " + ec.message() + "\n").c_str(), stderr);
    return 1;
  }
  examples::print_line("listening on " + bound.to_string());
  examples::print_line("backend " + std::string(proact::to_string(lp.backend())) + ", " +
                       std::to_string(lp.threads()) + " threads, concurrency " +
                       std::to_string(lp.concurrency()) + ", " + std::to_string(accepts) +
                       " acceptors; Ctrl-C stops");

  lp.join();  // returns once a signal stopped the loop and its threads left it
  const std::chrono::duration<double> up = std::chrono::steady_clock::now() - started;

  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", up.count());
  examples::print_line("stats: connections_accepted=" + std::to_string(stats.accepted.load()) +
                       " connections_refused=" + std::to_string(stats.refused.load()) +
                       " bytes_echoed=" + std::to_string(stats.bytes.load()) + " messages=" +
                       std::to_string(stats.messages.load()) + " seconds_up=" + seconds +
                       " backend=" + std::string(proact::to_string(lp.backend())));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fputs((std::string("proact-echo-server: ") + e.what() + "\n").c_str(), stderr);
    return 1;
  }
}
