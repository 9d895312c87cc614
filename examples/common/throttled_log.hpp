// A log line that repeats at most once per interval. A server out of
// descriptors fails every accept it tries; a line for each failure would
// flood its log while saying nothing new.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace examples {

class throttled_log {
 public:
  explicit throttled_log(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // Prints `line` to stderr unless a line went out less than the interval
  // ago; a line dropped is counted, and the next line printed says how many
  // were. Safe from any thread.
  void print(const std::string& line);

 private:
  const std::chrono::steady_clock::duration interval_;
  std::mutex lock_;
  bool printed_ = false;
  std::chrono::steady_clock::time_point last_;
  std::uint64_t dropped_ = 0;
};

}  // namespace examples
