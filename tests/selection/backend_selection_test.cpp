// Backend selection on Linux: port_options, PROACT_BACKEND, the documented
// default (epoll), and the io_uring-unavailable path, forced with
// PROACT_IO_URING_DISABLE=1 as on a machine where io_uring is disabled.
//
// The one backend-selection test: a separate executable (not part of the
// per-backend conformance suite), since it changes the environment of its own
// process. It borrows the conformance suite's helpers for a round trip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "../conformance/fixture.hpp"
#include "proact/proact.hpp"

namespace {

// Sets (or, with nullptr, unsets) an environment variable for one test.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_old_ = true;
      old_ = old;
    }
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
  ~scoped_env() {
    if (had_old_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_old_ = false;
  std::string old_;
};

// The backend a port opened with `options` gets, or the error.
std::error_code open_port(proact::port_options options, proact::backend_kind& kind) {
  proact::port p;
  std::error_code ec = p.open(options);
  kind = p.backend();
  return ec;
}

class BackendSelection : public ::testing::Test {
 protected:
  // Every test starts from a clean environment.
  scoped_env backend_{"PROACT_BACKEND", nullptr};
  scoped_env disable_{"PROACT_IO_URING_DISABLE", nullptr};
};

TEST_F(BackendSelection, DefaultIsEpoll) {
  proact::backend_kind kind{};
  ASSERT_FALSE(open_port({}, kind));
  EXPECT_EQ(kind, proact::backend_kind::epoll);
}

TEST_F(BackendSelection, EnvironmentPicksTheBackendForAutomatic) {
  proact::backend_kind kind{};
  {
    scoped_env env("PROACT_BACKEND", "epoll");
    ASSERT_FALSE(open_port({}, kind));
    EXPECT_EQ(kind, proact::backend_kind::epoll);
  }
#if defined(PROACT_HAVE_IO_URING)
  {
    scoped_env env("PROACT_BACKEND", "io_uring");
    const std::error_code ec = open_port({}, kind);
    if (ec) GTEST_SKIP() << "io_uring cannot run on this machine: " << ec.message();
    EXPECT_EQ(kind, proact::backend_kind::io_uring);
  }
#endif
  {
    scoped_env env("PROACT_BACKEND", "no-such-backend");
    EXPECT_EQ(open_port({}, kind), proact::errc::invalid_argument);
  }
}

TEST_F(BackendSelection, OptionsWinOverTheEnvironment) {
  scoped_env env("PROACT_BACKEND", "io_uring");
  proact::backend_kind kind{};
  ASSERT_FALSE(open_port({proact::backend_kind::epoll, 0}, kind));
  EXPECT_EQ(kind, proact::backend_kind::epoll);
}

#if defined(PROACT_HAVE_IO_URING)
TEST_F(BackendSelection, ExplicitIoUringOpensWhenAvailable) {
  proact::backend_kind kind{};
  const std::error_code ec = open_port({proact::backend_kind::io_uring, 0}, kind);
  if (ec) {
    // A real refusal says so, and keeps the errno that explains it.
    EXPECT_EQ(ec, proact::errc::backend_unavailable) << ec.message();
    GTEST_SKIP() << "io_uring cannot run on this machine: " << ec.message();
  }
  EXPECT_EQ(kind, proact::backend_kind::io_uring);
}
#endif

TEST_F(BackendSelection, UnavailableIoUringFailsWhenAskedForExplicitly) {
  scoped_env disable("PROACT_IO_URING_DISABLE", "1");
  proact::port p;
  const std::error_code ec = p.open({proact::backend_kind::io_uring, 0});
  EXPECT_EQ(ec, proact::errc::backend_unavailable) << ec.message();
  EXPECT_FALSE(p.is_open());
  EXPECT_FALSE(ec.message().empty());
}

TEST_F(BackendSelection, UnavailableIoUringFailsWhenAskedForThroughTheEnvironment) {
  scoped_env disable("PROACT_IO_URING_DISABLE", "1");
  scoped_env env("PROACT_BACKEND", "io_uring");
  proact::backend_kind kind{};
  EXPECT_EQ(open_port({}, kind), proact::errc::backend_unavailable);
}

TEST_F(BackendSelection, UnavailableIoUringLeavesTheDefaultOnEpoll) {
  scoped_env disable("PROACT_IO_URING_DISABLE", "1");
  proact::backend_kind kind{};
  ASSERT_FALSE(open_port({}, kind));
  EXPECT_EQ(kind, proact::backend_kind::epoll);

  // And that port works: a post comes back, a connection carries bytes.
  proact::port p;
  ASSERT_FALSE(p.open({}));
  ASSERT_FALSE(p.post(42, 7, nullptr));
  proact::completion c;
  ASSERT_FALSE(p.wait(c, proact::timeout{5000}));
  EXPECT_EQ(c.key, 42u);
  EXPECT_EQ(c.bytes, 7u);
  proact_test::tcp_pair pair;
  ASSERT_TRUE(proact_test::connect_pair(p, pair));
  ASSERT_TRUE(proact_test::send_all(p, pair.client, "ok", 2));
  char in[2] = {};
  ASSERT_TRUE(proact_test::recv_exactly(p, pair.server, in, 2));
  EXPECT_EQ(std::string(in, 2), "ok");
}

TEST_F(BackendSelection, DisableSwitchIsOffForZeroOrEmpty) {
#if defined(PROACT_HAVE_IO_URING)
  for (const char* value : {"0", ""}) {
    scoped_env disable("PROACT_IO_URING_DISABLE", value);
    proact::backend_kind kind{};
    const std::error_code ec = open_port({proact::backend_kind::io_uring, 0}, kind);
    if (ec) GTEST_SKIP() << "io_uring cannot run on this machine: " << ec.message();
    EXPECT_EQ(kind, proact::backend_kind::io_uring) << "PROACT_IO_URING_DISABLE='" << value << "'";
  }
#else
  GTEST_SKIP() << "built without liburing";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
