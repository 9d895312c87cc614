#include "proact/version.hpp"

namespace proact {

const char* version() noexcept {
  return PROACT_VERSION_STRING;
}

}  // namespace proact
