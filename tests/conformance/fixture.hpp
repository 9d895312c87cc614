// The one helper layer of the conformance and loop suites: configuration,
// assertions, bounded waiting, and peers for every kind of handle (TCP pairs,
// UDP sockets, temporary files, a connect that stays pending).
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
#include <string_view>
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
inline constexpr std::uintptr_t file_key = 0xF11E;
inline constexpr std::uintptr_t udp_key_a = 0xDA;
inline constexpr std::uintptr_t udp_key_b = 0xDB;
inline constexpr std::uintptr_t local_key_a = 0x1A;
inline constexpr std::uintptr_t local_key_b = 0x1B;

// A send (or send_file) that cannot finish while the peer does not read: far
// larger than the socket buffers.
inline constexpr std::size_t stuck_transfer_size = 64 * 1024 * 1024;

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
// Two recvs of one stream completed in their start order (`got`): `first`
// with `bytes` bytes and no error, then `second` with 0 bytes and eof.
::testing::AssertionResult bytes_then_eof(const std::vector<proact::completion>& got,
                                          const proact::operation& first,
                                          const proact::operation& second, std::size_t bytes);
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

// ---- temporary files ---------------------------------------------------------

// A fresh directory under the system's temporary directory, removed (with
// the files created through path()) on destruction. Declare it before the
// files that live in it, so that they are closed first.
class temp_directory {
 public:
  temp_directory();
  temp_directory(const temp_directory&) = delete;
  temp_directory& operator=(const temp_directory&) = delete;
  ~temp_directory();

  // Empty if the directory could not be created; why() says why.
  bool ok() const noexcept { return !path_.empty(); }
  const std::string& why() const noexcept { return why_; }
  // The path of `name` inside the directory (remembered for removal).
  std::string path(std::string_view name);

 private:
  std::string path_;
  std::string why_;
  std::vector<std::string> files_;
};

// A test with an open port and a temporary directory.
class FileTest : public PortTest {
 protected:
  void SetUp() override;

  // Opens `name` in the temporary directory with `mode` and associates it
  // with the port (key file_key).
  ::testing::AssertionResult open_associated(proact::file& f, std::string_view name,
                                             proact::file_mode mode, std::uintptr_t key = file_key);
  // Creates `name` holding `content` (written through the port, then closed).
  ::testing::AssertionResult create_file(std::string_view name, const void* content,
                                         std::size_t size);

  temp_directory dir_;
};

// Writes all of `data` at `offset` with one write_at and waits for it.
::testing::AssertionResult write_at_and_wait(proact::port& p, proact::file& f, std::uint64_t offset,
                                             const void* data, std::size_t size);
// Reads at `offset` with one read_at into `data` and waits; `out` gets the
// completion.
::testing::AssertionResult read_at_and_wait(proact::port& p, proact::file& f, std::uint64_t offset,
                                            void* data, std::size_t size, proact::completion& out);

// ---- UDP -------------------------------------------------------------------------

// Opens a UDP socket bound to the loopback address of `family` (port chosen
// by the system), associates it with `p`, and returns its address.
::testing::AssertionResult open_udp_on_loopback(proact::port& p, proact::udp_socket& s,
                                                proact::endpoint& address,
                                                proact::address_family family, std::uintptr_t key);

// ---- TCP across two ports ---------------------------------------------------------

// Connects a pair whose client completes on `client_port` and whose server
// (the accepted socket) on `server_port`: the golden traces watch one port
// while the peer's completions go to the other. Both queues are empty after.
::testing::AssertionResult connect_split_pair(
    proact::port& client_port, proact::port& server_port, tcp_pair& pair, std::uintptr_t client,
    std::uintptr_t server, proact::address_family family = proact::address_family::ipv4);

// Receives on `s` until end of stream (the port must have nothing else
// pending); `out` gets every byte. Fails on an error other than eof.
::testing::AssertionResult recv_until_eof(proact::port& p, proact::tcp_socket& s,
                                          std::vector<unsigned char>& out,
                                          proact::timeout t = must_happen_within);

// ---- progress while another port is driven ------------------------------------------

// Waits for `n` completions of `p` on a thread of its own. On the emulating
// backends (epoll) an operation pending on the kernel progresses only while a
// thread waits on its port: a test that drives a peer on a second port keeps
// one of these waiting on the first. join() returns the completions in
// dequeue order.
class waiter_thread {
 public:
  waiter_thread(proact::port& p, std::size_t n, proact::timeout t = must_happen_within);
  waiter_thread(const waiter_thread&) = delete;
  waiter_thread& operator=(const waiter_thread&) = delete;
  ~waiter_thread();
  ::testing::AssertionResult join(std::vector<proact::completion>& out);

 private:
  std::vector<proact::completion> got_;
  std::string failure_;
  std::thread thread_;
};

// ---- a connect that stays pending --------------------------------------------------

// A listener whose accept queue is full (backlog 0, filled by connections
// nobody accepts), so that a further connect to it stays pending: the SYN is
// dropped and retried for minutes. Its sockets complete on a port of their
// own, so that they never show up on the port under test.
class full_listener {
 public:
  // Sets up the listener; false (with `why`) if no connect can be kept
  // pending on this machine.
  bool open(proact::address_family family, std::string& why);
  const proact::endpoint& address() const noexcept { return address_; }

 private:
  proact::port port_;
  proact::tcp_listener listener_;
  proact::endpoint address_;
  std::vector<proact::tcp_socket> fillers_;
};

// Starts `op` as a connect of `s` (open, associated) to `target` and checks
// that it stays pending for a while; false (with `why`) if it completed.
bool connect_stays_pending(proact::port& p, proact::tcp_socket& s, proact::operation& op,
                           const proact::endpoint& target, std::string& why);

// Text of a byte range, for messages.
inline std::string text(const void* data, std::size_t size) {
  return std::string(static_cast<const char*>(data), size);
}

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
