// The SChannel TLS engine (secur32): a security context fed from memory. The
// engine never sees the socket; tls_stream moves the ciphertext.
//
// Credentials are SCHANNEL_CRED with TLS 1.2 (the protocol both Windows and
// Wine's SChannel speak through that structure). The peer's certificate is
// checked by the engine itself (SCH_CRED_MANUAL_CRED_VALIDATION): the chain
// is built with CertGetCertificateChain and checked with
// CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL) and the host name;
// with a CA file, its root must be one of the file's certificates.
//
// Errors keep SChannel's own codes (SEC_E_*, HRESULTs): in "schannel", or,
// while handshaking, in "schannel handshake" (also equivalent to
// errc::tls_handshake_failed); a failed certificate check is the CERT_E_* /
// TRUST_E_* code in "schannel verify". Truncation is SEC_E_INCOMPLETE_MESSAGE
// at the transport's end.
#ifndef SECURITY_WIN32
#define SECURITY_WIN32
#endif
#include <windows.h>
// clang-format off: the SSPI headers need windows.h first.
#include <schannel.h>
#include <security.h>
#include <sspi.h>
#include <wincrypt.h>
// clang-format on

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/tls_engine.hpp"
#include "common/tls_error_category.hpp"
#include "proact/error.hpp"

namespace proact::detail {
namespace {

int as_int(SECURITY_STATUS s) noexcept {
  return static_cast<int>(s);
}

std::string status_text(int code) {
  char* text = nullptr;
  const DWORD n = FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, static_cast<DWORD>(code), 0, reinterpret_cast<char*>(&text), 0, nullptr);
  std::string s;
  if (n != 0 && text != nullptr) {
    s.assign(text, n);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  }
  if (text != nullptr) LocalFree(text);
  char hex[16];
  const char* digits = "0123456789ABCDEF";
  auto v = static_cast<unsigned long>(static_cast<unsigned int>(code));
  hex[0] = '0';
  hex[1] = 'x';
  for (int i = 0; i < 8; ++i) hex[2 + i] = digits[(v >> (28 - 4 * i)) & 0xF];
  hex[10] = '\0';
  return s.empty() ? std::string("SChannel status ") + hex : s + " (" + hex + ")";
}

bool is_truncation(int code) noexcept {
  return code == as_int(SEC_E_INCOMPLETE_MESSAGE);
}

constexpr tls_engine_codes schannel_codes{
    "schannel", "schannel handshake", "schannel verify", status_text, status_text, is_truncation,
    0};
const tls_error_category schannel_category_instance{schannel_codes,
                                                    tls_error_category::role::plain};
const tls_error_category handshake_category_instance{schannel_codes,
                                                     tls_error_category::role::handshake};
const tls_error_category verify_category_instance{schannel_codes, tls_error_category::role::verify};

const std::error_category& schannel_category() noexcept {
  return schannel_category_instance;
}
const std::error_category& handshake_category() noexcept {
  return handshake_category_instance;
}
const std::error_category& verify_category() noexcept {
  return verify_category_instance;
}

std::error_code sec_error(SECURITY_STATUS s) noexcept {
  return {as_int(s), schannel_category()};
}
std::error_code last_error() noexcept {
  const DWORD e = GetLastError();
  return native_error(static_cast<int>(e != 0 ? e : ERROR_INVALID_DATA));
}

std::wstring widen(std::string_view s) {
  if (s.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<std::size_t>(n > 0 ? n : 0), L'\0');
  if (n > 0) MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

std::error_code read_whole_file(const std::string& path, std::vector<unsigned char>& out) {
  const std::wstring wpath = widen(path);
  HANDLE h = CreateFileW(wpath.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return last_error();
  std::error_code ec;
  LARGE_INTEGER size;
  if (!GetFileSizeEx(h, &size) || size.QuadPart > (64 << 20)) {
    ec = size.QuadPart > (64 << 20) ? make_error_code(error::buffer_too_large) : last_error();
  } else {
    out.resize(static_cast<std::size_t>(size.QuadPart));
    DWORD got = 0;
    if (!out.empty() && (!ReadFile(h, out.data(), static_cast<DWORD>(out.size()), &got, nullptr) ||
                         got != out.size()))
      ec = last_error();
  }
  CloseHandle(h);
  return ec;
}

struct store_close {
  void operator()(HCERTSTORE s) const noexcept { CertCloseStore(s, 0); }
};
using store_ptr = std::unique_ptr<void, store_close>;

struct cert_free {
  void operator()(const CERT_CONTEXT* c) const noexcept { CertFreeCertificateContext(c); }
};
using cert_ptr = std::unique_ptr<const CERT_CONTEXT, cert_free>;

// The certificates of a PEM bundle in an in-memory store.
std::error_code load_pem_store(const std::string& path, store_ptr& out) {
  std::vector<unsigned char> text;
  if (std::error_code ec = read_whole_file(path, text)) return ec;
  store_ptr store(CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, nullptr));
  if (!store) return last_error();
  const std::string_view all(reinterpret_cast<const char*>(text.data()), text.size());
  constexpr std::string_view begin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view end = "-----END CERTIFICATE-----";
  std::size_t at = 0;
  int count = 0;
  std::vector<unsigned char> der;
  for (;;) {
    const std::size_t b = all.find(begin, at);
    if (b == std::string_view::npos) break;
    const std::size_t e = all.find(end, b);
    if (e == std::string_view::npos) break;
    const std::string_view block = all.substr(b, e + end.size() - b);
    at = e + end.size();
    DWORD size = 0;
    if (!CryptStringToBinaryA(block.data(), static_cast<DWORD>(block.size()),
                              CRYPT_STRING_BASE64HEADER, nullptr, &size, nullptr, nullptr))
      return last_error();
    der.resize(size);
    if (!CryptStringToBinaryA(block.data(), static_cast<DWORD>(block.size()),
                              CRYPT_STRING_BASE64HEADER, der.data(), &size, nullptr, nullptr))
      return last_error();
    if (!CertAddEncodedCertificateToStore(store.get(), X509_ASN_ENCODING, der.data(), size,
                                          CERT_STORE_ADD_USE_EXISTING, nullptr))
      return last_error();
    ++count;
  }
  if (count == 0) return native_error(static_cast<int>(CRYPT_E_NOT_FOUND));
  out = std::move(store);
  return {};
}

// The certificate with a private key in a PKCS#12 (PFX) file without a
// password.
std::error_code load_pfx(const std::string& path, store_ptr& store, cert_ptr& cert) {
  std::vector<unsigned char> bytes;
  if (std::error_code ec = read_whole_file(path, bytes)) return ec;
  CRYPT_DATA_BLOB blob{static_cast<DWORD>(bytes.size()), bytes.data()};
  if (!PFXIsPFXBlob(&blob)) return native_error(static_cast<int>(CRYPT_E_BAD_ENCODE));
  store_ptr s(PFXImportCertStore(&blob, L"", 0));
  if (!s) return last_error();
  const CERT_CONTEXT* c = nullptr;
  while ((c = CertEnumCertificatesInStore(s.get(), c)) != nullptr) {
    DWORD size = 0;
    if (CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size)) {
      cert.reset(CertDuplicateCertificateContext(c));
      CertFreeCertificateContext(c);
      store = std::move(s);
      return {};
    }
  }
  return native_error(static_cast<int>(CRYPT_E_NO_KEY_PROPERTY));
}

struct sec_free {
  void operator()(void* p) const noexcept { FreeContextBuffer(p); }
};

class schannel_context final : public tls_engine_context {
 public:
  schannel_context(tls_role role, bool verify, std::vector<unsigned char> alpn) noexcept
      : role_(role), verify_(verify), alpn_(std::move(alpn)) {}
  ~schannel_context() override {
    if (have_cred_) FreeCredentialsHandle(&cred_);
  }

  std::error_code configure(const tls_options& o) {
    if (!o.private_key_file.empty()) return make_error_code(error::invalid_argument);
    if (!o.certificate_file.empty()) {
      if (std::error_code ec = load_pfx(o.certificate_file, own_store_, own_cert_)) return ec;
    } else if (role_ == tls_role::server) {
      return make_error_code(error::invalid_argument);  // a server needs a certificate
    }
    if (verify_ && !o.ca_file.empty()) {
      if (std::error_code ec = load_pem_store(o.ca_file, ca_store_)) return ec;
    }
    SCHANNEL_CRED cred{};
    cred.dwVersion = SCHANNEL_CRED_VERSION;
    const CERT_CONTEXT* certs[1] = {own_cert_.get()};
    if (own_cert_) {
      cred.cCreds = 1;
      cred.paCred = certs;
    }
    cred.grbitEnabledProtocols =
        role_ == tls_role::client ? SP_PROT_TLS1_2_CLIENT : SP_PROT_TLS1_2_SERVER;
    cred.dwFlags = SCH_USE_STRONG_CRYPTO;
    if (role_ == tls_role::client) {
      // The engine checks the server itself; no certificate picked for us.
      cred.dwFlags |= SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    }
    TimeStamp expiry;
    const SECURITY_STATUS s = AcquireCredentialsHandleW(
        nullptr, const_cast<wchar_t*>(UNISP_NAME_W),
        role_ == tls_role::client ? SECPKG_CRED_OUTBOUND : SECPKG_CRED_INBOUND, nullptr, &cred,
        nullptr, nullptr, &cred_, &expiry);
    if (s != SEC_E_OK) return sec_error(s);
    have_cred_ = true;
    return {};
  }

  std::unique_ptr<tls_session> new_session(std::error_code& ec) override;

  tls_role role_;
  bool verify_;
  std::vector<unsigned char> alpn_;  // a SEC_APPLICATION_PROTOCOLS blob, or empty
  store_ptr own_store_;
  cert_ptr own_cert_;
  store_ptr ca_store_;  // null: the system's store
  CredHandle cred_{};
  bool have_cred_ = false;
};

class schannel_session final : public tls_session {
 public:
  explicit schannel_session(schannel_context& c) : c_(c) {
    in_.reserve(48 * 1024);
    out_.reserve(96 * 1024);
    plain_.reserve(tls_record_plaintext);
  }
  ~schannel_session() override {
    if (have_ctx_) DeleteSecurityContext(&ctx_);
  }

  std::error_code set_host_name(std::string_view name) override {
    if (c_.role_ != tls_role::client || name.empty() || name.size() > 253)
      return make_error_code(error::invalid_argument);
    host_ = widen(name);
    return {};
  }

  std::string alpn_protocol() const override {
    if (!have_ctx_ || c_.alpn_.empty()) return {};
    SecPkgContext_ApplicationProtocol p{};
    if (QueryContextAttributesW(const_cast<CtxtHandle*>(&ctx_), SECPKG_ATTR_APPLICATION_PROTOCOL,
                                &p) != SEC_E_OK ||
        p.ProtoNegoStatus != SecApplicationProtocolNegotiationStatus_Success)
      return {};
    return std::string(reinterpret_cast<const char*>(p.ProtocolId), p.ProtocolIdSize);
  }

  void feed(const void* data, std::size_t size) override {
    const auto* p = static_cast<const unsigned char*>(data);
    in_.insert(in_.end(), p, p + size);
  }
  void feed_end() override { ended_ = true; }
  std::size_t pending_output() const override { return out_.size() - out_pos_; }
  std::size_t take_output(void* data, std::size_t size) override {
    const std::size_t n = std::min(size, out_.size() - out_pos_);
    std::memcpy(data, out_.data() + out_pos_, n);
    out_pos_ += n;
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
    }
    return n;
  }

  tls_step handshake(std::error_code& ec) override {
    const tls_step r = negotiate(ec, true);
    if (r != tls_step::done) return r;
    if (c_.verify_ && !verified_) {
      verified_ = true;
      if ((ec = verify_peer())) {
        send_alert(ec);
        return tls_step::failed;
      }
    }
    if (QueryContextAttributesW(&ctx_, SECPKG_ATTR_STREAM_SIZES, &sizes_) != SEC_E_OK) {
      ec = {as_int(SEC_E_INTERNAL_ERROR), handshake_category()};
      return tls_step::failed;
    }
    return tls_step::done;
  }

  tls_step read(void* data, std::size_t size, std::size_t& n, std::error_code& ec) override {
    n = 0;
    if (plain_pos_ < plain_.size()) {
      n = std::min(size, plain_.size() - plain_pos_);
      if (n != 0) std::memcpy(data, plain_.data() + plain_pos_, n);
      plain_pos_ += n;
      return tls_step::done;
    }
    for (;;) {
      if (peer_closed_) return tls_step::closed;
      if (renegotiating_) {
        const tls_step r = negotiate(ec, false);
        if (r != tls_step::done) return r;
        renegotiating_ = false;
      }
      if (in_.empty()) return need_input(ec);
      SecBuffer b[4] = {};
      b[0].BufferType = SECBUFFER_DATA;
      b[0].pvBuffer = in_.data();
      b[0].cbBuffer = static_cast<unsigned long>(in_.size());
      for (int i = 1; i < 4; ++i) b[i].BufferType = SECBUFFER_EMPTY;
      SecBufferDesc desc{SECBUFFER_VERSION, 4, b};
      const SECURITY_STATUS s = DecryptMessage(&ctx_, &desc, 0, nullptr);
      if (s == SEC_E_INCOMPLETE_MESSAGE) return need_input(ec);
      if (s != SEC_E_OK && s != SEC_I_CONTEXT_EXPIRED && s != SEC_I_RENEGOTIATE) {
        ec = sec_error(s);
        return tls_step::failed;
      }
      const SecBuffer* plain = nullptr;
      std::size_t extra = 0;
      for (const SecBuffer& x : b) {
        if (x.BufferType == SECBUFFER_DATA) plain = &x;
        if (x.BufferType == SECBUFFER_EXTRA) extra = x.cbBuffer;
      }
      if (plain != nullptr && plain->cbBuffer != 0) {
        const auto* p = static_cast<const unsigned char*>(plain->pvBuffer);
        n = std::min<std::size_t>(size, plain->cbBuffer);
        if (n != 0) std::memcpy(data, p, n);
        plain_.assign(p + n, p + plain->cbBuffer);
        plain_pos_ = 0;
      }
      // The undecrypted rest moves to the front (the record was decrypted in
      // place, and what it held is copied out above).
      std::memmove(in_.data(), in_.data() + in_.size() - extra, extra);
      in_.resize(extra);
      if (s == SEC_I_CONTEXT_EXPIRED) peer_closed_ = true;
      // A handshake message after the handshake (a TLS 1.3 session ticket):
      // the rest of the input goes back to the security context.
      if (s == SEC_I_RENEGOTIATE) renegotiating_ = true;
      // Bytes were decrypted: taken (some or all), or, with `size` 0, kept.
      if (plain != nullptr && plain->cbBuffer != 0) return tls_step::done;
    }
  }

  tls_step write(const void* data, std::size_t size, std::error_code& ec) override {
    const auto* p = static_cast<const unsigned char*>(data);
    while (size != 0) {
      const std::size_t k = std::min<std::size_t>(size, sizes_.cbMaximumMessage);
      compact_output();
      const std::size_t at = out_.size();
      out_.resize(at + sizes_.cbHeader + k + sizes_.cbTrailer);
      unsigned char* rec = out_.data() + at;
      std::memcpy(rec + sizes_.cbHeader, p, k);
      SecBuffer b[4] = {};
      b[0] = {sizes_.cbHeader, SECBUFFER_STREAM_HEADER, rec};
      b[1] = {static_cast<unsigned long>(k), SECBUFFER_DATA, rec + sizes_.cbHeader};
      b[2] = {sizes_.cbTrailer, SECBUFFER_STREAM_TRAILER, rec + sizes_.cbHeader + k};
      b[3] = {0, SECBUFFER_EMPTY, nullptr};
      SecBufferDesc desc{SECBUFFER_VERSION, 4, b};
      const SECURITY_STATUS s = EncryptMessage(&ctx_, 0, &desc, 0);
      if (s != SEC_E_OK) {
        out_.resize(at);
        ec = sec_error(s);
        return tls_step::failed;
      }
      out_.resize(at + b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer);
      p += k;
      size -= k;
    }
    return tls_step::done;
  }

  tls_step shutdown(std::error_code& ec) override {
    DWORD type = SCHANNEL_SHUTDOWN;
    SecBuffer in{static_cast<unsigned long>(sizeof type), SECBUFFER_TOKEN, &type};
    SecBufferDesc in_desc{SECBUFFER_VERSION, 1, &in};
    SECURITY_STATUS s = ApplyControlToken(&ctx_, &in_desc);
    if (s != SEC_E_OK) {
      ec = sec_error(s);
      return tls_step::failed;
    }
    SecBuffer out{0, SECBUFFER_TOKEN, nullptr};
    SecBufferDesc out_desc{SECBUFFER_VERSION, 1, &out};
    ULONG attrs = 0;
    if (c_.role_ == tls_role::client) {
      s = InitializeSecurityContextW(&c_.cred_, &ctx_, target(), client_flags(), 0, 0, nullptr, 0,
                                     &ctx_, &out_desc, &attrs, nullptr);
    } else {
      s = AcceptSecurityContext(&c_.cred_, &ctx_, nullptr, server_flags(), 0, &ctx_, &out_desc,
                                &attrs, nullptr);
    }
    append_token(out);
    if (FAILED(s)) {
      ec = sec_error(s);
      return tls_step::failed;
    }
    return tls_step::done;
  }

 private:
  static ULONG client_flags() noexcept {
    return ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY |
           ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_EXTENDED_ERROR |
           ISC_REQ_USE_SUPPLIED_CREDS;
  }
  ULONG server_flags() const noexcept {
    ULONG f = ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY |
              ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM | ASC_REQ_EXTENDED_ERROR;
    if (c_.verify_) f |= ASC_REQ_MUTUAL_AUTH;
    return f;
  }
  wchar_t* target() noexcept { return host_.empty() ? nullptr : host_.data(); }

  tls_step need_input(std::error_code& ec) {
    if (!ended_) return tls_step::want_input;
    ec = sec_error(SEC_E_INCOMPLETE_MESSAGE);  // the transport ended mid-stream
    return tls_step::failed;
  }

  void compact_output() {
    if (out_pos_ == 0) return;
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_pos_));
    out_pos_ = 0;
  }

  // A token SChannel allocated: appended to the output, then freed.
  void append_token(SecBuffer& b) {
    if (b.pvBuffer == nullptr) return;
    std::unique_ptr<void, sec_free> owned(b.pvBuffer);
    if (b.cbBuffer == 0) return;
    compact_output();
    const auto* p = static_cast<const unsigned char*>(b.pvBuffer);
    out_.insert(out_.end(), p, p + b.cbBuffer);
  }

  // Runs InitializeSecurityContextW / AcceptSecurityContext on the input
  // until it completes or needs more; failures in the handshake category
  // while `handshaking` (not for a handshake message after it).
  tls_step negotiate(std::error_code& ec, bool handshaking) {
    const std::error_category& cat = handshaking ? handshake_category() : schannel_category();
    for (;;) {
      const bool client = c_.role_ == tls_role::client;
      const bool first = !have_ctx_;
      if (!client || !first) {
        if (in_.empty()) {
          if (!ended_) return tls_step::want_input;
          ec = {as_int(SEC_E_INCOMPLETE_MESSAGE), cat};
          return tls_step::failed;
        }
      }
      SecBuffer in[3] = {};
      unsigned long in_count = 0;
      if (!client || !first) {
        in[0] = {static_cast<unsigned long>(in_.size()), SECBUFFER_TOKEN, in_.data()};
        in[1] = {0, SECBUFFER_EMPTY, nullptr};
        in_count = 2;
      }
      if (first && !c_.alpn_.empty()) {
        in[in_count++] = {static_cast<unsigned long>(c_.alpn_.size()),
                          SECBUFFER_APPLICATION_PROTOCOLS, c_.alpn_.data()};
      }
      SecBufferDesc in_desc{SECBUFFER_VERSION, in_count, in};
      SecBuffer out[2] = {{0, SECBUFFER_TOKEN, nullptr}, {0, SECBUFFER_ALERT, nullptr}};
      SecBufferDesc out_desc{SECBUFFER_VERSION, 2, out};
      ULONG attrs = 0;
      SECURITY_STATUS s;
      if (client) {
        s = InitializeSecurityContextW(&c_.cred_, first ? nullptr : &ctx_, target(), client_flags(),
                                       0, 0, in_count != 0 ? &in_desc : nullptr, 0, &ctx_,
                                       &out_desc, &attrs, nullptr);
      } else {
        s = AcceptSecurityContext(&c_.cred_, first ? nullptr : &ctx_, &in_desc, server_flags(), 0,
                                  &ctx_, &out_desc, &attrs, nullptr);
      }
      // A context exists once a call succeeded (a failure may leave none).
      if (s == SEC_E_OK || s == SEC_I_CONTINUE_NEEDED || s == SEC_I_INCOMPLETE_CREDENTIALS)
        have_ctx_ = true;
      if (out[1].pvBuffer != nullptr) FreeContextBuffer(out[1].pvBuffer);
      // A client checks the server's certificate as soon as it has it, so
      // that a refusal reaches the server as an alert in place of our
      // Finished (the server's handshake fails as well).
      if (client && handshaking && !first && s == SEC_I_CONTINUE_NEEDED && c_.verify_ &&
          !verified_ && peer_certificate_known()) {
        verified_ = true;
        if (std::error_code v = verify_peer()) {
          if (out[0].pvBuffer != nullptr) FreeContextBuffer(out[0].pvBuffer);
          send_alert(v);
          ec = v;
          return tls_step::failed;
        }
      }
      append_token(out[0]);
      if (s == SEC_E_INCOMPLETE_MESSAGE) {
        if (!ended_) return tls_step::want_input;
        ec = {as_int(s), cat};
        return tls_step::failed;
      }
      if (s != SEC_E_OK && s != SEC_I_CONTINUE_NEEDED && s != SEC_I_INCOMPLETE_CREDENTIALS) {
        ec = {as_int(s), cat};
        return tls_step::failed;
      }
      // Keep what the call did not consume (SECBUFFER_EXTRA: the input's end).
      if (!client || !first) {
        const std::size_t extra = in[1].BufferType == SECBUFFER_EXTRA ? in[1].cbBuffer : 0;
        std::memmove(in_.data(), in_.data() + in_.size() - extra, extra);
        in_.resize(extra);
      }
      if (s == SEC_E_OK) return tls_step::done;
      // SEC_I_INCOMPLETE_CREDENTIALS: the server asked for a certificate we
      // do not have; the next call goes on without one.
      if (s == SEC_I_CONTINUE_NEEDED && in_.empty()) return tls_step::want_input;
    }
  }

  bool peer_certificate_known() noexcept {
    const CERT_CONTEXT* peer = nullptr;
    if (QueryContextAttributesW(&ctx_, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer) != SEC_E_OK ||
        peer == nullptr)
      return false;
    CertFreeCertificateContext(peer);
    return true;
  }

  // Queues a fatal alert for a certificate that did not verify (best
  // effort: the session has failed either way).
  void send_alert(const std::error_code& why) {
    SCHANNEL_ALERT_TOKEN token{};
    token.dwTokenType = SCHANNEL_ALERT;
    token.dwAlertType = TLS1_ALERT_FATAL;
    token.dwAlertNumber = why.value() == as_int(CERT_E_UNTRUSTEDROOT) ? TLS1_ALERT_UNKNOWN_CA
                                                                      : TLS1_ALERT_BAD_CERTIFICATE;
    SecBuffer in{static_cast<unsigned long>(sizeof token), SECBUFFER_TOKEN, &token};
    SecBufferDesc in_desc{SECBUFFER_VERSION, 1, &in};
    if (ApplyControlToken(&ctx_, &in_desc) != SEC_E_OK) return;
    SecBuffer out{0, SECBUFFER_TOKEN, nullptr};
    SecBufferDesc out_desc{SECBUFFER_VERSION, 1, &out};
    ULONG attrs = 0;
    if (c_.role_ == tls_role::client) {
      (void)InitializeSecurityContextW(&c_.cred_, &ctx_, target(), client_flags(), 0, 0, nullptr, 0,
                                       &ctx_, &out_desc, &attrs, nullptr);
    } else {
      (void)AcceptSecurityContext(&c_.cred_, &ctx_, nullptr, server_flags(), 0, &ctx_, &out_desc,
                                  &attrs, nullptr);
    }
    append_token(out);
  }

  // The peer's chain and name, checked as Microsoft's SSL policy does, with
  // a CA file as the only trusted roots.
  std::error_code verify_peer() {
    const CERT_CONTEXT* raw = nullptr;
    const SECURITY_STATUS s = QueryContextAttributesW(&ctx_, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &raw);
    if (s != SEC_E_OK || raw == nullptr)
      return {as_int(s != SEC_E_OK ? s : SEC_E_NO_CREDENTIALS), handshake_category()};
    cert_ptr peer(raw);
    store_ptr extra;
    if (c_.ca_store_) {
      extra.reset(CertOpenStore(CERT_STORE_PROV_COLLECTION, 0, 0, 0, nullptr));
      if (!extra || !CertAddStoreToCollection(extra.get(), c_.ca_store_.get(), 0, 0) ||
          (peer->hCertStore != nullptr &&
           !CertAddStoreToCollection(extra.get(), peer->hCertStore, 0, 0)))
        return {as_int(SEC_E_INTERNAL_ERROR), handshake_category()};
    }
    const bool client = c_.role_ == tls_role::client;
    char server_auth[] = szOID_PKIX_KP_SERVER_AUTH;
    char client_auth[] = szOID_PKIX_KP_CLIENT_AUTH;
    char* usage[1] = {client ? server_auth : client_auth};
    CERT_CHAIN_PARA para{};
    para.cbSize = sizeof para;
    para.RequestedUsage.dwType = USAGE_MATCH_TYPE_OR;
    para.RequestedUsage.Usage.cUsageIdentifier = 1;
    para.RequestedUsage.Usage.rgpszUsageIdentifier = usage;
    const CERT_CHAIN_CONTEXT* chain = nullptr;
    if (!CertGetCertificateChain(nullptr, peer.get(), nullptr,
                                 extra ? extra.get() : peer->hCertStore, &para, 0, nullptr, &chain))
      return {static_cast<int>(GetLastError()), verify_category()};
    std::unique_ptr<const CERT_CHAIN_CONTEXT, decltype(&CertFreeCertificateChain)> owned(
        chain, &CertFreeCertificateChain);
    SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl{};
    ssl.cbSize = sizeof ssl;
    ssl.dwAuthType = client ? AUTHTYPE_SERVER : AUTHTYPE_CLIENT;
    ssl.pwszServerName = client ? target() : nullptr;
    CERT_CHAIN_POLICY_PARA policy{};
    policy.cbSize = sizeof policy;
    // A CA file's root is not in the system's store: the policy is told to
    // accept an unknown root, and the root is checked against the file below.
    policy.dwFlags = c_.ca_store_ ? CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG : 0;
    policy.pvExtraPolicyPara = &ssl;
    CERT_CHAIN_POLICY_STATUS status{};
    status.cbSize = sizeof status;
    if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &policy, &status))
      return {static_cast<int>(GetLastError()), verify_category()};
    if (status.dwError != 0) return {static_cast<int>(status.dwError), verify_category()};
    if (c_.ca_store_) {
      if (chain->cChain == 0 || chain->rgpChain[0]->cElement == 0)
        return {as_int(CERT_E_CHAINING), verify_category()};
      const CERT_SIMPLE_CHAIN* simple = chain->rgpChain[0];
      const CERT_CONTEXT* root = simple->rgpElement[simple->cElement - 1]->pCertContext;
      const CERT_CONTEXT* found = CertFindCertificateInStore(c_.ca_store_.get(), X509_ASN_ENCODING,
                                                             0, CERT_FIND_EXISTING, root, nullptr);
      if (found == nullptr) return {as_int(CERT_E_UNTRUSTEDROOT), verify_category()};
      CertFreeCertificateContext(found);
      // Everything but the unknown root must be clean.
      const DWORD errors =
          simple->TrustStatus.dwErrorStatus &
          ~static_cast<DWORD>(CERT_TRUST_IS_UNTRUSTED_ROOT | CERT_TRUST_REVOCATION_STATUS_UNKNOWN |
                              CERT_TRUST_IS_OFFLINE_REVOCATION);
      if (errors != 0) return {as_int(CERT_E_CHAINING), verify_category()};
    }
    return {};
  }

  schannel_context& c_;
  CtxtHandle ctx_{};
  bool have_ctx_ = false;
  bool ended_ = false;
  bool peer_closed_ = false;
  bool renegotiating_ = false;
  bool verified_ = false;  // the peer's certificate was checked
  std::wstring host_;
  SecPkgContext_StreamSizes sizes_{};
  std::vector<unsigned char> in_;   // ciphertext from the peer not yet consumed
  std::vector<unsigned char> out_;  // ciphertext to send, from out_pos_
  std::size_t out_pos_ = 0;
  std::vector<unsigned char> plain_;  // decrypted bytes the caller has not taken
  std::size_t plain_pos_ = 0;
};

std::unique_ptr<tls_session> schannel_context::new_session(std::error_code&) {
  return std::make_unique<schannel_session>(*this);
}

// The SEC_APPLICATION_PROTOCOLS blob for `protocols`: one ALPN list.
std::vector<unsigned char> alpn_blob(const std::vector<std::string>& protocols) {
  std::vector<unsigned char> list;
  for (const std::string& p : protocols) {
    list.push_back(static_cast<unsigned char>(p.size()));
    list.insert(list.end(), p.begin(), p.end());
  }
  const unsigned long ext = SecApplicationProtocolNegotiationExt_ALPN;
  const auto list_size = static_cast<unsigned short>(list.size());
  const unsigned long lists_size =
      static_cast<unsigned long>(sizeof ext + sizeof list_size + list.size());
  std::vector<unsigned char> blob(sizeof lists_size + lists_size);
  unsigned char* p = blob.data();
  std::memcpy(p, &lists_size, sizeof lists_size);
  p += sizeof lists_size;
  std::memcpy(p, &ext, sizeof ext);
  p += sizeof ext;
  std::memcpy(p, &list_size, sizeof list_size);
  p += sizeof list_size;
  std::memcpy(p, list.data(), list.size());
  return blob;
}

}  // namespace

std::shared_ptr<tls_engine_context> make_tls_engine(const tls_options& options,
                                                    std::error_code& ec) {
  std::size_t total = 0;
  for (const std::string& p : options.alpn) {
    if (p.empty() || p.size() > 255) {
      ec = make_error_code(error::invalid_argument);
      return nullptr;
    }
    total += 1 + p.size();
  }
  if (total > 0xFFFF) {
    ec = make_error_code(error::invalid_argument);
    return nullptr;
  }
  auto ctx = std::make_shared<schannel_context>(
      options.role, options.verify_peer,
      options.alpn.empty() ? std::vector<unsigned char>() : alpn_blob(options.alpn));
  if ((ec = ctx->configure(options))) return nullptr;
  return ctx;
}

}  // namespace proact::detail
