// Name resolution: lookups complete through the loop's port, once, with the
// endpoints or a portable error; cancel and stop complete them at once even
// while the system's lookup is stuck. Never the network: localhost (answered
// by proact itself), numeric addresses, the service database and the
// reserved ".invalid" names only.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "loop_fixture.hpp"
#include "service_platform.hpp"

namespace proact_test {
namespace {

using Resolver = LoopTest;
using namespace std::chrono_literals;

struct outcome {
  std::error_code error;
  std::vector<proact::endpoint> endpoints;
  int calls = 0;
};

// Resolves on a loop run by this thread; the handler must run once.
::testing::AssertionResult resolve_now(proact::loop& lp, std::string_view host,
                                       std::string_view service, proact::resolve_hints hints,
                                       outcome& out) {
  proact::resolver r(lp);
  std::error_code ec =
      r.resolve(host, service, hints, [&](std::error_code e, std::vector<proact::endpoint> eps) {
        out.error = e;
        out.endpoints = std::move(eps);
        ++out.calls;
      });
  if (ec) return ::testing::AssertionFailure() << "resolve() did not start: " << describe(ec);
  if (!poll_until(lp, [&] { return out.calls != 0; }))
    return ::testing::AssertionFailure() << "no completion for " << host << ":" << service;
  poll_until(
      lp, [] { return false; }, quiet_period);
  if (out.calls != 1) return ::testing::AssertionFailure() << out.calls << " completions";
  return ::testing::AssertionSuccess();
}

bool is_loopback(const proact::endpoint& e) {
  const std::string a = e.address();
  return a.rfind("127.", 0) == 0 || a == "::1";
}

// A lookup hook that holds lookups of "stuck.localhost" until released, and
// counts how many are held at once.
struct stuck_lookups {
  static inline std::mutex mutex;
  static inline std::condition_variable cv;
  static inline bool released = false;
  static inline int inside = 0;
  static inline int most_inside = 0;
  static inline int finished = 0;

  stuck_lookups() {
    std::lock_guard lock(mutex);
    released = false;
    inside = most_inside = finished = 0;
    proact::detail::set_resolver_lookup_hook(&hook);
  }
  ~stuck_lookups() {
    release();
    // Let the held lookups end before the next test (they touch nothing of
    // this one's, but a test should leave no thread behind).
    std::unique_lock lock(mutex);
    cv.wait_for(lock, 5s, [] { return inside == 0; });
    lock.unlock();
    proact::detail::set_resolver_lookup_hook(nullptr);
  }
  void release() {
    std::lock_guard lock(mutex);
    released = true;
    cv.notify_all();
  }
  static int held() {
    std::lock_guard lock(mutex);
    return inside;
  }
  static int most_held() {
    std::lock_guard lock(mutex);
    return most_inside;
  }
  static void hook(const std::string& host) {
    if (host != "stuck.localhost") return;
    std::unique_lock lock(mutex);
    ++inside;
    most_inside = std::max(most_inside, inside);
    cv.notify_all();
    cv.wait(lock, [] { return released; });
    --inside;
    ++finished;
    cv.notify_all();
  }
};

TEST_F(Resolver, LocalhostGivesLoopbackEndpointsWithThePort) {
  auto lp = make_loop(1);
  outcome out;
  ASSERT_TRUE(resolve_now(*lp, "localhost", "8080", {}, out));
  ASSERT_OK(out.error);
  ASSERT_FALSE(out.endpoints.empty());
  bool v4 = false, v6 = false;
  for (const auto& e : out.endpoints) {
    EXPECT_TRUE(is_loopback(e)) << e.to_string();
    EXPECT_EQ(e.port(), 8080);
    v4 = v4 || e.family() == proact::address_family::ipv4;
    v6 = v6 || e.family() == proact::address_family::ipv6;
  }
  EXPECT_TRUE(v4 && v6) << "localhost is 127.0.0.1 and ::1";

  outcome only_v6;
  ASSERT_TRUE(resolve_now(*lp, "LocalHost.", "1", {proact::address_family::ipv6, false}, only_v6));
  ASSERT_OK(only_v6.error);
  ASSERT_EQ(only_v6.endpoints.size(), 1u);
  EXPECT_EQ(only_v6.endpoints[0], proact::endpoint::loopback(proact::address_family::ipv6, 1));
}

TEST_F(Resolver, NumericAddressesOfBothFamilies) {
  auto lp = make_loop(1);
  std::error_code ec;
  outcome v4;
  ASSERT_TRUE(resolve_now(*lp, "127.0.0.1", "80", {}, v4));
  ASSERT_OK(v4.error);
  ASSERT_EQ(v4.endpoints.size(), 1u);
  EXPECT_EQ(v4.endpoints[0], proact::endpoint::parse("127.0.0.1", 80, ec));
  outcome v6;
  ASSERT_TRUE(resolve_now(*lp, "::1", "443", {}, v6));
  ASSERT_OK(v6.error);
  ASSERT_EQ(v6.endpoints.size(), 1u);
  EXPECT_EQ(v6.endpoints[0], proact::endpoint::parse("::1", 443, ec));
  // An address of the other family than the hints ask for does not exist.
  outcome mismatch;
  ASSERT_TRUE(resolve_now(*lp, "::1", "443", {proact::address_family::ipv4, false}, mismatch));
  EXPECT_ERRC(mismatch.error, host_not_found);
}

TEST_F(Resolver, PassiveEmptyHostIsTheWildcard) {
  auto lp = make_loop(1);
  outcome out;
  ASSERT_TRUE(resolve_now(*lp, "", "9000", {proact::address_family::ipv4, true}, out));
  ASSERT_OK(out.error);
  ASSERT_EQ(out.endpoints.size(), 1u);
  EXPECT_EQ(out.endpoints[0], proact::endpoint::any(proact::address_family::ipv4, 9000));
}

TEST_F(Resolver, ServiceNamesAndUnknownServices) {
  auto lp = make_loop(1);
  outcome http;
  ASSERT_TRUE(resolve_now(*lp, "127.0.0.1", "http", {}, http));
  ASSERT_OK(http.error);
  ASSERT_FALSE(http.endpoints.empty());
  EXPECT_EQ(http.endpoints[0].port(), 80);
  outcome unknown;
  ASSERT_TRUE(resolve_now(*lp, "127.0.0.1", "no-such-service-proact", {}, unknown));
  EXPECT_ERRC(unknown.error, service_not_found);
  EXPECT_TRUE(unknown.endpoints.empty());
}

TEST_F(Resolver, ReservedInvalidNamesAreNotFound) {
  auto lp = make_loop(1);
  for (const char* name : {"no-such-host.invalid", "INVALID.", "a.b.invalid"}) {
    outcome out;
    ASSERT_TRUE(resolve_now(*lp, name, "80", {}, out));
    EXPECT_ERRC(out.error, host_not_found) << name;
    EXPECT_TRUE(out.endpoints.empty());
  }
}

// A name that only the test's own hosts data knows, resolved by the system's
// lookup (not answered by proact itself): the test runs again in a child
// process that sees that data as its hosts file.
TEST_F(Resolver, NamesFromTheTestsOwnHostsData) {
  if (!in_private_hosts_child()) {
    bool skipped = false;
    std::string why;
    ASSERT_TRUE(run_test_with_hosts(
        "Resolver.NamesFromTheTestsOwnHostsData",
        std::string(proact::to_string(backend_under_test())),
        "127.0.0.1 localhost\n::1 localhost\n192.0.2.10 proact-test-host.example\n"
        "2001:db8::10 proact-test-host.example\n",
        skipped, why));
    if (skipped) GTEST_SKIP() << why;
    return;
  }
  auto lp = make_loop(1);
  outcome v4;
  ASSERT_TRUE(resolve_now(*lp, "proact-test-host.example", "80",
                          {proact::address_family::ipv4, false}, v4));
  ASSERT_OK(v4.error);
  ASSERT_EQ(v4.endpoints.size(), 1u);
  EXPECT_EQ(v4.endpoints[0].to_string(), "192.0.2.10:80");
  outcome v6;
  ASSERT_TRUE(resolve_now(*lp, "proact-test-host.example", "http",
                          {proact::address_family::ipv6, false}, v6));
  ASSERT_OK(v6.error);
  ASSERT_EQ(v6.endpoints.size(), 1u);
  EXPECT_EQ(v6.endpoints[0].address(), "2001:db8::10");
  EXPECT_EQ(v6.endpoints[0].port(), 80);
}

TEST_F(Resolver, NativeFailuresCompareEqualToThePortableConditions) {
  for (const auto& [code, condition] : native_resolver_failures())
    EXPECT_TRUE(code == condition) << describe(code) << " should be errc::" << name_of(condition);
}

TEST_F(Resolver, ParsingAHostNameRefersToTheResolver) {
  std::error_code ec;
  (void)proact::endpoint::parse("localhost", 80, ec);
  EXPECT_ERRC(ec, invalid_argument);
  EXPECT_NE(ec.message().find("resolver"), std::string::npos) << ec.message();
}

TEST_F(Resolver, OneResolutionAtATimeAndBadNames) {
  auto lp = make_loop(1);
  stuck_lookups stuck;
  proact::resolver r(*lp);
  int calls = 0;
  std::error_code seen;
  ASSERT_OK(r.resolve("stuck.localhost", "1", {}, [&](std::error_code ec, auto) {
    seen = ec;
    ++calls;
  }));
  EXPECT_TRUE(r.pending());
  EXPECT_ERRC(r.resolve("localhost", "1", {}, [&](std::error_code, auto) { calls += 100; }),
              operation_in_progress);
  proact::resolver other(*lp);
  EXPECT_ERRC(other.resolve(std::string_view("a\0b", 3), "1", {}, [&](std::error_code, auto) {}),
              invalid_argument);
  EXPECT_FALSE(other.pending());
  EXPECT_ERRC(other.cancel(), not_found);
  stuck.release();
  ASSERT_TRUE(poll_until(*lp, [&] { return calls != 0; }));
  EXPECT_OK(seen);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(r.pending());
}

TEST_F(Resolver, CancelCompletesAStuckLookupAtOnceAndOnlyOnce) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  stuck_lookups stuck;
  proact::resolver r(*lp);
  std::atomic<int> calls{0};
  std::error_code seen;
  ASSERT_OK(r.resolve("stuck.localhost", "1", {}, [&](std::error_code ec, auto eps) {
    seen = ec;
    EXPECT_TRUE(eps.empty());
    calls.fetch_add(1);
  }));
  ASSERT_TRUE(spin_until([] { return stuck_lookups::held() == 1; }));
  ASSERT_OK(r.cancel());
  ASSERT_TRUE(spin_until([&] { return calls.load() == 1; }));
  EXPECT_ERRC(seen, operation_aborted);
  EXPECT_ERRC(r.cancel(), not_found);
  stuck.release();  // the lookup's late answer is dropped
  ASSERT_TRUE(spin_until([] { return stuck_lookups::held() == 0; }));
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(calls.load(), 1);
  lp.reset();
}

TEST_F(Resolver, ThePoolIsBoundedAndQueuedLookupsCancelToo) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  stuck_lookups stuck;
  constexpr int n = 10;
  std::vector<std::unique_ptr<proact::resolver>> rs;
  std::atomic<int> aborted{0}, calls{0};
  for (int i = 0; i < n; ++i) {
    rs.push_back(std::make_unique<proact::resolver>(*lp));
    ASSERT_OK(rs.back()->resolve("stuck.localhost", "1", {}, [&](std::error_code ec, auto) {
      if (ec == proact::errc::operation_aborted) aborted.fetch_add(1);
      calls.fetch_add(1);
    }));
  }
  ASSERT_TRUE(spin_until([] { return stuck_lookups::held() >= 1; }));
  std::this_thread::sleep_for(settle_time);
  EXPECT_GE(stuck_lookups::most_held(), 1);
  EXPECT_LE(stuck_lookups::most_held(), 4) << "more lookup threads than the bound";
  for (auto& r : rs) ASSERT_OK(r->cancel());
  ASSERT_TRUE(spin_until([&] { return calls.load() == n; }));
  EXPECT_EQ(aborted.load(), n);
  stuck.release();
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(calls.load(), n);
  lp.reset();
}

TEST_F(Resolver, StopAndDestructionWithStuckLookupsCompleteEachOnceAndDoNotHang) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  stuck_lookups stuck;
  constexpr int n = 6;
  std::vector<std::unique_ptr<proact::resolver>> rs;
  std::atomic<int> aborted{0}, calls{0};
  for (int i = 0; i < n; ++i) {
    rs.push_back(std::make_unique<proact::resolver>(*lp));
    ASSERT_OK(rs.back()->resolve("stuck.localhost", "1", {}, [&](std::error_code ec, auto) {
      if (ec == proact::errc::operation_aborted) aborted.fetch_add(1);
      calls.fetch_add(1);
    }));
  }
  ASSERT_TRUE(spin_until([] { return stuck_lookups::held() >= 1; }));
  lp->stop();
  ASSERT_TRUE(spin_until([&] { return calls.load() == n; }));
  EXPECT_EQ(aborted.load(), n);
  proact::resolver late(*lp);
  EXPECT_ERRC(late.resolve("localhost", "1", {}, [&](std::error_code, auto) { calls += 100; }),
              port_closed);
  // Destroying the loop does not wait for the stuck lookups to return.
  const auto begin = clock_type::now();
  rs.clear();
  lp.reset();
  EXPECT_LT(clock_type::now() - begin, 3s);
  EXPECT_GE(stuck_lookups::held(), 1);
  stuck.release();  // they end later, touching nothing that is gone
  ASSERT_TRUE(spin_until([] { return stuck_lookups::held() == 0; }));
  std::this_thread::sleep_for(quiet_period);
  EXPECT_EQ(calls.load(), n);
}

TEST_F(Resolver, DestroyingTheResolverDropsItsPendingResolution) {
  auto lp = make_loop(1);
  int calls = 0;
  {
    proact::resolver r(*lp);
    ASSERT_OK(r.resolve("no-such-host.invalid", "1", {}, [&](std::error_code, auto) { ++calls; }));
    proact::resolver r2(*lp);
    ASSERT_OK(r2.resolve("localhost", "1", {}, [&](std::error_code, auto) { ++calls; }));
  }
  poll_until(
      *lp, [] { return false; }, quiet_period);
  EXPECT_EQ(calls, 0);
}

proact::task<void> resolve_in_coroutine(proact::loop& lp, proact::resolve_result& out,
                                        event& done) {
  proact::resolver r(lp);
  out = co_await r.resolve("localhost", "7", {proact::address_family::ipv4, false});
  done.set();
}

proact::task<void> resolve_with_deadline(proact::loop& lp, std::size_t& index,
                                         proact::resolve_result& out, event& done) {
  proact::resolver r(lp);
  proact::timer t(lp);
  auto w = co_await proact::when_any(r.resolve("stuck.localhost", "7"), t.wait(30ms));
  index = w.index;
  if (w.index == 1) {
    // The resolution lost: it was cancelled and completed before when_any returned.
    EXPECT_FALSE(r.pending());
  } else {
    out = std::get<0>(std::move(w.value));
  }
  done.set();
}

TEST_F(Resolver, AwaitableFormAndADeadlineThroughWhenAny) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::resolve_result out;
  event done;
  ASSERT_OK(lp->spawn(resolve_in_coroutine(*lp, out, done)));
  ASSERT_TRUE(done.wait());
  ASSERT_OK(out.error);
  ASSERT_EQ(out.endpoints.size(), 1u);
  EXPECT_EQ(out.endpoints[0], proact::endpoint::loopback(proact::address_family::ipv4, 7));

  stuck_lookups stuck;
  std::size_t index = 9;
  event timed_out;
  ASSERT_OK(lp->spawn(resolve_with_deadline(*lp, index, out, timed_out)));
  ASSERT_TRUE(timed_out.wait());
  EXPECT_EQ(index, 1u);
  lp.reset();
}

}  // namespace
}  // namespace proact_test
