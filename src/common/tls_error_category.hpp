// The error categories of a TLS engine's own codes, one set per engine. Each
// engine keeps its native values (OpenSSL's packed ERR codes, SChannel's
// SECURITY_STATUS) and says how to describe them; the mapping to proact's
// conditions is written here once:
//  - plain: the engine's codes; a truncation (the transport ended without
//    close_notify) compares equal to errc::tls_truncated;
//  - handshake: the same codes, raised while handshaking, so every one also
//    compares equal to errc::tls_handshake_failed;
//  - verify: certificate-check codes, each (but the "ok" value) equal to
//    errc::tls_verification_failed and errc::tls_handshake_failed.
#pragma once

#include <string>
#include <system_error>

namespace proact::detail {

struct tls_engine_codes {
  const char* plain_name;
  const char* handshake_name;
  const char* verify_name;
  std::string (*message)(int code);
  std::string (*verify_message)(int code);
  bool (*is_truncation)(int code) noexcept;
  int verify_ok;  // the verify code that means "no failure"
};

class tls_error_category final : public std::error_category {
 public:
  enum class role { plain, handshake, verify };
  constexpr tls_error_category(const tls_engine_codes& codes, role r) noexcept
      : codes_(codes), role_(r) {}

  const char* name() const noexcept override;
  std::string message(int code) const override;
  bool equivalent(int code, const std::error_condition& c) const noexcept override;

 private:
  const tls_engine_codes& codes_;
  role role_;
};

}  // namespace proact::detail
