#include "https.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "proact/tls.hpp"
#include "session.hpp"

namespace http {

struct https::state {
  proact::tls_context ctx;
};

namespace {

// sendfile cannot encrypt: a file goes through the process in pieces of
// this size, read and then sent, so that a connection holds at most one
// piece. Four TLS records; each piece must make progress within
// --send-timeout, like a send_file chunk over plain TCP.
constexpr std::size_t file_piece = 64 * 1024;

struct tls_transport {
  proact::tls_stream& tls;
  proact::tcp_socket& s;

  auto recv(proact::buffer b, std::chrono::steady_clock::time_point deadline) {
    return tls.recv(b).with_deadline(deadline);
  }
  auto send(proact::const_buffer b, std::chrono::steady_clock::duration timeout) {
    return tls.send(b).with_timeout(timeout);
  }

  proact::task<bool> send_file(std::string_view head, proact::file& f, std::uint64_t offset,
                               std::uint64_t count, server& srv) {
    if (!co_await send_all(*this, head, srv)) co_return false;
    if (srv.lp->associate(f)) co_return false;
    // Allocated for the body only: idle connections hold no piece.
    const auto piece = std::make_unique<char[]>(file_piece);
    for (const std::uint64_t end = offset + count; offset < end;) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(end - offset, file_piece));
      // A file that shrank since its size was taken ends in eof: the
      // Content-Length cannot be kept.
      auto [read_ec, got] = co_await f.read_at(offset, proact::buffer{piece.get(), want});
      if (read_ec || got == 0) co_return false;
      auto [ec, sent] =
          co_await tls.send(proact::const_buffer{piece.get(), got}).with_timeout(srv.limits.send);
      srv.stats.bytes.fetch_add(sent, std::memory_order_relaxed);
      if (ec) co_return false;
      offset += got;
    }
    co_return true;
  }

  proact::task<void> finish(server& srv, std::span<char> scratch) {
    // close_notify, so that the client can tell the end of the answer from a
    // truncation; then the lingering close, as over plain TCP.
    auto [ec, n] = co_await tls.shutdown().with_timeout(srv.limits.send);
    (void)n;
    if (ec || s.shutdown_send()) co_return;
    const auto until = std::chrono::steady_clock::now() + srv.limits.linger;
    for (std::size_t drained = 0; drained < linger_limit;) {
      auto [recv_ec, got] =
          co_await tls.recv(proact::buffer{scratch.data(), scratch.size()}).with_deadline(until);
      if (recv_ec || got == 0) break;
      drained += got;
    }
  }
};

}  // namespace

https::https() : state_(std::make_unique<state>()) {}
https::~https() = default;

bool https::open(const std::string& certificate_file, const std::string& key_file,
                 std::string& why) {
  proact::tls_options options;
  options.role = proact::tls_role::server;
  options.certificate_file = certificate_file;
  options.private_key_file = key_file;
  options.verify_peer = false;  // no client certificates
  options.alpn = {"http/1.1"};
  if (const std::error_code ec = state_->ctx.open(options)) {
    why = ec.message();
    return false;
  }
  return true;
}

proact::task<void> https::serve(proact::tcp_socket s, server& srv) {
  proact::tls_stream tls(*srv.lp, s, state_->ctx);
  // A client that connects and stalls in the handshake is dropped like one
  // that stalls in its request head.
  auto [ec, n] = co_await tls.handshake().with_timeout(srv.limits.header);
  (void)n;
  if (ec) co_return;
  tls_transport t{tls, s};
  co_await converse(t, srv);
}

}  // namespace http
