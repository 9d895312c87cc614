// Helpers for the issue-5 operations (items 15-23 and the golden traces):
// temporary files, file I/O through a port, UDP sockets, pairs whose two ends
// complete on different ports, and a connect that stays pending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fixture.hpp"

namespace proact_test {

// Completion keys the issue-5 helpers use.
inline constexpr std::uintptr_t file_key = 0xF11E;
inline constexpr std::uintptr_t udp_key_a = 0xDA;
inline constexpr std::uintptr_t udp_key_b = 0xDB;
inline constexpr std::uintptr_t local_key_a = 0x1A;
inline constexpr std::uintptr_t local_key_b = 0x1B;

// A send (or send_file) that cannot finish while the peer does not read: far
// larger than the socket buffers.
inline constexpr std::size_t stuck_transfer_size = 64 * 1024 * 1024;

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
