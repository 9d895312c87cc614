#include "common/tls_error_category.hpp"

#include "proact/error.hpp"

namespace proact::detail {
namespace {
bool is_condition(const std::error_condition& c, errc e) noexcept {
  return c.category() == condition_category() && c.value() == static_cast<int>(e);
}
}  // namespace

const char* tls_error_category::name() const noexcept {
  switch (role_) {
    case role::plain:
      return codes_.plain_name;
    case role::handshake:
      return codes_.handshake_name;
    case role::verify:
      break;
  }
  return codes_.verify_name;
}

std::string tls_error_category::message(int code) const {
  if (role_ == role::verify)
    return "certificate verification failed: " + codes_.verify_message(code);
  return codes_.message(code);
}

bool tls_error_category::equivalent(int code, const std::error_condition& c) const noexcept {
  switch (role_) {
    case role::verify:
      if (is_condition(c, errc::tls_verification_failed) ||
          is_condition(c, errc::tls_handshake_failed))
        return code != codes_.verify_ok;
      break;
    case role::handshake:
      if (is_condition(c, errc::tls_handshake_failed)) return true;
      [[fallthrough]];
    case role::plain:
      if (is_condition(c, errc::tls_truncated)) return codes_.is_truncation(code);
      break;
  }
  return std::error_category::equivalent(code, c);
}

}  // namespace proact::detail
