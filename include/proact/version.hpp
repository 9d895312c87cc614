// proact's version. These macros are the one place the version is written:
// CMake reads them for project(VERSION), the package files and the shared
// library's version, so the header and the build always agree.
#pragma once

#include "proact/export.hpp"

#define PROACT_VERSION_MAJOR 0
#define PROACT_VERSION_MINOR 2
#define PROACT_VERSION_PATCH 0

#define PROACT_DETAIL_STR_(x) #x
#define PROACT_DETAIL_STR(x) PROACT_DETAIL_STR_(x)
// "0.2.0"
#define PROACT_VERSION_STRING             \
  PROACT_DETAIL_STR(PROACT_VERSION_MAJOR) \
  "." PROACT_DETAIL_STR(PROACT_VERSION_MINOR) "." PROACT_DETAIL_STR(PROACT_VERSION_PATCH)
// One number that grows with every release: 0.2.0 is 200, 1.4.3 is 10403.
#define PROACT_VERSION \
  (PROACT_VERSION_MAJOR * 10000 + PROACT_VERSION_MINOR * 100 + PROACT_VERSION_PATCH)

namespace proact {

// The version of the library the program runs with ("0.2.0"): with a shared
// library it can differ from PROACT_VERSION_STRING, the headers' version.
PROACT_API const char* version() noexcept;

}  // namespace proact
