#include "descriptor_leak_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "platform.hpp"

namespace proact_test {

namespace {

// Descriptors that were open before the test and are not now; sorted input.
std::vector<std::string> new_descriptors(const std::vector<std::string>& before,
                                         const std::vector<std::string>& after) {
  std::vector<std::string> added;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  return added;
}

class descriptor_leak_check : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override {
    enabled_ = list_open_descriptors(before_);
    std::sort(before_.begin(), before_.end());
  }

  void OnTestEnd(const ::testing::TestInfo&) override {
    if (!enabled_) return;
    std::vector<std::string> after;
    // A descriptor released by another thread just after the test returned
    // (a pool thread finishing) is not a leak: give it a moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
      list_open_descriptors(after);
      std::sort(after.begin(), after.end());
      if (after.size() <= before_.size() || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (after.size() <= before_.size()) return;
    std::string list;
    for (const std::string& d : new_descriptors(before_, after)) list += "\n  " + d;
    ADD_FAILURE() << "descriptor leak: " << before_.size() << " descriptors open before the test, "
                  << after.size() << " after; new ones:" << list;
  }

 private:
  bool enabled_ = false;
  std::vector<std::string> before_;
};

}  // namespace

void install_descriptor_leak_check() {
  // GoogleTest owns (and deletes) the listener.
  ::testing::UnitTest::GetInstance()->listeners().Append(new descriptor_leak_check);
}

}  // namespace proact_test
