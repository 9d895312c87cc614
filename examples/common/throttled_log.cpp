#include "throttled_log.hpp"

#include <cstdio>

namespace examples {

void throttled_log::print(const std::string& line) {
  const auto now = std::chrono::steady_clock::now();
  std::string text;
  {
    std::lock_guard guard(lock_);
    if (printed_ && now - last_ < interval_) {
      ++dropped_;
      return;
    }
    text = line;
    if (dropped_ != 0) text += " (and " + std::to_string(dropped_) + " more like it not shown)";
    printed_ = true;
    last_ = now;
    dropped_ = 0;
  }
  text += '\n';
  std::fputs(text.c_str(), stderr);
}

}  // namespace examples
