// Shared configuration and helpers of the conformance suite.
//
// Every test runs against the backend chosen on the command line
// (--backend=epoll|io_uring|iocp) or by PROACT_BACKEND; CTest registers one
// run per backend. Every wait in a test is bounded so that a broken backend
// fails the test instead of hanging it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "proact/proact.hpp"

namespace proact_test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// ---- configuration ---------------------------------------------------------

// The backend under test (automatic = PROACT_BACKEND or the platform default).
proact::backend_kind backend_under_test() noexcept;
void set_backend_under_test(proact::backend_kind kind) noexcept;

// Port options for the backend under test.
proact::port_options options(unsigned concurrency = 0) noexcept;

// How long a test waits for something that must happen.
inline constexpr proact::timeout must_happen_within{5000};
// How long a test watches for something that must not happen.
inline constexpr proact::timeout quiet_period{150};
// How long a test lets threads settle into wait(): there is no API to know
// that a thread is blocked, so the suite sleeps generously.
inline constexpr std::chrono::milliseconds settle_time{150};

// Operations the stress test starts: 100,000 (also under Wine, where they take
// about 5 s); PROACT_STRESS_OPERATIONS overrides it.
std::size_t stress_operation_count();

// Completion keys the helpers use.
inline constexpr std::uintptr_t client_key = 0xC11E;
inline constexpr std::uintptr_t server_key = 0x5E7E;
inline constexpr std::uintptr_t listener_key = 0x11;

// ---- assertions on error codes ---------------------------------------------

// "generic:111 (Connection refused)"
std::string describe(const std::error_code& ec);
const char* name_of(proact::errc e) noexcept;

// EXPECT_TRUE(succeeded(ec)), EXPECT_TRUE(is(ec, proact::errc::eof)).
::testing::AssertionResult succeeded(const std::error_code& ec);
::testing::AssertionResult is(const std::error_code& ec, proact::errc expected);

// ---- waiting ---------------------------------------------------------------

// Waits for one completion; fails if none arrives within `t` (or wait errs).
::testing::AssertionResult wait_one(proact::port& p, proact::completion& out,
                                    proact::timeout t = must_happen_within);
// Waits for exactly `n` completions, appended to `out`, within one deadline.
::testing::AssertionResult wait_n(proact::port& p, std::size_t n,
                                  std::vector<proact::completion>& out,
                                  proact::timeout t = must_happen_within);
// Waits until each of `ops` has completed once; `out` gets their completions
// in dequeue order. Fails on a completion of any other operation, a second
// completion of one of them, or the deadline.
::testing::AssertionResult wait_for(proact::port& p,
                                    std::initializer_list<const proact::operation*> ops,
                                    std::vector<proact::completion>& out,
                                    proact::timeout t = must_happen_within);
// The completion of `op` in `list` (a default completion if it is not there).
proact::completion completion_of(const std::vector<proact::completion>& list,
                                 const proact::operation* op);
// Succeeds if nothing is dequeued for `t` (wait returns timed_out).
::testing::AssertionResult stays_idle(proact::port& p, proact::timeout t = quiet_period);

// Spins (without blocking in the kernel) until `condition` holds or `t`
// passes; returns whether it holds.
template <class Condition>
bool spin_until(Condition condition, std::chrono::milliseconds t = must_happen_within) {
  const auto deadline = clock_type::now() + t;
  while (!condition()) {
    if (clock_type::now() >= deadline) return condition();
    std::this_thread::yield();
  }
  return true;
}

// Burns CPU for `d` without blocking: the concurrency tests need a thread
// that stays runnable while it is active.
void busy_spin(std::chrono::microseconds d);

// ---- TCP helpers -----------------------------------------------------------

// Opens a listener on the loopback address of `family` (port chosen by the
// system) and associates it with `p`.
::testing::AssertionResult listen_on_loopback(
    proact::port& p, proact::tcp_listener& listener, proact::endpoint& address,
    proact::address_family family = proact::address_family::ipv4,
    std::uintptr_t key = listener_key);

// An unused loopback port (a listener was bound there and closed again).
::testing::AssertionResult closed_loopback_port(proact::address_family family,
                                                proact::endpoint& address);

// Two connected sockets, both associated with the same port.
struct tcp_pair {
  proact::tcp_socket client;  // key client_key
  proact::tcp_socket server;  // key server_key (the accepted socket)
};

// Connects a pair through `p` (accept and connect both complete on `p`);
// the port's queue is empty again afterwards.
::testing::AssertionResult connect_pair(
    proact::port& p, tcp_pair& pair, proact::address_family family = proact::address_family::ipv4,
    std::uintptr_t client = client_key, std::uintptr_t server = server_key);

// Whether ::1 is usable here; `why` says why not.
bool ipv6_loopback_available(std::string& why);

// Sends all of `data` with one send operation and waits for its completion
// (the port must have nothing else pending that could complete).
::testing::AssertionResult send_all(proact::port& p, proact::tcp_socket& s, const void* data,
                                    std::size_t size);
// Receives exactly `size` bytes with as many recvs as needed.
::testing::AssertionResult recv_exactly(proact::port& p, proact::tcp_socket& s, void* data,
                                        std::size_t size);

// A deterministic byte pattern: byte i of stream `seed`.
inline unsigned char pattern_byte(std::size_t i, unsigned seed) noexcept {
  return static_cast<unsigned char>((i * 131 + seed * 7 + (i >> 8)) % 251);
}
std::vector<unsigned char> pattern(std::size_t size, unsigned seed);
// Index of the first byte that differs from pattern(seed) starting at
// stream offset `offset`, or size if none.
std::size_t first_mismatch(const unsigned char* data, std::size_t size, std::size_t offset,
                           unsigned seed);

// ---- heap allocations ----------------------------------------------------------
// Every global operator new of the suite counts while counting is on
// (alloc_test.cpp replaces them); stop returns how many happened.
void start_counting_allocations() noexcept;
std::size_t stop_counting_allocations() noexcept;

// ---- the basic fixture -------------------------------------------------------

// Every conformance case derives from this: it skips the case, saying why,
// when the machine cannot run the backend under test at all.
class BackendTest : public ::testing::Test {
 protected:
  void SetUp() override;
};

// The reason the backend under test cannot run here ("" if it can).
void set_backend_unavailable(std::string reason);

// A test with one open port for the backend under test.
class PortTest : public BackendTest {
 protected:
  void SetUp() override;

  proact::port port_;
};

// A test with an open port and a connected IPv4 pair on it.
class PairTest : public PortTest {
 protected:
  void SetUp() override;

  tcp_pair pair_;
};

}  // namespace proact_test

// ASSERT_OK(expr) / EXPECT_OK(expr): expr returns a std::error_code that must be
// empty. ASSERT_ERRC(expr, name) / EXPECT_ERRC(expr, name): it must compare
// equal to proact::errc::name.
#define ASSERT_OK(expr) ASSERT_TRUE(::proact_test::succeeded(expr)) << #expr
#define EXPECT_OK(expr) EXPECT_TRUE(::proact_test::succeeded(expr)) << #expr
#define ASSERT_ERRC(expr, name) \
  ASSERT_TRUE(::proact_test::is((expr), ::proact::errc::name)) << #expr
#define EXPECT_ERRC(expr, name) \
  EXPECT_TRUE(::proact_test::is((expr), ::proact::errc::name)) << #expr
