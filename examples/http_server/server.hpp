// What every connection of proact-http-server shares: the document root, the
// timeouts and the statistics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "confined_open.hpp"

namespace proact {
class loop;
}

namespace http {

struct statistics {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> ok{0};      // 2xx
  std::atomic<std::uint64_t> errors{0};  // 4xx, 5xx
  std::atomic<std::uint64_t> bytes{0};   // sent, heads included (before encryption)
};

struct timeouts {
  std::chrono::milliseconds header{10000};  // first byte of a request head (or the TLS
                                            // handshake) to its end
  std::chrono::milliseconds idle{60000};    // between requests on a kept-alive connection
  std::chrono::milliseconds send{60000};    // each send (or file chunk) to complete
  std::chrono::milliseconds linger{2000};   // draining after the last answer
};

struct server {
  proact::loop* lp = nullptr;
  std::filesystem::path root;
  document_root confined;
  timeouts limits;
  statistics stats;
};

// Paths are UTF-8 on the wire and in proact::file::open; std::filesystem
// gives them as char8_t so that Windows does not use its ANSI code page.
inline std::string to_utf8(const std::filesystem::path& p) {
  const std::u8string u = p.u8string();
  return std::string(u.begin(), u.end());
}

}  // namespace http
