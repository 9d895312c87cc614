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
//    with any decrypted bytes;
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

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "proact/buffer.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/detail/loop_node.hpp"
#include "proact/detail/op_deadline.hpp"
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

namespace detail {

// The awaitable form of a tls_stream operation: the awaitable is itself the
// operation (a loop_node in the coroutine frame), so awaiting allocates
// nothing. A stop request or a deadline cancels it, as for io_awaitable.
class PROACT_API tls_awaitable_base : public loop_node {
 public:
  using start_fn = std::error_code (*)(tls_awaitable_base& self);

  bool await_ready() const noexcept { return false; }
  io_result await_resume() const noexcept { return result_; }

  tls_awaitable_base(const tls_awaitable_base&) = delete;
  tls_awaitable_base& operator=(const tls_awaitable_base&) = delete;
  tls_awaitable_base& operator=(tls_awaitable_base&&) = delete;

 protected:
  tls_awaitable_base(tls_stream& s, start_fn start) noexcept
      : loop_node(&finish), stream_(&s), start_(start) {}
  tls_awaitable_base(tls_awaitable_base&& other) noexcept
      : loop_node(&finish),
        stream_(other.stream_),
        start_(other.start_),
        has_deadline_(other.has_deadline_),
        deadline_at_(other.deadline_at_) {}
  ~tls_awaitable_base() = default;

  bool suspend(std::coroutine_handle<> waiter, std::stop_token stop, loop* owner);
  void set_deadline(std::chrono::steady_clock::time_point at) noexcept {
    deadline_at_ = at;
    has_deadline_ = true;
  }
  tls_stream* stream_;

 private:
  struct canceller {
    tls_awaitable_base* self;
    void operator()() const noexcept;
  };
  static void finish(loop_node& self, std::size_t bytes, std::error_code ec);
  static std::error_code start_for_deadline(void* self);
  static std::error_code cancel_for_deadline(void* stream, operation& op);
  void settle() noexcept;

  start_fn start_;
  std::coroutine_handle<> waiter_;
  io_result result_;
  std::atomic<std::uint8_t> arrivals_{0};
  std::optional<std::stop_callback<canceller>> on_stop_;
  std::atomic<bool> cancelling_{false};
  bool has_deadline_ = false;
  std::chrono::steady_clock::time_point deadline_at_{};
  op_deadline deadline_;
};

template <class Start>
class tls_awaitable final : public tls_awaitable_base {
 public:
  tls_awaitable(tls_stream& s, Start start) noexcept
      : tls_awaitable_base(s, &start_thunk), start_op_(std::move(start)) {}
  tls_awaitable(tls_awaitable&& other) noexcept
      : tls_awaitable_base(std::move(other)), start_op_(std::move(other.start_op_)) {}
  tls_awaitable& operator=(tls_awaitable&&) = delete;
  ~tls_awaitable() = default;

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    return suspend(waiter, stop_token_of(waiter), loop_of(waiter));
  }
  // The operation completes with errc::timed_out if it has not completed
  // `after` from now (or at `at`). Needs a coroutine running on a loop.
  [[nodiscard]] tls_awaitable with_timeout(std::chrono::steady_clock::duration after) && noexcept {
    set_deadline(std::chrono::steady_clock::now() + after);
    return std::move(*this);
  }
  [[nodiscard]] tls_awaitable with_deadline(std::chrono::steady_clock::time_point at) && noexcept {
    set_deadline(at);
    return std::move(*this);
  }

 private:
  static std::error_code start_thunk(tls_awaitable_base& self) {
    auto& me = static_cast<tls_awaitable&>(self);
    return me.start_op_(*me.stream_, static_cast<loop_node&>(me));
  }
  Start start_op_;
};

}  // namespace detail

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
  [[nodiscard]] auto handshake() {
    return detail::tls_awaitable(
        *this, [](tls_stream& s, detail::loop_node& op) { return s.start_handshake(op); });
  }
  [[nodiscard]] auto recv(buffer b) {
    return detail::tls_awaitable(
        *this, [b](tls_stream& s, detail::loop_node& op) { return s.start_recv(op, b); });
  }
  [[nodiscard]] auto send(const_buffer b) {
    return detail::tls_awaitable(
        *this, [b](tls_stream& s, detail::loop_node& op) { return s.start_send(op, b); });
  }
  [[nodiscard]] auto shutdown() {
    return detail::tls_awaitable(
        *this, [](tls_stream& s, detail::loop_node& op) { return s.start_shutdown(op); });
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

  loop& loop_;
  stream_handle& stream_;
  std::shared_ptr<detail::tls_stream_state> state_;
};

}  // namespace proact
