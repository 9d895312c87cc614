// What a stream connection (TCP socket, local stream) has been through, kept
// per handle so that its later operations end the same way on every backend
// (contract item 24), whatever the platform reports for them:
//  - a connection that failed (reset, aborted, timed out) stays failed: every
//    later recv, zero-byte recv, send and send_file ends with that failure,
//    where Linux reports a reset once and then end of stream (and Wine a
//    reset as end of stream to a recv that starts after it);
//  - a send after the local shutdown_send() ends with shut_down;
//  - recv and send while the socket's connect is pending end with
//    not_connected (as Windows refuses them).
// The backend calls it under the handle's lock.
#pragma once

#include <cstddef>
#include <system_error>

#include "common/op_access.hpp"
#include "proact/error.hpp"

namespace proact::detail {

class connection_state {
 public:
  // recv (zero-byte too), send and send_file: what the connection's state
  // decides about them before they are tried.
  static bool is_stream_io(op_kind kind) noexcept {
    return kind == op_kind::recv || kind == op_kind::send || kind == op_kind::send_file;
  }
  static bool is_send(op_kind kind) noexcept {
    return kind == op_kind::send || kind == op_kind::send_file;
  }

  // What a start call of `kind` ends with at once, whatever is queued ahead
  // of it: recv and send while a connect is pending, a send after
  // shutdown_send() (the sends started before it still go). Empty if none.
  std::error_code refusal_at_start(op_kind kind) const noexcept {
    if (!is_stream_io(kind)) return {};
    if (connecting_) return make_error_code(error::not_connected);
    if (send_shut_ && is_send(kind)) return make_error_code(error::shut_down);
    return {};
  }
  // What an operation of `kind` ends with when its turn comes, without
  // being tried: the connection's failure. Empty if it is to be tried.
  std::error_code failure_for(op_kind kind) const noexcept {
    return is_stream_io(kind) ? failure_ : std::error_code{};
  }

  // An operation of `kind` ended with `ec` and `bytes`: remembers a failure
  // of the connection, and gives an operation that ran while another one
  // met the failure (end of stream, or nothing at all) that failure too.
  void observe(op_kind kind, std::error_code& ec, std::size_t& bytes) noexcept {
    if (kind == op_kind::connect) {
      connecting_ = false;
      if (!ec) {
        *this = connection_state{};  // a new connection
        established_ = true;
      }
      return;
    }
    if (!is_stream_io(kind) && kind != op_kind::disconnect) return;
    if (!ec && bytes != 0) established_ = true;
    if (failure_) {
      if ((ec == errc::eof || !ec) && bytes == 0 && kind != op_kind::disconnect) ec = failure_;
      return;
    }
    if (is_connection_failure(ec)) failure_ = ec;
  }

  void connect_started() noexcept { connecting_ = true; }
  void connect_ended() noexcept { connecting_ = false; }
  // shutdown_send() was called: later sends are refused at once (the FIN
  // itself may still wait for the sends started before it).
  void send_side_shut() noexcept { send_shut_ = true; }
  bool send_side_is_shut() const noexcept { return send_shut_; }
  // A disconnect dissolved the connection: the socket is unconnected again.
  void dissolved() noexcept { *this = connection_state{}; }

  bool failed() const noexcept { return static_cast<bool>(failure_); }
  bool connecting() const noexcept { return connecting_; }
  // A connection was seen: a connect succeeded, or bytes went either way.
  bool established() const noexcept { return established_; }

 private:
  // Reported by the operating system (never a cancellation, a timeout of
  // proact's own, or end of stream).
  static bool is_connection_failure(const std::error_code& ec) noexcept {
    return ec && ec.category() == native_category() &&
           (ec == errc::connection_reset || ec == errc::connection_aborted ||
            ec == errc::timed_out);
  }

  std::error_code failure_;
  bool connecting_ = false;
  bool send_shut_ = false;
  bool established_ = false;
};

}  // namespace proact::detail
