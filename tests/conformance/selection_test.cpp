// Backend selection when io_uring cannot run: asking for it
// explicitly fails with backend_unavailable, and the default falls back.
// CTest runs this suite alone as selection.io_uring_disabled, with
// PROACT_IO_URING_DISABLE=1 (io_uring then behaves as on a machine where it
// is disabled) and PROACT_BACKEND empty; the conformance runs exclude it.
#include <string>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {

bool io_uring_disabled_by_environment() {
  const std::string value = environment_variable("PROACT_IO_URING_DISABLE");
  return !value.empty() && value != "0";
}

TEST(BackendSelection, UnavailableIoUringFailsExplicitlyAndTheDefaultFallsBack) {
  if (!io_uring_disabled_by_environment())
    GTEST_SKIP() << "needs PROACT_IO_URING_DISABLE=1 (CTest: selection.io_uring_disabled)";
  proact::port_options ask;
  ask.backend = proact::backend_kind::io_uring;
  proact::port explicit_port;
  const std::error_code ec = explicit_port.open(ask);
  EXPECT_ERRC(ec, backend_unavailable);
  EXPECT_FALSE(ec.message().empty());
  EXPECT_FALSE(explicit_port.is_open());

  proact::port fallback;
  ASSERT_OK(fallback.open(proact::port_options{}));  // automatic, PROACT_BACKEND empty
  EXPECT_NE(fallback.backend(), proact::backend_kind::io_uring);
  EXPECT_NE(fallback.backend(), proact::backend_kind::automatic);
  // The fallback port works.
  tcp_pair pair;
  ASSERT_TRUE(connect_pair(fallback, pair));
  ASSERT_TRUE(send_all(fallback, pair.client, "ok", 2));
  char in[2] = {};
  ASSERT_TRUE(recv_exactly(fallback, pair.server, in, 2));
  EXPECT_EQ(std::string(in, 2), "ok");
}

}  // namespace
}  // namespace proact_test
