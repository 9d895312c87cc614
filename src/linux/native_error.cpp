// Native errors on Linux are errno values in std::system_category().
#include "common/native_error.hpp"

#include <cerrno>

#include "proact/error.hpp"

namespace proact {

const std::error_category& native_category() noexcept {
  return std::system_category();
}

namespace detail {
int native_condition(int code) noexcept {
  // ESHUTDOWN is POSIX's (not the C++ library's generic codes).
  if (code == ESHUTDOWN) return static_cast<int>(errc::shut_down);
  return generic_condition(code);
}
}  // namespace detail

}  // namespace proact
