// One HTTP/1.1 connection, written once for every transport (plain TCP in
// plain.cpp, TLS in https.cpp). A Transport has:
//   recv(buffer, deadline), send(const_buffer, timeout): awaitables giving
//       an io_result;
//   send_file(head, file, offset, count, srv): a task<bool>, the response
//       head and then `count` bytes of the file from `offset` (false: the
//       connection failed);
//   finish(srv, scratch): a task<void>, the end of a connection that closes
//       after its answer (shutting down the sending side, lingering close).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "http_parser.hpp"
#include "proact/proact.hpp"
#include "server.hpp"

namespace http {

// The per-connection buffer; a request head must fit in it (else 431).
inline constexpr std::size_t buffer_size = 8192;
// Lingering close: at most this much is read (and dropped) after the answer.
inline constexpr std::size_t linger_limit = 1 << 20;

enum class after { keep_going, close, abort };  // abort: the connection failed

template <class Transport>
proact::task<bool> send_all(Transport& t, std::string_view data, server& srv) {
  auto [ec, n] = co_await t.send(proact::const_buffer(data.data(), data.size()), srv.limits.send);
  srv.stats.bytes.fetch_add(n, std::memory_order_relaxed);
  co_return !ec;
}

// An answer with a short text body (or none for HEAD): an error, or a
// redirect (`extra` then holds its Location line).
template <class Transport>
proact::task<after> send_status(Transport& t, server& srv, int status, bool head_only,
                                bool keep_alive, int version_minor, std::string_view extra = {}) {
  if (status >= 400) srv.stats.errors.fetch_add(1, std::memory_order_relaxed);
  const std::string body = std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n";
  std::string message =
      response_head(status, body.size(), "text/plain; charset=utf-8", keep_alive, version_minor,
                    status == 405 ? std::string_view("Allow: GET, HEAD\r\n") : extra);
  if (!head_only) message += body;
  if (!co_await send_all(t, message, srv)) co_return after::abort;
  co_return keep_alive ? after::keep_going : after::close;
}

// Answers one request.
template <class Transport>
proact::task<after> respond(Transport& t, server& srv, const request& req) {
  srv.stats.requests.fetch_add(1, std::memory_order_relaxed);
  // A request body is not read: answer, then close rather than parse it as
  // the next request.
  const bool keep_alive = req.keep_alive && !req.has_body;
  const bool head_only = req.verb == method::head;
  if (req.verb == method::other) {
    co_return co_await send_status(t, srv, 405, false, keep_alive, req.version_minor);
  }
  const resolved_path target = resolve_target(req.target);
  if (!target.ok) {
    co_return co_await send_status(t, srv, 400, head_only, false, req.version_minor);
  }

  // The blocking file-system calls run on a loop thread: the loop has twice
  // as many threads as may run at once, for work like this. A link that
  // leads outside the root is answered like a missing file.
  std::string relative = target.path;
  proact::file f;
  std::uint64_t size = 0;
  document_root::outcome found = srv.confined.open_file(relative, f, size);
  if (found == document_root::outcome::directory && !relative.empty() && !target.trailing_slash) {
    // Relative links in its index.html resolve against the directory only
    // when its URL ends in a slash: send the client there.
    const std::string location = "Location: " + directory_location(target, req.target) + "\r\n";
    co_return co_await send_status(t, srv, 301, head_only, keep_alive, req.version_minor, location);
  }
  if (found == document_root::outcome::directory) {
    relative += relative.empty() ? "index.html" : "/index.html";
    found = srv.confined.open_file(relative, f, size);
  } else if (found == document_root::outcome::file && target.trailing_slash) {
    found = document_root::outcome::not_found;
  }
  if (found == document_root::outcome::unavailable) {
    // Out of descriptors: the connection is fine, the file may open later.
    co_return co_await send_status(t, srv, 503, head_only, keep_alive, req.version_minor);
  }
  if (found != document_root::outcome::file) {
    co_return co_await send_status(t, srv, 404, head_only, keep_alive, req.version_minor);
  }

  // A HEAD answers as its GET would, 206 or 416 included.
  const byte_range part = select_range(req.range, req.if_range, size);
  if (part.status == 416) {
    co_return co_await send_status(t, srv, 416, head_only, keep_alive, req.version_minor,
                                   range_fields(part, size));
  }
  srv.stats.ok.fetch_add(1, std::memory_order_relaxed);
  const std::string partial = part.status == 200 ? std::string() : range_fields(part, size);
  const std::string head = response_head(
      part.status, part.length, content_type(relative.substr(relative.rfind('/') + 1)), keep_alive,
      req.version_minor, part.status == 200 ? accept_ranges_field : partial);
  if (head_only || part.length == 0) {
    if (!co_await send_all(t, head, srv)) co_return after::abort;
  } else if (!co_await t.send_file(head, f, part.first, part.length, srv)) {
    co_return after::abort;  // a failure in the body: the Content-Length cannot be kept
  }
  co_return keep_alive ? after::keep_going : after::close;
}

// One connection: read, answer every complete request in the buffer in
// order, read more; until the peer hangs up, an answer closes, an error, a
// timeout, or the loop stops (the pending operation completes with
// operation_aborted).
template <class Transport>
proact::task<void> converse(Transport& t, server& srv) {
  std::array<char, buffer_size> buf;
  std::size_t begin = 0, end = 0;  // unparsed bytes: [begin, end)
  after next = after::abort;
  // The deadline of the request head being read; none between requests.
  std::optional<std::chrono::steady_clock::time_point> head_deadline;
  // A new connection has not earned the idle timeout: its first request
  // must come within the header timeout, or it is closed without an answer.
  std::optional<std::chrono::steady_clock::time_point> first_deadline =
      std::chrono::steady_clock::now() + srv.limits.header;
  for (;;) {
    const parse_result r =
        parse_request(std::string_view(buf.data() + begin, end - begin), buf.size());
    if (r.status == parse_status::complete) {
      head_deadline.reset();
      first_deadline.reset();
      next = co_await respond(t, srv, r.req);
      begin += r.consumed;
      if (next != after::keep_going) break;
      continue;
    }
    if (r.status == parse_status::error) {
      srv.stats.requests.fetch_add(1, std::memory_order_relaxed);
      next = co_await send_status(t, srv, r.error_status, r.req.verb == method::head, false, 1);
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
    const auto deadline = head_deadline    ? *head_deadline
                          : first_deadline ? *first_deadline
                                           : std::chrono::steady_clock::now() + srv.limits.idle;
    auto [ec, n] = co_await t.recv(proact::buffer{buf.data() + end, buf.size() - end}, deadline);
    if (ec == proact::errc::timed_out && head_deadline) {
      srv.stats.requests.fetch_add(1, std::memory_order_relaxed);
      next = co_await send_status(t, srv, 408, false, false, 1);
      break;
    }
    if (ec || n == 0) co_return;  // hung up (a partial request is dropped), idle, or stopped
    if (!head_deadline) head_deadline = std::chrono::steady_clock::now() + srv.limits.header;
    end += n;
  }
  if (next == after::close) co_await t.finish(srv, std::span<char>(buf));
}

}  // namespace http
