#include "linux/linux_handle.hpp"

// linux/tcp.h, not netinet/tcp.h: glibc's tcp_info lacks tcpi_segs_in.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/pool_state.hpp"
#include "common/sys.hpp"

namespace proact::detail {
namespace {

// TCP states as TCP_INFO reports them (the kernel's enum).
constexpr std::uint8_t tcp_syn_sent = 2;
constexpr std::uint8_t tcp_close = 7;

bool tcp_info_of(int fd, tcp_info& info) noexcept {
  info = tcp_info{};
  socklen_t len = sizeof(info);
  return ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0;
}

// EPIPE from a send means one of three things on Linux; proact reports each
// as its own condition, as Windows does. The connection state knows two; a
// TCP socket that was never connected (or was disconnected) has received no
// segment, one whose connection failed has.
std::error_code name_broken_pipe(const linux_handle& h) noexcept {
  if (h.connection.send_side_is_shut()) return make_error_code(error::shut_down);
  if (h.kind != handle_kind::tcp_stream) return native_error(EPIPE);  // the peer went away
  tcp_info info;
  if (tcp_info_of(h.fd, info) && info.tcpi_segs_in == 0)
    return make_error_code(error::not_connected);
  return native_error(ECONNRESET);  // the failure was reported once already
}

}  // namespace

std::error_code start_refusal(const linux_handle& h, op_kind kind, bool port_closed) noexcept {
  if (!h.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
  if (port_closed) return make_error_code(error::port_closed);
  const bool file_op =
      kind == op_kind::read_at || kind == op_kind::write_at || kind == op_kind::flush;
  if (file_op != h.is_file()) return make_error_code(error::invalid_argument);
  if (kind == op_kind::connect && !h.output.empty())
    return make_error_code(error::operation_in_progress);
  // A disconnect is draining the connection: nothing more to receive.
  if (h.draining && is_input(kind)) return make_error_code(error::not_connected);
  return {};
}

namespace {

bool ends_with(const std::error_code& ec, io_result& r) noexcept {
  if (!ec) return false;
  r.bytes = 0;
  r.error = ec;
  return true;
}

}  // namespace

bool ends_at_start(const linux_handle& h, operation& op, io_result& r) noexcept {
  return ends_with(h.connection.refusal_at_start(op_access::kind(op)), r);
}

bool decided_without_trying(const linux_handle& h, operation& op, io_result& r) noexcept {
  return ends_with(h.connection.failure_for(op_access::kind(op)), r);
}

bool pool_empty_at_turn(const operation& op, io_result& r) noexcept {
  const pool_state* pool = pool_of(op);
  return pool != nullptr && pool->keeper() == nullptr && pool->available() == 0 &&
         ends_with(pool_empty(), r);
}

void settle(linux_handle& h, operation& op, io_result& r) noexcept {
  const op_kind kind = op_access::kind(op);
  if (r.error.value() == EPIPE && r.error.category() == native_category() &&
      connection_state::is_send(kind))
    r.error = name_broken_pipe(h);
  h.connection.observe(kind, r.error, r.bytes);
}

io_status try_transfer(const linux_handle& h, operation& op, io_result& r) noexcept {
  std::size_t& done = linux_state_of(op).done;
  switch (op_access::kind(op)) {
    case op_kind::recv: {
      input_probe probe;
      return pool_of(op) != nullptr ? try_recv_pooled(h.fd, op, r, probe) : try_recv(h.fd, op, r);
    }
    case op_kind::send:
      return try_send(h.fd, op, done, r);
    case op_kind::recv_from:
      return try_recv_from(h.fd, op, r);
    case op_kind::send_to:
      return try_send_to(h.fd, op, r);
    case op_kind::accept:
      return try_accept(h.fd, op, h.family, r);
    case op_kind::send_file:
      return try_send_file(h.fd, op, done, linux_state_of(op).file_shortfall, r);
    default:
      return io_status::would_block;
  }
}

std::error_code shutdown_send(linux_handle& h) noexcept {
  if (!h.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
  if (h.kind != handle_kind::tcp_stream) return make_error_code(error::invalid_argument);
  if (h.output.empty()) {
    if (std::error_code ec = sys::shutdown_send(h.fd)) return ec;
  } else {
    h.shutdown_pending = true;  // the FIN goes after the queued output
  }
  h.connection.send_side_shut();
  return {};
}

void shutdown_if_output_done(linux_handle& h) noexcept {
  if (h.shutdown_pending && h.output.empty() && h.open.load(std::memory_order_relaxed)) {
    h.shutdown_pending = false;
    (void)sys::shutdown_send(h.fd);
  }
}

std::error_code skip_completion_on_success(linux_handle& h) noexcept {
  if (!h.open.load(std::memory_order_relaxed)) return make_error_code(error::bad_handle);
  h.skip_on_success = true;
  return {};
}

bool send_fin(linux_handle& h, io_result& r) noexcept {
  if (::shutdown(h.fd, SHUT_WR) != 0) {
    r.bytes = 0;
    r.error = native_error(errno);  // e.g. not connected
    return false;
  }
  h.draining = true;
  return true;
}

io_status drain_and_dissolve(linux_handle& h, io_result& r) noexcept {
  if (try_discard_until_eof(h.fd, r) == io_status::would_block) return io_status::would_block;
  h.draining = false;
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  if (::connect(h.fd, &unspecified, sizeof(unspecified)) != 0) {
    if (!r.error) r.error = native_error(errno);
  } else {
    h.connection.dissolved();
  }
  r.bytes = 0;
  return io_status::done;
}

std::error_code connect_refusal(const linux_handle& h) noexcept {
  tcp_info info;
  if (!tcp_info_of(h.fd, info)) return native_error(errno);
  if (info.tcpi_state == tcp_close) return {};
  return native_error(info.tcpi_state == tcp_syn_sent ? EALREADY : EISCONN);
}

void signal_eventfd(int fd) noexcept {
  const std::uint64_t one = 1;
  ssize_t n;
  do n = ::write(fd, &one, sizeof(one));
  while (n < 0 && errno == EINTR);
}

}  // namespace proact::detail
