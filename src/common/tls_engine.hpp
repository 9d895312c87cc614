// The TLS engine seam: what tls_stream (src/common/tls.cpp) needs from a TLS
// library. An engine never touches a socket: ciphertext goes in with feed()
// and comes out with take_output(); the stream moves it with the underlying
// proact stream's own operations. One engine per platform (OpenSSL on
// Linux: src/linux/tls_openssl.cpp; SChannel on Windows:
// src/win/tls_schannel.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "proact/tls.hpp"

namespace proact::detail {

// The outcome of one engine step.
enum class tls_step {
  done,        // finished (bytes in `n` where the call has them)
  want_input,  // needs more ciphertext from the peer
  closed,      // recv: the peer's close_notify arrived
  failed,      // the session failed: the error code says why
};

class tls_session {
 public:
  virtual ~tls_session() = default;

  // Client: SNI and the name the peer's certificate must carry.
  virtual std::error_code set_host_name(std::string_view name) = 0;
  virtual std::string alpn_protocol() const = 0;

  // Ciphertext from the peer; the engine keeps all of it.
  virtual void feed(const void* data, std::size_t size) = 0;
  // The peer's transport ended: steps that need input now fail (truncation,
  // or the close_notify that came before it).
  virtual void feed_end() = 0;
  // Ciphertext waiting to be sent, and taking up to `size` bytes of it.
  virtual std::size_t pending_output() const = 0;
  virtual std::size_t take_output(void* data, std::size_t size) = 0;

  virtual tls_step handshake(std::error_code& ec) = 0;
  // Decrypts up to `size` bytes (n = how many). With `size` 0 it only peeks:
  // done once decrypted bytes wait to be read, none taken.
  virtual tls_step read(void* data, std::size_t size, std::size_t& n, std::error_code& ec) = 0;
  // Encrypts all `size` bytes (at most one record's worth: 16 KiB).
  virtual tls_step write(const void* data, std::size_t size, std::error_code& ec) = 0;
  // Queues close_notify.
  virtual tls_step shutdown(std::error_code& ec) = 0;
};

class tls_engine_context {
 public:
  virtual ~tls_engine_context() = default;
  // A session in the context's role, or null (ec says why).
  virtual std::unique_ptr<tls_session> new_session(std::error_code& ec) = 0;
};

// The platform's engine: a context for `options`, or null with ec set
// (errc::operation_not_supported where no engine is built).
std::shared_ptr<tls_engine_context> make_tls_engine(const tls_options& options,
                                                    std::error_code& ec);

// Most plaintext one write() takes: one TLS record.
inline constexpr std::size_t tls_record_plaintext = 16384;

}  // namespace proact::detail
