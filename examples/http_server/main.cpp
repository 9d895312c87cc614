// proact-http-server: an HTTP/1.1 static-file server on proact::loop, one
// coroutine per connection.
//
//   proact-http-server --root ./public --port 8080 --threads 4
//
// GET and HEAD; keep-alive (HTTP/1.1 by default, HTTP/1.0 on request) and
// pipelined requests, answered in order; Content-Length on every response;
// 400 for malformed requests and refused paths, 404, 405 (Allow: GET, HEAD),
// 503 when a file cannot be opened for want of descriptors (try again),
// 431 for a request head over 8 KiB, 505 for HTTP versions other than 1.x.
// Files go out with tcp_socket::send_file (sendfile, io_uring splice,
// TransmitFile); a file must resolve inside --root after following links.
// A slow or idle client holds nothing for long: a request head must arrive
// within --header-timeout (else 408 and close), a kept-alive connection idle
// for --idle-timeout is closed, each send must make progress within
// --send-timeout, and the lingering close lasts at most --linger-timeout.
// Prints "listening on ADDRESS:PORT" first; SIGINT or SIGTERM (Ctrl-C) stops
// it, and it prints one line of statistics.
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
#include "confined_open.hpp"
#include "http_parser.hpp"
#include "platform.hpp"
#include "proact/proact.hpp"
#include "throttled_log.hpp"

namespace {

namespace fs = std::filesystem;

// The per-connection buffer; a request head must fit in it (else 431).
constexpr std::size_t buffer_size = 8192;
// One send_file: below proact::max_transfer_size, and small enough that a
// client reading at a reasonable rate finishes it within --send-timeout.
constexpr std::uint64_t send_file_chunk = std::uint64_t{4} << 20;
// Lingering close: at most this much is read (and dropped) after the answer.
constexpr std::size_t linger_limit = 1 << 20;

struct statistics {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> ok{0};      // 2xx
  std::atomic<std::uint64_t> errors{0};  // 4xx, 5xx
  std::atomic<std::uint64_t> bytes{0};   // sent, heads included
};

struct timeouts {
  std::chrono::milliseconds header{10000};  // first byte of a request head to its end
  std::chrono::milliseconds idle{60000};    // between requests on a kept-alive connection
  std::chrono::milliseconds send{60000};    // each send (or file chunk) to complete
  std::chrono::milliseconds linger{2000};   // draining after the last answer
};

struct server {
  fs::path root;
  http::document_root confined;
  timeouts limits;
  statistics stats;
};

// Paths are UTF-8 on the wire and in proact::file::open; std::filesystem
// gives them as char8_t so that Windows does not use its ANSI code page.
std::string to_utf8(const fs::path& p) {
  const std::u8string u = p.u8string();
  return std::string(u.begin(), u.end());
}

enum class after { keep_going, close, abort };  // abort: the connection failed

proact::task<bool> send_all(proact::tcp_socket& s, std::string_view data, server& srv) {
  auto [ec, n] =
      co_await s.send(proact::const_buffer(data.data(), data.size())).with_timeout(srv.limits.send);
  srv.stats.bytes.fetch_add(n, std::memory_order_relaxed);
  co_return !ec;
}

// An answer with a short text body (or none for HEAD).
proact::task<after> send_error(proact::tcp_socket& s, server& srv, int status, bool head_only,
                               bool keep_alive, int version_minor) {
  srv.stats.errors.fetch_add(1, std::memory_order_relaxed);
  const std::string body =
      std::to_string(status) + " " + std::string(http::reason_phrase(status)) + "\n";
  std::string message =
      http::response_head(status, body.size(), "text/plain; charset=utf-8", keep_alive,
                          version_minor, status == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (!head_only) message += body;
  if (!co_await send_all(s, message, srv)) co_return after::abort;
  co_return keep_alive ? after::keep_going : after::close;
}

// Answers one request.
proact::task<after> respond(proact::tcp_socket& s, server& srv, const http::request& req) {
  srv.stats.requests.fetch_add(1, std::memory_order_relaxed);
  // A request body is not read: answer, then close rather than parse it as
  // the next request.
  const bool keep_alive = req.keep_alive && !req.has_body;
  const bool head_only = req.verb == http::method::head;
  if (req.verb == http::method::other) {
    co_return co_await send_error(s, srv, 405, false, keep_alive, req.version_minor);
  }
  const http::resolved_path target = http::resolve_target(req.target);
  if (!target.ok) {
    co_return co_await send_error(s, srv, 400, head_only, false, req.version_minor);
  }

  // The blocking file-system calls run on a loop thread: the loop has twice
  // as many threads as may run at once, for work like this. A link that
  // leads outside the root is answered like a missing file.
  std::string relative = target.path;
  proact::file f;
  http::document_root::outcome found = srv.confined.open_file(relative, f);
  if (found == http::document_root::outcome::directory) {
    relative += relative.empty() ? "index.html" : "/index.html";
    found = srv.confined.open_file(relative, f);
  } else if (found == http::document_root::outcome::file && target.trailing_slash) {
    found = http::document_root::outcome::not_found;
  }
  if (found == http::document_root::outcome::unavailable) {
    // Out of descriptors: the connection is fine, the file may open later.
    co_return co_await send_error(s, srv, 503, head_only, keep_alive, req.version_minor);
  }
  if (found != http::document_root::outcome::file) {
    co_return co_await send_error(s, srv, 404, head_only, keep_alive, req.version_minor);
  }
  std::error_code ec;
  const std::uint64_t size = f.size(ec);
  if (ec) co_return co_await send_error(s, srv, 500, head_only, false, req.version_minor);

  srv.stats.ok.fetch_add(1, std::memory_order_relaxed);
  const std::string head =
      http::response_head(200, size, http::content_type(relative.substr(relative.rfind('/') + 1)),
                          keep_alive, req.version_minor);
  if (!co_await send_all(s, head, srv)) co_return after::abort;
  if (!head_only) {
    for (std::uint64_t offset = 0; offset < size;) {
      const auto count = static_cast<std::size_t>(std::min(size - offset, send_file_chunk));
      auto [send_ec, sent] = co_await s.send_file(f, offset, count).with_timeout(srv.limits.send);
      srv.stats.bytes.fetch_add(sent, std::memory_order_relaxed);
      if (send_ec) co_return after::abort;  // the Content-Length cannot be kept
      offset += sent;
    }
  }
  co_return keep_alive ? after::keep_going : after::close;
}

// One connection: read, answer every complete request in the buffer in
// order, read more; until the peer hangs up, an answer closes, an error, a
// timeout, or the loop stops (the pending operation completes with
// operation_aborted).
proact::task<void> connection(proact::tcp_socket s, server& srv) {
  std::array<char, buffer_size> buf;
  std::size_t begin = 0, end = 0;  // unparsed bytes: [begin, end)
  after next = after::abort;
  // The deadline of the request head being read; none between requests.
  std::optional<std::chrono::steady_clock::time_point> head_deadline;
  for (;;) {
    const http::parse_result r =
        http::parse_request(std::string_view(buf.data() + begin, end - begin), buf.size());
    if (r.status == http::parse_status::complete) {
      head_deadline.reset();
      next = co_await respond(s, srv, r.req);
      begin += r.consumed;
      if (next != after::keep_going) break;
      continue;
    }
    if (r.status == http::parse_status::error) {
      srv.stats.requests.fetch_add(1, std::memory_order_relaxed);
      next = co_await send_error(s, srv, r.error_status, false, false, 1);
      break;
    }
    // Incomplete: move the partial request to the front and read more. The
    // parser answers 431 before the buffer is full, so there is room.
    if (begin > 0) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    // Waiting for a new request is idle time; once a head began, it must be
    // complete by its deadline.
    if (!head_deadline && end > begin)
      head_deadline = std::chrono::steady_clock::now() + srv.limits.header;
    const auto deadline =
        head_deadline ? *head_deadline : std::chrono::steady_clock::now() + srv.limits.idle;
    auto [ec, n] =
        co_await s.recv(proact::buffer{buf.data() + end, buf.size() - end}).with_deadline(deadline);
    if (ec == proact::errc::timed_out && head_deadline) {
      srv.stats.requests.fetch_add(1, std::memory_order_relaxed);
      next = co_await send_error(s, srv, 408, false, false, 1);
      break;
    }
    if (ec || n == 0) co_return;  // hung up (a partial request is dropped), idle, or stopped
    if (!head_deadline) head_deadline = std::chrono::steady_clock::now() + srv.limits.header;
    end += n;
  }
  if (next == after::close && !s.shutdown_send()) {
    // Lingering close: the peer reads the whole answer and then eof. Closing
    // with its unread requests still queued here would reset the connection
    // and could destroy the answer in flight.
    const auto until = std::chrono::steady_clock::now() + srv.limits.linger;
    for (std::size_t drained = 0; drained < linger_limit;) {
      auto [ec, n] = co_await s.recv(proact::buffer{buf.data(), buf.size()}).with_deadline(until);
      if (ec || n == 0) break;
      drained += n;
    }
  }
}

// Accept failures (out of descriptors) repeat every 50 ms while they last:
// one line a second says so.
examples::throttled_log accept_failures(std::chrono::seconds(1));

proact::task<void> acceptor(proact::loop& lp, proact::tcp_listener& listener, server& srv) {
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
    (void)lp.spawn(connection(std::move(peer), srv));
  }
}

int run(int argc, char** argv) {
  std::string root = ".", port = "8080", address = "127.0.0.1", threads = "0", concurrency = "0",
              backend = "auto", acceptors = "0", header_timeout = "10000", idle_timeout = "60000",
              send_timeout = "60000", linger_timeout = "2000";
  const examples::flag flags[] = {
      {"root", &root, "directory to serve"},
      {"port", &port, "TCP port; 0 = any free port (printed on the first line)"},
      {"address", &address, "numeric address to listen on (0.0.0.0, ::1, ...)"},
      {"threads", &threads, "worker threads; 0 = twice the concurrency"},
      {"concurrency", &concurrency, "most threads running at once; 0 = processors"},
      {"backend", &backend, "epoll, io_uring, iocp or auto"},
      {"acceptors", &acceptors, "accepts pending at once; 0 = the concurrency"},
      {"header-timeout", &header_timeout,
       "ms from a request's first byte to the end of its head (then 408)"},
      {"idle-timeout", &idle_timeout, "ms a kept-alive connection may wait for its next request"},
      {"send-timeout", &send_timeout, "ms each send (a file goes in 4 MiB pieces) may take"},
      {"linger-timeout", &linger_timeout, "ms of draining the peer's data before closing"},
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
  server srv;
  srv.root = fs::absolute(fs::path(root), ec);
  std::string why;
  if (ec || !fs::is_directory(srv.root, ec) || !srv.confined.open(to_utf8(srv.root), why)) {
    std::fputs(("--root: not a directory: " + root + "\n").c_str(), stderr);
    return 2;
  }
  srv.limits.header = std::chrono::milliseconds(header_ms);
  srv.limits.idle = std::chrono::milliseconds(idle_ms);
  srv.limits.send = std::chrono::milliseconds(send_ms);
  srv.limits.linger = std::chrono::milliseconds(linger_ms);

  examples::raise_open_file_limit();

  proact::loop lp(options);       // throws std::system_error if the backend is unavailable
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
    ec = lp.spawn(acceptor(lp, listener, srv));
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
  examples::print_line("serving " + to_utf8(srv.root) + "; backend " +
                       std::string(proact::to_string(lp.backend())) + ", " +
                       std::to_string(lp.threads()) + " threads, concurrency " +
                       std::to_string(lp.concurrency()) + "; Ctrl-C stops");

  lp.join();  // returns once a signal stopped the loop and its threads left it
  const std::chrono::duration<double> up = std::chrono::steady_clock::now() - started;

  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", up.count());
  const statistics& st = srv.stats;
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
