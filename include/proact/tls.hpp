// TLS over any proact stream (tcp_socket, local_stream), driven by the loop:
//
//   proact::tls_context ctx;
//   ec = ctx.open({.role = proact::tls_role::client});  // system CA store
//   proact::tls_stream tls(lp, sock, ctx);              // sock associated with lp
//   ec = tls.set_host_name("example.org");              // SNI and name check
//   auto [ec, n] = co_await tls.handshake().with_timeout(10s);
//   auto [ec, n] = co_await tls.send(proact::const_buffer{req.data(), req.size()});
//   auto [ec, n] = co_await tls.recv(proact::buffer{buf, sizeof buf});
//   auto [ec, n] = co_await tls.shutdown();             // sends close_notify
//
// The engine (OpenSSL 3 on Linux, SChannel on Windows) sees only memory: the tls_stream itself
// starts the underlying stream's recv and send, so no thread blocks on the
// socket. Contract (docs/semantics.md, "TLS"):
//  - a send completes once all its bytes were encrypted and the records
//    carrying them were handed to the underlying stream; a recv completes
//    with any decrypted bytes; a zero-byte recv once there are some, taking
//    none;
//  - errc::eof only after the peer's close_notify; the transport ending
//    without it is errc::tls_truncated;
//  - cancel()/close() (and a deadline, as errc::timed_out) complete each
//    pending operation exactly once with errc::operation_aborted; a failure of
//    the underlying stream (a reset, its close, the loop stopping) completes
//    every pending operation with that error;
//  - recv and send before the handshake completed give errc::not_connected.
// Several sends may be queued; the ones queued together are coalesced into
// as few records as their bytes need. Completions of operations started on a
// tls_stream run on its loop, like those of a callback_op on a socket.
//
// Certificates and keys: PEM files on Linux; on Windows the own certificate
// is a PFX file (no password) and the CA file PEM. PROACT_HAVE_TLS is defined
// where TLS is built (Windows always, Linux with OpenSSL 3).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "proact/buffer.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/detail/loop_node.hpp"
#include "proact/export.hpp"
#include "proact/stream.hpp"

namespace proact {

class callback_op;
class loop;
class tls_stream;

namespace detail {
class tls_engine_context;
class tls_stream_state;
}  // namespace detail

enum class tls_role { client, server };

struct tls_options {
  tls_role role = tls_role::client;
  // PEM: the certificate chain (leaf first) and its private key. A server
  // needs both; a client sends them when the server asks for one. Windows:
  // a PKCS#12 (PFX) file without a password holding both, and no key file.
  std::string certificate_file;
  std::string private_key_file;
  // PEM bundle of trusted CAs (the only roots trusted then); empty: the
  // system's store.
  std::string ca_file;
  // Client: verify the server's certificate (and its name, see
  // tls_stream::set_host_name). Server: require and verify a client
  // certificate.
  bool verify_peer = true;
  // ALPN protocols in order of preference ("h2", "http/1.1"); empty: none.
  std::vector<std::string> alpn;
};

// The configuration shared by many streams: certificates, trust, ALPN. It
// must outlive the streams made from it.
class PROACT_API tls_context {
 public:
  tls_context() noexcept;
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;
  ~tls_context();

  // Loads certificates, key and trust. Unreadable or mismatched files give
  // the engine's code (errc::tls_handshake_failed is not used here);
  // errc::operation_not_supported where no TLS engine is built.
  [[nodiscard]] std::error_code open(const tls_options& options);
  bool is_open() const noexcept { return engine_ != nullptr; }
  tls_role role() const noexcept { return role_; }

 private:
  friend class tls_stream;
  std::shared_ptr<detail::tls_engine_context> engine_;
  tls_role role_ = tls_role::client;
};

class PROACT_API tls_stream {
 public:
  // A TLS session over `s`, which must be open, connected and associated
  // with `l`, and outlive the tls_stream's pending operations. The context
  // must stay open as long as the stream.
  tls_stream(loop& l, stream_handle& s, tls_context& ctx);
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;
  // close(): pending operations complete with errc::operation_aborted.
  ~tls_stream();

  // Client: the server name sent as SNI and checked against the server's
  // certificate (a DNS name, or an IP address checked as one). Before the
  // handshake only.
  [[nodiscard]] std::error_code set_host_name(std::string_view name);
  // The protocol ALPN chose, empty if none (after the handshake).
  std::string alpn_protocol() const;

  // Callback forms: the operation's handler(bytes, ec) runs on the loop.
  // A failure to start (a bad argument, the operation in flight, the stream
  // closed) is returned and nothing completes.
  [[nodiscard]] std::error_code handshake(callback_op& op);
  [[nodiscard]] std::error_code recv(callback_op& op, buffer b);
  [[nodiscard]] std::error_code send(callback_op& op, const_buffer b);
  // Sends close_notify; completes once it was handed to the underlying
  // stream. Later sends give errc::shut_down; recv still gets the peer's
  // data up to its close_notify (errc::eof).
  [[nodiscard]] std::error_code shutdown(callback_op& op);

  // Awaitable forms: auto [ec, n] = co_await tls.recv(buf);
  // A stop request or a deadline (.with_timeout) cancels them, as for a
  // socket's awaitable operations.
  [[nodiscard]] auto handshake() {
    return detail::io_awaitable(this, &cancel_awaited,
                                [this](detail::loop_node& op) { return start_handshake(op); });
  }
  [[nodiscard]] auto recv(buffer b) {
    return detail::io_awaitable(this, &cancel_awaited,
                                [this, b](detail::loop_node& op) { return start_recv(op, b); });
  }
  [[nodiscard]] auto send(const_buffer b) {
    return detail::io_awaitable(this, &cancel_awaited,
                                [this, b](detail::loop_node& op) { return start_send(op, b); });
  }
  [[nodiscard]] auto shutdown() {
    return detail::io_awaitable(this, &cancel_awaited,
                                [this](detail::loop_node& op) { return start_shutdown(op); });
  }

  // Cancels one pending operation (errc::not_found if it is not pending
  // here), or all of them.
  [[nodiscard]] std::error_code cancel(operation& op);
  [[nodiscard]] std::error_code cancel();
  // Ends the session without close_notify: pending operations complete with
  // errc::operation_aborted, new ones are refused with errc::bad_handle. The
  // underlying stream stays open (it is the caller's).
  [[nodiscard]] std::error_code close();

  loop& get_loop() const noexcept { return loop_; }
  stream_handle& next_layer() const noexcept { return stream_; }

 private:
  std::error_code start_handshake(detail::loop_node& op);
  std::error_code start_recv(detail::loop_node& op, buffer b);
  std::error_code start_send(detail::loop_node& op, const_buffer b);
  std::error_code start_shutdown(detail::loop_node& op);
  static std::error_code cancel_awaited(void* self, operation& op);

  loop& loop_;
  stream_handle& stream_;
  std::shared_ptr<detail::tls_stream_state> state_;
};

}  // namespace proact
