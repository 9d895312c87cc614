// proact-http-server: an HTTP/1.1 static-file server on proact::loop, one
// coroutine per connection.
//
//   proact-http-server --root ./public --port 8080 --threads 4
//
// GET and HEAD; keep-alive (HTTP/1.1 by default, HTTP/1.0 on request) and
// pipelined requests, answered in order; Content-Length on every response;
// 400 for malformed requests and refused paths, 404, 405 (Allow: GET, HEAD),
// 431 for a request head over 8 KiB, 505 for HTTP versions other than 1.x.
// Files go out with tcp_socket::send_file (sendfile, io_uring splice,
// TransmitFile). Prints "listening on ADDRESS:PORT" first; SIGINT or SIGTERM
// (Ctrl-C) stops it, and it prints one line of statistics.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "cli.hpp"
#include "http_parser.hpp"
#include "platform.hpp"
#include "proact/proact.hpp"

namespace {

namespace fs = std::filesystem;

// The per-connection buffer; a request head must fit in it (else 431).
constexpr std::size_t buffer_size = 8192;
// send_file's count is a std::size_t below proact::max_transfer_size.
constexpr std::uint64_t send_file_chunk = std::uint64_t{1} << 30;
// Lingering close: at most this much is read (and dropped) after the answer.
constexpr std::size_t linger_limit = 1 << 20;

struct statistics {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> ok{0};      // 2xx
  std::atomic<std::uint64_t> errors{0};  // 4xx, 5xx
  std::atomic<std::uint64_t> bytes{0};   // sent, heads included
};

struct server {
  fs::path root;
  statistics stats;
};

// Paths are UTF-8 on the wire and in proact::file::open; std::filesystem
// takes and gives them as char8_t so that Windows does not use its ANSI code page.
fs::path from_utf8(std::string_view s) {
  return fs::path(std::u8string(s.begin(), s.end()));
}
std::string to_utf8(const fs::path& p) {
  const std::u8string u = p.u8string();
  return std::string(u.begin(), u.end());
}

enum class after { keep_going, close, abort };  // abort: the connection failed

proact::task<bool> send_all(proact::tcp_socket& s, std::string_view data, statistics& stats) {
  auto [ec, n] = co_await s.send(proact::const_buffer(data.data(), data.size()));
  stats.bytes.fetch_add(n, std::memory_order_relaxed);
  co_return !ec;
}

// An answer with a short text body (or none for HEAD).
proact::task<after> send_error(proact::tcp_socket& s, statistics& stats, int status, bool head_only,
                               bool keep_alive, int version_minor) {
  stats.errors.fetch_add(1, std::memory_order_relaxed);
  const std::string body =
      std::to_string(status) + " " + std::string(http::reason_phrase(status)) + "\n";
  std::string message =
      http::response_head(status, body.size(), "text/plain; charset=utf-8", keep_alive,
                          version_minor, status == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (!head_only) message += body;
  if (!co_await send_all(s, message, stats)) co_return after::abort;
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
    co_return co_await send_error(s, srv.stats, 405, false, keep_alive, req.version_minor);
  }
  const http::resolved_path target = http::resolve_target(req.target);
  if (!target.ok) {
    co_return co_await send_error(s, srv.stats, 400, head_only, false, req.version_minor);
  }

  // The blocking file-system calls run on a loop thread: the loop has twice
  // as many threads as may run at once, for work like this.
  fs::path path = target.path.empty() ? srv.root : srv.root / from_utf8(target.path);
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (!ec && fs::is_directory(st)) {
    path /= "index.html";
    st = fs::status(path, ec);
  } else if (!ec && target.trailing_slash) {
    ec = std::make_error_code(std::errc::not_a_directory);
  }
  proact::file f;
  if (ec || !fs::is_regular_file(st) || f.open(to_utf8(path), proact::file_mode::read)) {
    co_return co_await send_error(s, srv.stats, 404, head_only, keep_alive, req.version_minor);
  }
  const std::uint64_t size = f.size(ec);
  if (ec) co_return co_await send_error(s, srv.stats, 500, head_only, false, req.version_minor);

  srv.stats.ok.fetch_add(1, std::memory_order_relaxed);
  const std::string head = http::response_head(
      200, size, http::content_type(to_utf8(path.filename())), keep_alive, req.version_minor);
  if (!co_await send_all(s, head, srv.stats)) co_return after::abort;
  if (!head_only) {
    for (std::uint64_t offset = 0; offset < size;) {
      const auto count = static_cast<std::size_t>(std::min(size - offset, send_file_chunk));
      auto [send_ec, sent] = co_await s.send_file(f, offset, count);
      srv.stats.bytes.fetch_add(sent, std::memory_order_relaxed);
      if (send_ec) co_return after::abort;  // the Content-Length cannot be kept
      offset += sent;
    }
  }
  co_return keep_alive ? after::keep_going : after::close;
}

// One connection: read, answer every complete request in the buffer in
// order, read more; until the peer hangs up, an answer closes, an error, or
// the loop stops (the pending operation completes with operation_aborted).
proact::task<void> connection(proact::tcp_socket s, server& srv) {
  std::array<char, buffer_size> buf;
  std::size_t begin = 0, end = 0;  // unparsed bytes: [begin, end)
  after next = after::abort;
  for (;;) {
    const http::parse_result r =
        http::parse_request(std::string_view(buf.data() + begin, end - begin), buf.size());
    if (r.status == http::parse_status::complete) {
      next = co_await respond(s, srv, r.req);
      begin += r.consumed;
      if (next != after::keep_going) break;
      continue;
    }
    if (r.status == http::parse_status::error) {
      srv.stats.requests.fetch_add(1, std::memory_order_relaxed);
      next = co_await send_error(s, srv.stats, r.error_status, false, false, 1);
      break;
    }
    // Incomplete: move the partial request to the front and read more. The
    // parser answers 431 before the buffer is full, so there is room.
    if (begin > 0) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    auto [ec, n] = co_await s.recv(proact::buffer{buf.data() + end, buf.size() - end});
    if (ec || n == 0) co_return;  // hung up (a partial request is dropped), or stopped
    end += n;
  }
  if (next == after::close && !s.shutdown_send()) {
    // Lingering close: the peer reads the whole answer and then eof. Closing
    // with its unread requests still queued here would reset the connection
    // and could destroy the answer in flight.
    for (std::size_t drained = 0; drained < linger_limit;) {
      auto [ec, n] = co_await s.recv(proact::buffer{buf.data(), buf.size()});
      if (ec || n == 0) break;
      drained += n;
    }
  }
}

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
        std::fputs(("accept: " + ec.message() + "\n").c_str(), stderr);
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
              backend = "auto", acceptors = "0";
  const examples::flag flags[] = {
      {"root", &root, "directory to serve"},
      {"port", &port, "TCP port; 0 = any free port (printed on the first line)"},
      {"address", &address, "numeric address to listen on (0.0.0.0, ::1, ...)"},
      {"threads", &threads, "worker threads; 0 = twice the concurrency"},
      {"concurrency", &concurrency, "most threads running at once; 0 = processors"},
      {"backend", &backend, "epoll, io_uring, iocp or auto"},
      {"acceptors", &acceptors, "accepts pending at once; 0 = the concurrency"},
  };
  switch (examples::parse_flags(argc, argv, flags, "usage: proact-http-server [flags]")) {
    case examples::parse_outcome::run:
      break;
    case examples::parse_outcome::exit_ok:
      return 0;
    case examples::parse_outcome::exit_error:
      return 2;
  }
  std::uint64_t port_n = 0, threads_n = 0, concurrency_n = 0, acceptors_n = 0;
  proact::loop_options options;
  if (!examples::to_unsigned("port", port, 65535, port_n) ||
      !examples::to_unsigned("threads", threads, 1024, threads_n) ||
      !examples::to_unsigned("concurrency", concurrency, 1024, concurrency_n) ||
      !examples::to_unsigned("acceptors", acceptors, 1024, acceptors_n) ||
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
  if (ec || !fs::is_directory(srv.root, ec)) {
    std::fputs(("--root: not a directory: " + root + "\n").c_str(), stderr);
    return 2;
  }

  examples::raise_open_file_limit();
  examples::install_stop_handlers();

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

  examples::wait_for_stop();
  lp.stop();  // every pending operation completes with operation_aborted
  lp.join();
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
