// The OpenSSL 3 TLS engine: an SSL object between two ciphertext queues
// (tls_openssl_bio.hpp). The engine never sees the socket; tls_stream moves
// the ciphertext.
//
// Errors keep OpenSSL's own codes: the packed ERR code (library and reason)
// in the "openssl" category, or, while handshaking, in "openssl handshake"
// (the same values, also equivalent to errc::tls_handshake_failed); a failed
// certificate check is the X509_V_ERR_* code in "x509 verify".
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "common/tls_engine.hpp"
#include "common/tls_error_category.hpp"
#include "linux/tls_openssl_bio.hpp"
#include "proact/error.hpp"

namespace proact::detail {
namespace {

bool is_truncation(int code) noexcept {
  const auto packed = static_cast<unsigned long>(static_cast<unsigned int>(code));
  return ERR_GET_LIB(packed) == ERR_LIB_SSL &&
         ERR_GET_REASON(packed) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

std::string err_text(int code) {
  char text[256];
  ERR_error_string_n(static_cast<unsigned long>(static_cast<unsigned int>(code)), text,
                     sizeof text);
  return text;
}

std::string verify_text(int code) {
  return X509_verify_cert_error_string(code);
}

constexpr tls_engine_codes openssl_codes{"openssl",   "openssl handshake", "x509 verify", err_text,
                                         verify_text, is_truncation,       X509_V_OK};
const tls_error_category openssl_category_instance{openssl_codes, tls_error_category::role::plain};
const tls_error_category handshake_category_instance{openssl_codes,
                                                     tls_error_category::role::handshake};
const tls_error_category verify_category_instance{openssl_codes, tls_error_category::role::verify};

const std::error_category& openssl_category() noexcept {
  return openssl_category_instance;
}
const std::error_category& handshake_category() noexcept {
  return handshake_category_instance;
}
const std::error_category& verify_category() noexcept {
  return verify_category_instance;
}

// The oldest error of the thread's queue (the root cause), the queue cleared.
std::error_code take_error(const std::error_category& cat, unsigned long fallback) {
  unsigned long e = ERR_get_error();
  if (e == 0) e = fallback;
  ERR_clear_error();
  return {static_cast<int>(static_cast<unsigned int>(e)), cat};
}

std::error_code last_error() {
  return take_error(openssl_category(), ERR_PACK(ERR_LIB_SSL, 0, ERR_R_INTERNAL_ERROR));
}

struct ssl_ctx_free {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct ssl_free {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};

class openssl_session final : public tls_session {
 public:
  openssl_session(SSL* ssl, tls_role role) noexcept : ssl_(ssl), role_(role) {}

  // Ciphertext goes through the session's own queues (tls_openssl_bio.hpp).
  std::error_code attach_queues() {
    BIO* in = new_queue_bio(in_);
    BIO* out = new_queue_bio(out_);
    if (in == nullptr || out == nullptr) {
      BIO_free(in);
      BIO_free(out);
      return last_error();
    }
    SSL_set_bio(ssl_.get(), in, out);
    return {};
  }

  std::error_code set_host_name(std::string_view name) override {
    if (role_ != tls_role::client || name.empty() || name.size() > 253)
      return make_error_code(error::invalid_argument);
    const std::string host(name);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    // An address is checked as one and sent as no SNI (RFC 6066 3).
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1) return {};
    ERR_clear_error();
    if (SSL_set_tlsext_host_name(ssl_.get(), host.c_str()) != 1 ||
        SSL_set1_host(ssl_.get(), host.c_str()) != 1)
      return last_error();
    return {};
  }

  std::string alpn_protocol() const override {
    const unsigned char* p = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl_.get(), &p, &len);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), len);
  }

  void feed(const void* data, std::size_t size) override { in_.append(data, size); }
  void feed_end() override { in_.set_end(); }
  std::size_t pending_output() const override { return out_.size(); }
  std::size_t take_output(void* data, std::size_t size) override { return out_.take(data, size); }

  tls_step handshake(std::error_code& ec) override {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_.get());
    if (r == 1) return tls_step::done;
    return failure(r, ec, true);
  }
  tls_step read(void* data, std::size_t size, std::size_t& n, std::error_code& ec) override {
    n = 0;
    ERR_clear_error();
    if (size == 0) {
      // SSL_read_ex with no room reads no record; a peek of one byte does.
      unsigned char byte;
      std::size_t seen = 0;
      const int r = SSL_peek_ex(ssl_.get(), &byte, 1, &seen);
      if (r == 1) return tls_step::done;
      return failure(r, ec, false);
    }
    const int r = SSL_read_ex(ssl_.get(), data, size, &n);
    if (r == 1) return tls_step::done;
    return failure(r, ec, false);
  }
  tls_step write(const void* data, std::size_t size, std::error_code& ec) override {
    std::size_t n = 0;
    ERR_clear_error();
    const int r = SSL_write_ex(ssl_.get(), data, size, &n);
    if (r == 1) return tls_step::done;
    // Renegotiation is off, so a write never waits for the peer: the stream
    // does not retry writes, and treats anything but success as the end.
    if (failure(r, ec, false) != tls_step::failed)
      ec = {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_BAD_WRITE_RETRY)), openssl_category()};
    return tls_step::failed;
  }
  tls_step shutdown(std::error_code& ec) override {
    ERR_clear_error();
    const int r = SSL_shutdown(ssl_.get());
    if (r >= 0) return tls_step::done;  // 0: ours sent, the peer's not yet seen
    return failure(r, ec, false);
  }

 private:
  tls_step failure(int r, std::error_code& ec, bool handshaking) {
    switch (SSL_get_error(ssl_.get(), r)) {
      case SSL_ERROR_WANT_READ:
        return tls_step::want_input;
      case SSL_ERROR_ZERO_RETURN:
        return tls_step::closed;
      default:
        break;
    }
    const std::error_category& cat = handshaking ? handshake_category() : openssl_category();
    const unsigned long e = ERR_peek_error();
    const long verify = SSL_get_verify_result(ssl_.get());
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
        verify != X509_V_OK) {
      ERR_clear_error();
      ec = std::error_code(static_cast<int>(verify), verify_category());
    } else {
      // With the queues a bare SSL_ERROR_SYSCALL is the input's end.
      ec = take_error(cat, ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNEXPECTED_EOF_WHILE_READING));
    }
    return tls_step::failed;
  }

  // Before ssl_, whose BIOs point at them: destroyed after it.
  cipher_queue in_, out_;
  std::unique_ptr<SSL, ssl_free> ssl_;
  tls_role role_;
};

class openssl_context final : public tls_engine_context {
 public:
  openssl_context(SSL_CTX* ctx, tls_role role, std::string alpn) noexcept
      : ctx_(ctx), role_(role), alpn_(std::move(alpn)) {}

  std::error_code configure(const tls_options& o) {
    SSL_CTX* c = ctx_.get();
    if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) return last_error();
    // Sends may move (a queued send's bytes are copied before they are
    // encrypted, and a retried write resumes from the stream's own copy).
    SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // TLS 1.2 renegotiation could make a write wait for the peer's records.
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
    if (!o.certificate_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(c, o.certificate_file.c_str()) != 1)
        return last_error();
      const std::string& key = o.private_key_file.empty() ? o.certificate_file : o.private_key_file;
      if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) return last_error();
      if (SSL_CTX_check_private_key(c) != 1) return last_error();
    } else if (role_ == tls_role::server) {
      return make_error_code(error::invalid_argument);  // a server needs a certificate
    }
    if (o.verify_peer) {
      if (!o.ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(c, o.ca_file.c_str(), nullptr) != 1) return last_error();
      } else if (SSL_CTX_set_default_verify_paths(c) != 1) {
        return last_error();
      }
      SSL_CTX_set_verify(c,
                         role_ == tls_role::server
                             ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                             : SSL_VERIFY_PEER,
                         nullptr);
    } else {
      SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    }
    if (!alpn_.empty()) {
      if (role_ == tls_role::client) {
        // Unusually, 0 is success here.
        if (SSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(alpn_.data()),
                                    static_cast<unsigned int>(alpn_.size())) != 0)
          return last_error();
      } else {
        SSL_CTX_set_alpn_select_cb(c, &select_alpn, this);
      }
    }
    return {};
  }

  std::unique_ptr<tls_session> new_session(std::error_code& ec) override {
    std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx_.get()));
    if (!ssl) {
      ec = last_error();
      return nullptr;
    }
    if (role_ == tls_role::client) {
      SSL_set_connect_state(ssl.get());
    } else {
      SSL_set_accept_state(ssl.get());
    }
    auto session = std::make_unique<openssl_session>(ssl.release(), role_);
    if ((ec = session->attach_queues())) return nullptr;
    return session;
  }

 private:
  // The server's choice: its first protocol the client also offers.
  static int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                         const unsigned char* in, unsigned int inlen, void* arg) {
    auto* self = static_cast<openssl_context*>(arg);
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(
            &chosen, outlen, reinterpret_cast<const unsigned char*>(self->alpn_.data()),
            static_cast<unsigned int>(self->alpn_.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
      return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
  }

  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx_;
  tls_role role_;
  std::string alpn_;  // wire format: length-prefixed names
};

}  // namespace

std::shared_ptr<tls_engine_context> make_tls_engine(const tls_options& options,
                                                    std::error_code& ec) {
  std::string alpn;
  for (const std::string& p : options.alpn) {
    if (p.empty() || p.size() > 255) {
      ec = make_error_code(error::invalid_argument);
      return nullptr;
    }
    alpn.push_back(static_cast<char>(p.size()));
    alpn += p;
  }
  ERR_clear_error();
  SSL_CTX* raw =
      SSL_CTX_new(options.role == tls_role::client ? TLS_client_method() : TLS_server_method());
  if (raw == nullptr) {
    ec = last_error();
    return nullptr;
  }
  auto ctx = std::make_shared<openssl_context>(raw, options.role, std::move(alpn));
  if ((ec = ctx->configure(options))) return nullptr;
  return ctx;
}

}  // namespace proact::detail
