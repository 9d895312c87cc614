#include "plain.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "session.hpp"

namespace http {
namespace {

// One send_file: below proact::max_transfer_size, and small enough that a
// client reading at a reasonable rate finishes it within --send-timeout.
constexpr std::uint64_t send_file_chunk = std::uint64_t{4} << 20;

struct plain_transport {
  proact::tcp_socket& s;

  auto recv(proact::buffer b, std::chrono::steady_clock::time_point deadline) {
    return s.recv(b).with_deadline(deadline);
  }
  auto send(proact::const_buffer b, std::chrono::steady_clock::duration timeout) {
    return s.send(b).with_timeout(timeout);
  }

  // sendfile or TransmitFile: the file's bytes never pass through the
  // process. The head goes with the first chunk, in the same segment as
  // its first bytes.
  proact::task<bool> send_file(std::string_view head, proact::file& f, std::uint64_t offset,
                               std::uint64_t count, server& srv) {
    proact::send_file_buffers around{proact::const_buffer(head.data(), head.size()), {}};
    for (const std::uint64_t end = offset + count; offset < end;) {
      const auto chunk = static_cast<std::size_t>(std::min(end - offset, send_file_chunk));
      auto [ec, sent] =
          co_await s.send_file(f, offset, chunk, around).with_timeout(srv.limits.send);
      srv.stats.bytes.fetch_add(sent, std::memory_order_relaxed);
      if (ec) co_return false;
      offset += sent - around.head.size;
      around.head = {};
    }
    co_return true;
  }

  proact::task<void> finish(server& srv, std::span<char> scratch) {
    if (s.shutdown_send()) co_return;
    // Lingering close: the peer reads the whole answer and then eof. Closing
    // with its unread requests still queued here would reset the connection
    // and could destroy the answer in flight.
    const auto until = std::chrono::steady_clock::now() + srv.limits.linger;
    for (std::size_t drained = 0; drained < linger_limit;) {
      auto [ec, n] =
          co_await s.recv(proact::buffer{scratch.data(), scratch.size()}).with_deadline(until);
      if (ec || n == 0) break;
      drained += n;
    }
  }
};

}  // namespace

proact::task<void> serve_plain(proact::tcp_socket s, server& srv) {
  plain_transport t{s};
  co_await converse(t, srv);
}

}  // namespace http
