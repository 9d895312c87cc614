// The entry point of the per-backend suites (proact_conformance, proact_loop):
// picks the backend under test, then runs GoogleTest.
//
//   proact_conformance --backend=epoll [--golden-dir=DIR] [gtest flags]
//   PROACT_BACKEND=epoll proact_loop
//
// The command-line flag wins over the environment variable; with neither,
// the platform default is tested. --golden-dir names the directory of the
// expected golden traces (tests/conformance/golden; under Wine a Windows
// path such as Z:/...); without it the source directory compiled in is used.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "descriptor_leak_check.hpp"
#include "fixture.hpp"
#include "platform.hpp"
#include "trace.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  proact_test::install_descriptor_leak_check();

  std::string backend_name = proact_test::environment_variable("PROACT_BACKEND");
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    constexpr std::string_view flag = "--backend=";
    constexpr std::string_view golden = "--golden-dir=";
    if (arg.substr(0, flag.size()) == flag) {
      backend_name = std::string(arg.substr(flag.size()));
    } else if (arg.substr(0, golden.size()) == golden) {
      proact_test::set_golden_directory(std::string(arg.substr(golden.size())));
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
      std::fprintf(stderr,
                   "usage: %s [--backend=epoll|io_uring|iocp] [--golden-dir=DIR] [gtest flags]\n",
                   argv[0]);
      return 2;
    }
  }

  std::error_code ec;
  const proact::backend_kind kind = proact::backend_from_string(backend_name, ec);
  if (ec) {
    std::fprintf(stderr, "%s: unknown backend '%s'\n", argv[0], backend_name.c_str());
    return 2;
  }
  proact_test::set_backend_under_test(kind);

  proact::port probe;
  if (auto open_error = probe.open(proact_test::options())) {
    // A machine that cannot run the backend at all (io_uring disabled by
    // sysctl or seccomp, say) skips every case, saying why; any other
    // failure to open is an error.
    if (open_error == proact::errc::backend_unavailable) {
      const std::string reason =
          "backend '" + backend_name +
          "' is not available on this machine: " + proact_test::describe(open_error);
      std::printf("proact conformance: %s; every case is skipped\n", reason.c_str());
      proact_test::set_backend_unavailable(reason);
      return RUN_ALL_TESTS();
    }
    std::fprintf(stderr, "%s: cannot open a port with backend '%s': %s\n", argv[0],
                 backend_name.c_str(), proact_test::describe(open_error).c_str());
    return 1;
  }
  std::printf(
      "proact conformance: backend=%s (requested '%s'), platform=%s, concurrency(0)=%u, "
      "stress operations=%zu\n",
      std::string(proact::to_string(probe.backend())).c_str(), backend_name.c_str(),
      proact_test::platform_description().c_str(), probe.concurrency(),
      proact_test::stress_operation_count());
  std::fflush(stdout);
  if (const std::error_code close_error = probe.close()) {
    std::fprintf(stderr, "%s: closing the probe port: %s\n", argv[0],
                 proact_test::describe(close_error).c_str());
    return 1;
  }

  return RUN_ALL_TESTS();
}
