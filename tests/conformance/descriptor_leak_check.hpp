// The descriptor leak check: a GoogleTest event listener that lists the
// process's open descriptors before and after each test and fails the test if
// any it opened is still open afterwards. Where the platform has no such list
// (everywhere but Linux) it does nothing.
#pragma once

namespace proact_test {

// Registers the check with GoogleTest; call after InitGoogleTest.
void install_descriptor_leak_check();

}  // namespace proact_test
