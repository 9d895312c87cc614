// Item 23: cancel one, cancel all and handle close, for every operation kind:
// accept, connect, recv_from, read_at/write_at, send_file, disconnect (recv
// and send: items 7 and 8).
#include <array>
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "fixture.hpp"

namespace proact_test {
namespace {

using proact::file_mode;

// Checks a completion of `op` ended by cancel or close.
::testing::AssertionResult aborted(const proact::completion& c, const proact::operation& op,
                                   std::uintptr_t key) {
  if (c.op != &op) return ::testing::AssertionFailure() << "the completion of another operation";
  if (c.key != key)
    return ::testing::AssertionFailure() << "key " << c.key << " instead of " << key;
  if (c.error != proact::errc::operation_aborted)
    return ::testing::AssertionFailure()
           << "completed with " << describe(c.error) << " instead of operation_aborted";
  if (c.bytes != 0) return ::testing::AssertionFailure() << c.bytes << " bytes instead of 0";
  return ::testing::AssertionSuccess();
}

// How a pending operation is ended.
enum class ending { cancel_one, cancel_all, close };

const char* ending_name(ending e) {
  switch (e) {
    case ending::cancel_one:
      return "cancel(op)";
    case ending::cancel_all:
      return "cancel()";
    case ending::close:
      return "close()";
  }
  return "?";
}

std::error_code end_operation(proact::handle& h, proact::operation& op, ending e) {
  switch (e) {
    case ending::cancel_one:
      return h.cancel(op);
    case ending::cancel_all:
      return h.cancel();
    case ending::close:
      return h.close();
  }
  return {};
}

constexpr std::array<ending, 3> every_ending = {ending::cancel_one, ending::cancel_all,
                                                ending::close};

class Item23_CancelEveryKind : public FileTest {
 protected:
  void SetUp() override {
    FileTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_OK(peer_port_.open(options()));
  }

  // Ends the pending `op` of `h` (key `key`) with `e` and checks that it
  // completes once with operation_aborted and that a second cancel finds
  // nothing.
  void end_and_check(proact::handle& h, proact::operation& op, std::uintptr_t key, ending e) {
    SCOPED_TRACE(ending_name(e));
    EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));  // it is pending
    ASSERT_TRUE(op.in_flight());
    ASSERT_OK(end_operation(h, op, e));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_TRUE(aborted(c, op, key));
    EXPECT_FALSE(op.in_flight());
    EXPECT_ERRC(h.cancel(op), not_found);
    EXPECT_TRUE(stays_idle(port_));
  }

  proact::port peer_port_;
};

// ---- accept -----------------------------------------------------------------------

TEST_F(Item23_CancelEveryKind, Accept) {
  for (const ending e : every_ending) {
    proact::tcp_listener listener;
    proact::endpoint address;
    ASSERT_TRUE(listen_on_loopback(port_, listener, address));
    proact::tcp_socket peer;
    proact::operation op;
    ASSERT_OK(listener.accept(op, peer));
    end_and_check(listener, op, listener_key, e);
    EXPECT_FALSE(peer.is_open()) << ending_name(e);
  }
}

TEST_F(Item23_CancelEveryKind, CancelOneAcceptLeavesTheOtherPending) {
  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket first_peer;
  proact::tcp_socket second_peer;
  proact::operation first;
  proact::operation second;
  ASSERT_OK(listener.accept(first, first_peer));
  ASSERT_OK(listener.accept(second, second_peer));
  ASSERT_OK(listener.cancel(first));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_TRUE(aborted(c, first, listener_key));
  // The second still takes a connection.
  proact::tcp_socket client;
  ASSERT_OK(client.open(proact::address_family::ipv4));
  ASSERT_OK(peer_port_.associate(client, client_key));
  proact::operation connect_op;
  ASSERT_OK(client.connect(connect_op, address));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &second);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_TRUE(second_peer.is_open());
  EXPECT_FALSE(first_peer.is_open());
  ASSERT_TRUE(wait_one(peer_port_, c));
}

TEST_F(Item23_CancelEveryKind, CancelAllAndCloseEndEveryPendingAcceptInStartOrder) {
  for (const ending e : {ending::cancel_all, ending::close}) {
    SCOPED_TRACE(ending_name(e));
    proact::tcp_listener listener;
    proact::endpoint address;
    ASSERT_TRUE(listen_on_loopback(port_, listener, address));
    std::array<proact::tcp_socket, 3> peers;
    std::array<proact::operation, 3> ops;
    for (std::size_t i = 0; i < ops.size(); ++i) ASSERT_OK(listener.accept(ops[i], peers[i]));
    ASSERT_OK(e == ending::close ? listener.close() : listener.cancel());
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_n(port_, ops.size(), got));
    for (std::size_t i = 0; i < ops.size(); ++i) {
      EXPECT_TRUE(aborted(got[i], ops[i], listener_key)) << "accept " << i;
      EXPECT_FALSE(peers[i].is_open());
    }
    EXPECT_TRUE(stays_idle(port_));
  }
}

// ---- connect ------------------------------------------------------------------------

TEST_F(Item23_CancelEveryKind, Connect) {
  full_listener target;
  std::string why;
  if (!target.open(proact::address_family::ipv4, why))
    GTEST_SKIP() << "no connect can be kept pending here: " << why;
  for (const ending e : every_ending) {
    proact::tcp_socket s;
    ASSERT_OK(s.open(proact::address_family::ipv4));
    ASSERT_OK(port_.associate(s, 23));
    proact::operation op;
    if (!connect_stays_pending(port_, s, op, target.address(), why))
      GTEST_SKIP() << "the connect did not stay pending: " << why;
    end_and_check(s, op, 23, e);
  }
}

// ---- recv_from ------------------------------------------------------------------------

TEST_F(Item23_CancelEveryKind, RecvFrom) {
  for (const ending e : every_ending) {
    proact::udp_socket s;
    proact::endpoint address;
    ASSERT_TRUE(open_udp_on_loopback(port_, s, address, proact::address_family::ipv4, udp_key_a));
    char in[16] = {};
    proact::endpoint source;
    proact::operation op;
    ASSERT_OK(s.recv_from(op, proact::make_buffer(in), &source));
    end_and_check(s, op, udp_key_a, e);
  }
}

TEST_F(Item23_CancelEveryKind, CancelOneRecvFromLeavesTheOtherPending) {
  proact::udp_socket s;
  proact::endpoint address;
  ASSERT_TRUE(open_udp_on_loopback(port_, s, address, proact::address_family::ipv4, udp_key_a));
  char in1[8] = {};
  char in2[8] = {};
  proact::operation first;
  proact::operation second;
  ASSERT_OK(s.recv_from(first, proact::make_buffer(in1)));
  ASSERT_OK(s.recv_from(second, proact::make_buffer(in2)));
  ASSERT_OK(s.cancel(first));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_TRUE(aborted(c, first, udp_key_a));
  proact::udp_socket sender;
  proact::endpoint sender_address;
  ASSERT_TRUE(open_udp_on_loopback(peer_port_, sender, sender_address, proact::address_family::ipv4,
                                   udp_key_b));
  proact::operation send_op;
  ASSERT_OK(sender.send_to(send_op, proact::make_buffer("dgram", 5), address));
  ASSERT_TRUE(wait_one(port_, c));
  EXPECT_EQ(c.op, &second);
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(text(in2, c.bytes), "dgram");
  ASSERT_TRUE(wait_one(peer_port_, c));
}

// ---- read_at / write_at -------------------------------------------------------------------
//
// A file operation that is already being performed cannot be withdrawn: cancel
// returns not_found for it and it completes with its own result; one still
// waiting its turn completes with operation_aborted. Closing the file ends
// every file operation in one of those two ways as well.

constexpr std::size_t file_ops = 32;
constexpr std::size_t file_block = 256 * 1024;

// Starts file_ops reads (or writes) of consecutive blocks of `f`.
void start_file_ops(proact::file& f, bool write, std::array<proact::operation, file_ops>& ops,
                    std::vector<unsigned char>& memory, const std::vector<unsigned char>& data) {
  for (std::size_t i = 0; i < file_ops; ++i) {
    if (write) {
      ASSERT_OK(f.write_at(ops[i], i * file_block,
                           proact::const_buffer(data.data() + i * file_block, file_block)));
    } else {
      ASSERT_OK(f.read_at(ops[i], i * file_block,
                          proact::buffer{memory.data() + i * file_block, file_block}));
    }
  }
}

// Checks that each of `ops` completed once, either normally (the whole block)
// or with operation_aborted (0 bytes); returns how many were aborted.
std::size_t check_file_outcomes(const std::vector<proact::completion>& got,
                                const std::array<proact::operation, file_ops>& ops) {
  std::map<const proact::operation*, int> seen;
  std::size_t aborted_count = 0;
  for (const proact::completion& c : got) {
    ++seen[c.op];
    EXPECT_EQ(c.key, file_key);
    if (c.error == proact::errc::operation_aborted) {
      EXPECT_EQ(c.bytes, 0u);
      ++aborted_count;
    } else {
      EXPECT_FALSE(c.error) << describe(c.error);
      EXPECT_EQ(c.bytes, file_block);
    }
  }
  for (const proact::operation& op : ops) EXPECT_EQ(seen[&op], 1);
  return aborted_count;
}

TEST_F(Item23_CancelEveryKind, CancelOneFileOperationAbortsItOrLetsItComplete) {
  const std::vector<unsigned char> data = pattern(file_ops * file_block, 61);
  for (const bool write : {false, true}) {
    SCOPED_TRACE(write ? "write_at" : "read_at");
    proact::file f;
    ASSERT_TRUE(open_associated(f, write ? "cancel-write" : "cancel-read",
                                file_mode::read | file_mode::write | file_mode::create));
    if (!write) {
      ASSERT_TRUE(write_at_and_wait(port_, f, 0, data.data(), data.size()));
    }
    std::array<proact::operation, file_ops> ops;
    std::vector<unsigned char> memory(data.size());
    start_file_ops(f, write, ops, memory, data);
    if (HasFatalFailure()) return;
    // Cancel from the last (most likely still waiting) to the first.
    std::map<const proact::operation*, std::error_code> cancelled;
    for (std::size_t i = file_ops; i-- > 0;) cancelled[&ops[i]] = f.cancel(ops[i]);
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_n(port_, file_ops, got));
    const std::size_t aborted_count = check_file_outcomes(got, ops);
    for (const proact::completion& c : got) {
      const std::error_code answer = cancelled[c.op];
      if (!answer) {
        EXPECT_ERRC(c.error, operation_aborted) << "cancel succeeded, so the operation must abort";
      } else {
        EXPECT_ERRC(answer, not_found);
        EXPECT_FALSE(c.error) << "cancel found nothing, so it completes with its own result: "
                              << describe(c.error);
        const std::size_t i = static_cast<std::size_t>(c.op - ops.data());
        if (!write) {
          EXPECT_EQ(first_mismatch(memory.data() + i * file_block, file_block, i * file_block, 61),
                    file_block);
        }
      }
    }
    std::printf("[   INFO   ] %s: %zu of %zu cancelled, the others already running\n",
                write ? "write_at" : "read_at", aborted_count, file_ops);
    EXPECT_TRUE(stays_idle(port_));
  }
}

TEST_F(Item23_CancelEveryKind, CancelAllAndCloseEndEveryFileOperationOnce) {
  const std::vector<unsigned char> data = pattern(file_ops * file_block, 62);
  for (const ending e : {ending::cancel_all, ending::close}) {
    for (const bool write : {false, true}) {
      SCOPED_TRACE(std::string(ending_name(e)) + (write ? " write_at" : " read_at"));
      proact::file f;
      ASSERT_TRUE(
          open_associated(f, "all", file_mode::read | file_mode::write | file_mode::create));
      if (!write) {
        ASSERT_TRUE(write_at_and_wait(port_, f, 0, data.data(), data.size()));
      }
      std::array<proact::operation, file_ops> ops;
      std::vector<unsigned char> memory(data.size());
      start_file_ops(f, write, ops, memory, data);
      if (HasFatalFailure()) return;
      const std::error_code answer = e == ending::close ? f.close() : f.cancel();
      std::vector<proact::completion> got;
      ASSERT_TRUE(wait_n(port_, file_ops, got));
      const std::size_t aborted_count = check_file_outcomes(got, ops);
      if (e == ending::close) {
        EXPECT_OK(answer);
      } else if (answer) {
        EXPECT_ERRC(answer, not_found);
        EXPECT_EQ(aborted_count, 0u) << "cancel() found nothing, yet operations were aborted";
      } else {
        EXPECT_GT(aborted_count, 0u) << "cancel() succeeded, yet nothing was aborted";
      }
      EXPECT_ERRC(f.cancel(), not_found);
      EXPECT_TRUE(stays_idle(port_));
      std::printf("[   INFO   ] %s %s: %zu of %zu aborted\n", ending_name(e),
                  write ? "write_at" : "read_at", aborted_count, file_ops);
    }
  }
}

// ---- send_file --------------------------------------------------------------------------

TEST_F(Item23_CancelEveryKind, SendFile) {
  // A sparse source far larger than the socket buffers: the send cannot finish
  // while the peer does not read.
  proact::file source;
  ASSERT_TRUE(
      open_associated(source, "large", file_mode::read | file_mode::write | file_mode::create));
  ASSERT_TRUE(write_at_and_wait(port_, source, stuck_transfer_size - 1, "z", 1));
  for (const ending e : every_ending) {
    SCOPED_TRACE(ending_name(e));
    tcp_pair pair;
    ASSERT_TRUE(connect_split_pair(port_, peer_port_, pair, client_key, server_key));
    proact::operation op;
    ASSERT_OK(pair.client.send_file(op, source, 0, stuck_transfer_size));
    EXPECT_TRUE(stays_idle(port_, proact::timeout{100}));
    ASSERT_TRUE(op.in_flight());
    ASSERT_OK(end_operation(pair.client, op, e));
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    EXPECT_EQ(c.key, client_key);
    EXPECT_ERRC(c.error, operation_aborted);
    EXPECT_LT(c.bytes, stuck_transfer_size);
    EXPECT_ERRC(pair.client.cancel(op), not_found);
    EXPECT_TRUE(stays_idle(port_));
    if (e == ending::close) continue;
    // The stream holds exactly the bytes reported.
    ASSERT_OK(pair.client.shutdown_send());
    std::vector<unsigned char> received;
    ASSERT_TRUE(recv_until_eof(peer_port_, pair.server, received, 30000ms));
    EXPECT_EQ(received.size(), c.bytes);
  }
}

// ---- disconnect ----------------------------------------------------------------------------

TEST_F(Item23_CancelEveryKind, Disconnect) {
  for (const ending e : every_ending) {
    tcp_pair pair;
    ASSERT_TRUE(connect_split_pair(port_, peer_port_, pair, client_key, server_key));
    proact::operation op;
    ASSERT_OK(pair.client.disconnect(op));  // pending: the peer never closes
    end_and_check(pair.client, op, client_key, e);
  }
}

// ---- zero-byte recv -----------------------------------------------------------------------

TEST_F(Item23_CancelEveryKind, ZeroByteRecv) {
  for (const ending e : every_ending) {
    tcp_pair pair;
    ASSERT_TRUE(connect_split_pair(port_, peer_port_, pair, client_key, server_key));
    proact::operation op;
    ASSERT_OK(pair.client.recv(op, proact::buffer{nullptr, 0}));
    end_and_check(pair.client, op, client_key, e);
  }
}

// ---- port close --------------------------------------------------------------------

TEST_F(Item23_CancelEveryKind, PortCloseEndsEveryKind) {
  // One pending operation of every kind on port_, then port_.close().
  tcp_pair sending;
  ASSERT_TRUE(connect_split_pair(port_, peer_port_, sending, client_key, server_key));
  tcp_pair leaving;
  ASSERT_TRUE(connect_split_pair(port_, peer_port_, leaving, 71, 72));
  proact::file large;  // the source of send_file, and the file of read_at
  ASSERT_TRUE(
      open_associated(large, "large", file_mode::read | file_mode::write | file_mode::create));
  ASSERT_TRUE(write_at_and_wait(port_, large, stuck_transfer_size - 1, "z", 1));

  proact::tcp_listener listener;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, listener, address));
  proact::tcp_socket accepted;
  proact::operation accept_op;
  ASSERT_OK(listener.accept(accept_op, accepted));

  full_listener target;
  std::string why;
  const bool with_connect = target.open(proact::address_family::ipv4, why);
  proact::tcp_socket connecting;
  proact::operation connect_op;
  if (with_connect) {
    ASSERT_OK(connecting.open(proact::address_family::ipv4));
    ASSERT_OK(port_.associate(connecting, 23));
    ASSERT_TRUE(connect_stays_pending(port_, connecting, connect_op, target.address(), why)) << why;
  } else {
    std::printf("[   INFO   ] without a pending connect: %s\n", why.c_str());
  }

  proact::udp_socket u;
  proact::endpoint u_address;
  ASSERT_TRUE(open_udp_on_loopback(port_, u, u_address, proact::address_family::ipv4, udp_key_a));
  char in[8] = {};
  proact::operation recv_from_op;
  ASSERT_OK(u.recv_from(recv_from_op, proact::make_buffer(in)));

  proact::operation send_file_op;
  ASSERT_OK(sending.client.send_file(send_file_op, large, 0, stuck_transfer_size));
  proact::operation disconnect_op;
  ASSERT_OK(leaving.client.disconnect(disconnect_op));
  EXPECT_TRUE(stays_idle(port_, proact::timeout{50}));  // all pending
  // Last, file operations (they may complete before the close).
  std::array<proact::operation, file_ops> read_ops;
  std::vector<unsigned char> memory(file_ops * file_block);
  start_file_ops(large, false, read_ops, memory, {});
  if (HasFatalFailure()) return;

  ASSERT_OK(port_.close());
  std::map<const proact::operation*, proact::completion> got;
  std::size_t extra = 0;
  for (;;) {
    proact::completion c;
    const std::error_code ec = port_.wait(c, must_happen_within);
    if (ec) {
      EXPECT_ERRC(ec, port_closed);
      break;
    }
    if (!got.emplace(c.op, c).second) ++extra;
  }
  EXPECT_EQ(extra, 0u) << "operations completed twice";
  const auto check = [&](const proact::operation& op, const char* what) {
    const auto it = got.find(&op);
    if (it == got.end()) {
      ADD_FAILURE() << what << " did not complete";
      return;
    }
    EXPECT_ERRC(it->second.error, operation_aborted) << what;
  };
  check(accept_op, "accept");
  if (with_connect) check(connect_op, "connect");
  check(recv_from_op, "recv_from");
  check(send_file_op, "send_file");
  check(disconnect_op, "disconnect");
  std::size_t file_ops_seen = 0;
  for (const proact::operation& op : read_ops) {
    const auto it = got.find(&op);
    if (it == got.end()) continue;
    ++file_ops_seen;
    // Already running: its own result; otherwise aborted.
    if (it->second.error) {
      EXPECT_ERRC(it->second.error, operation_aborted);
    } else {
      EXPECT_EQ(it->second.bytes, file_block);
    }
  }
  EXPECT_EQ(file_ops_seen, file_ops);
  EXPECT_EQ(got.size(), file_ops + (with_connect ? 5u : 4u));
}

// ---- threads: starts racing with close ---------------------------------------------------

TEST_F(Item23_CancelEveryKind, FileOperationsRacingWithCloseCompleteOnce) {
  const std::vector<unsigned char> data = pattern(file_block, 63);
  for (int round = 0; round < 20; ++round) {
    proact::file f;
    ASSERT_TRUE(open_associated(f, "race", file_mode::read | file_mode::write | file_mode::create));
    ASSERT_TRUE(write_at_and_wait(port_, f, 0, data.data(), data.size()));  // no read finds eof
    std::array<proact::operation, file_ops> ops;
    std::vector<unsigned char> memory(file_block);
    std::atomic<std::size_t> started{0};
    std::thread starter([&] {
      for (std::size_t i = 0; i < file_ops; ++i) {
        const std::error_code ec =
            i % 2 == 0 ? f.write_at(ops[i], 0, proact::const_buffer(data.data(), data.size()))
                       : f.read_at(ops[i], 0, proact::buffer{memory.data(), memory.size()});
        if (!ec) {
          started.fetch_add(1);
        } else {
          EXPECT_ERRC(ec, bad_handle) << "start " << i;
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::microseconds(50 * round));
    ASSERT_OK(f.close());
    starter.join();
    std::vector<proact::completion> got;
    ASSERT_TRUE(wait_n(port_, started.load(), got)) << "round " << round;
    std::map<const proact::operation*, int> seen;
    for (const proact::completion& c : got) {
      ++seen[c.op];
      if (c.error) {
        EXPECT_ERRC(c.error, operation_aborted);
      }
    }
    for (const auto& [op, n] : seen) EXPECT_EQ(n, 1);
    EXPECT_TRUE(stays_idle(port_, proact::timeout{20}));
  }
}

}  // namespace
}  // namespace proact_test
