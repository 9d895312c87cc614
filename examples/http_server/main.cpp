// proact-http-server: an HTTP/1.1 static-file server on proact::loop, one
// coroutine per connection.
//
//   proact-http-server --root ./public --port 8080 --threads 4
//   proact-http-server --root ./public --tls-cert cert.pem --tls-key key.pem
//
// GET and HEAD; keep-alive (HTTP/1.1 by default, HTTP/1.0 on request) and
// pipelined requests, answered in order; Content-Length on every response;
// Date on every response; index.html for a directory, and 301 to the
// directory's URL with its slash when the target lacks it (so that relative
// links in the index work); Accept-Ranges: bytes, and one byte range per
// request (Range: bytes=a-b, a- or -n: 206 with Content-Range, 416 when it
// starts past the end; several ranges, a malformed one or any If-Range get
// the whole file); 400 for malformed requests and refused paths, 404, 405
// (Allow: GET, HEAD), 503 when a file cannot be opened for want of
// descriptors (try again), 414 for a request line over 8 KiB, 431 for a
// request head over 8 KiB, 505 for HTTP versions other than 1.x. A request
// with a body is answered and the connection closed (the body is not read).
// Files go out with tcp_socket::send_file (sendfile, io_uring splice,
// TransmitFile), or over TLS in 64 KiB pieces read and encrypted; a file
// must resolve inside --root after following links.
// A slow or idle client holds nothing for long: a request head (and the TLS
// handshake) must arrive within --header-timeout (else 408 and close), as
// must a new connection's first request (else it is closed), a kept-alive
// connection idle for --idle-timeout is closed, each send must
// make progress within --send-timeout, and the lingering close lasts at most
// --linger-timeout.
// Prints "listening on ADDRESS:PORT" first; SIGINT or SIGTERM (Ctrl-C) stops
// it, and it prints one line of statistics.
//
// The files: session.hpp (one connection, any transport), plain.cpp (TCP),
// https.cpp (TLS), confined_open_*.cpp (files inside the root),
// http_parser.cpp (requests).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "cli.hpp"
#include "https.hpp"
#include "plain.hpp"
#include "platform.hpp"
#include "proact/proact.hpp"
#include "server.hpp"
#include "throttled_log.hpp"

namespace {

namespace fs = std::filesystem;

// Accept failures (out of descriptors) repeat every 50 ms while they last:
// one line a second says so.
examples::throttled_log accept_failures(std::chrono::seconds(1));

// Plain HTTP when `secure` is null.
proact::task<void> acceptor(proact::loop& lp, proact::tcp_listener& listener, http::server& srv,
                            http::https* secure) {
  proact::timer backoff(lp);
  for (;;) {
    proact::tcp_socket peer;
    auto [ec, n] = co_await listener.accept(peer);
    (void)n;
    if (ec) {
      if (lp.stopped() || ec == proact::errc::operation_aborted || ec == proact::errc::port_closed)
        co_return;
      if (ec == proact::errc::no_resources) {  // out of descriptors: wait a little
        accept_failures.print("accept: " + ec.message());
        if ((co_await backoff.wait(std::chrono::milliseconds(50))).error) co_return;
      }
      continue;
    }
    srv.stats.accepted.fetch_add(1, std::memory_order_relaxed);
    if (lp.associate(peer)) continue;
    (void)peer.set_no_delay(true);  // the head and the file go in two sends
    (void)lp.spawn(secure != nullptr ? secure->serve(std::move(peer), srv)
                                     : http::serve_plain(std::move(peer), srv));
  }
}

int run(int argc, char** argv) {
  std::string root = ".", port = "8080", address = "127.0.0.1", threads = "0", concurrency = "0",
              backend = "auto", acceptors = "0", header_timeout = "10000", idle_timeout = "60000",
              send_timeout = "60000", linger_timeout = "2000", tls_cert, tls_key;
  const examples::flag flags[] = {
      {"root", &root, "directory to serve"},
      {"port", &port, "TCP port; 0 = any free port (printed on the first line)"},
      {"address", &address, "numeric address to listen on (0.0.0.0, ::1, ...)"},
      {"threads", &threads, "worker threads; 0 = twice the concurrency"},
      {"concurrency", &concurrency, "most threads running at once; 0 = processors"},
      {"backend", &backend, "epoll, io_uring, iocp or auto"},
      {"acceptors", &acceptors, "accepts pending at once; 0 = the concurrency"},
      {"header-timeout", &header_timeout,
       "ms from a request's first byte (or a connection's start) to the end of its head"},
      {"idle-timeout", &idle_timeout, "ms a kept-alive connection may wait for its next request"},
      {"send-timeout", &send_timeout, "ms each send (a file goes in 4 MiB pieces) may take"},
      {"linger-timeout", &linger_timeout, "ms of draining the peer's data before closing"},
      {"tls-cert", &tls_cert, "PEM certificate chain (leaf first): serve HTTPS"},
      {"tls-key", &tls_key, "PEM private key of --tls-cert"},
  };
  switch (examples::parse_flags(argc, argv, flags, "usage: proact-http-server [flags]")) {
    case examples::parse_outcome::run:
      break;
    case examples::parse_outcome::exit_ok:
      return 0;
    case examples::parse_outcome::exit_error:
      return 2;
  }
  std::uint64_t port_n = 0, threads_n = 0, concurrency_n = 0, acceptors_n = 0, header_ms = 0,
                idle_ms = 0, send_ms = 0, linger_ms = 0;
  constexpr std::uint64_t max_ms = 24ULL * 3600 * 1000;
  proact::loop_options options;
  if (!examples::to_unsigned("port", port, 65535, port_n) ||
      !examples::to_unsigned("threads", threads, 1024, threads_n) ||
      !examples::to_unsigned("concurrency", concurrency, 1024, concurrency_n) ||
      !examples::to_unsigned("acceptors", acceptors, 1024, acceptors_n) ||
      !examples::to_unsigned("header-timeout", header_timeout, max_ms, header_ms) ||
      !examples::to_unsigned("idle-timeout", idle_timeout, max_ms, idle_ms) ||
      !examples::to_unsigned("send-timeout", send_timeout, max_ms, send_ms) ||
      !examples::to_unsigned("linger-timeout", linger_timeout, max_ms, linger_ms) ||
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
  http::server srv;
  srv.root = fs::absolute(fs::path(root), ec);
  std::string why;
  if (ec || !fs::is_directory(srv.root, ec) || !srv.confined.open(http::to_utf8(srv.root), why)) {
    std::fputs(("--root: not a directory: " + root + "\n").c_str(), stderr);
    return 2;
  }
  srv.limits.header = std::chrono::milliseconds(header_ms);
  srv.limits.idle = std::chrono::milliseconds(idle_ms);
  srv.limits.send = std::chrono::milliseconds(send_ms);
  srv.limits.linger = std::chrono::milliseconds(linger_ms);

  if (tls_cert.empty() != tls_key.empty()) {
    std::fputs("--tls-cert and --tls-key go together\n", stderr);
    return 2;
  }
  std::optional<http::https> secure;
  if (!tls_cert.empty()) {
    secure.emplace();
    if (!secure->open(tls_cert, tls_key, why)) {
      std::fputs(("--tls-cert/--tls-key: " + why + "\n").c_str(), stderr);
      return 2;
    }
  }

  examples::raise_open_file_limit();

  proact::loop lp(options);  // throws std::system_error if the backend is unavailable
  srv.lp = &lp;
  proact::tcp_listener listener;  // after the loop: closed first, once it stopped
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
    ec = lp.spawn(acceptor(lp, listener, srv, secure ? &*secure : nullptr));
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
      lp.stop();  // every pending operation completes with operation_aborted
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
  examples::print_line(std::string(secure ? "serving (HTTPS) " : "serving ") +
                       http::to_utf8(srv.root) + "; backend " +
                       std::string(proact::to_string(lp.backend())) + ", " +
                       std::to_string(lp.threads()) + " threads, concurrency " +
                       std::to_string(lp.concurrency()) + "; Ctrl-C stops");

  lp.join();  // returns once a signal stopped the loop and its threads left it
  const std::chrono::duration<double> up = std::chrono::steady_clock::now() - started;

  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", up.count());
  const http::statistics& st = srv.stats;
  examples::print_line("stats: connections_accepted=" + std::to_string(st.accepted.load()) +
                       " requests=" + std::to_string(st.requests.load()) +
                       " responses_2xx=" + std::to_string(st.ok.load()) +
                       " responses_error=" + std::to_string(st.errors.load()) +
                       " bytes_sent=" + std::to_string(st.bytes.load()) + " seconds_up=" + seconds +
                       " backend=" + std::string(proact::to_string(lp.backend())));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fputs((std::string("proact-http-server: ") + e.what() + "\n").c_str(), stderr);
    return 1;
  }
}
