// The fixture of the golden-trace scenarios (golden_*_test.cpp).
//
// A scenario watches one port (port_) and records, with t_, every completion
// dequeued from it; the peers it drives live on a second port (peer_port_)
// whose completions are checked but not recorded. Steps that could complete
// in either order (two handles, or a handle and its peer) are never left
// racing: a scenario waits for one before it starts the next, so that the
// trace is the same on every backend.
#pragma once

#include <string>
#include <thread>

#include "fixture.hpp"
#include "trace.hpp"

namespace proact_test {

class Golden : public PortTest {
 protected:
  void SetUp() override {
    PortTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_OK(peer_port_.open(options()));
  }

  // The recorded trace must equal golden/<scenario>.trace.
  void expect_trace(const char* scenario) { EXPECT_TRUE(matches_golden(scenario, t_)); }

  // Connects a pair: client on `client_port`, server on `server_port`.
  void connect(tcp_pair& pair, proact::port& client_port, std::uintptr_t client_key_value,
               proact::port& server_port, std::uintptr_t server_key_value) {
    ASSERT_TRUE(
        connect_split_pair(client_port, server_port, pair, client_key_value, server_key_value));
  }

  // The peer (on peer_port_) sends `data` and waits for its completion; the
  // bytes are then in the socket buffer of the watched end.
  void peer_sends(proact::tcp_socket& peer, const std::string& data) {
    ASSERT_TRUE(send_all(peer_port_, peer, data.data(), data.size()));
    std::this_thread::sleep_for(20ms);
  }
  // The peer receives exactly `size` bytes and notes them in the trace.
  void peer_receives(proact::tcp_socket& peer, std::size_t size) {
    std::string in(size, '\0');
    ASSERT_TRUE(recv_exactly(peer_port_, peer, in.data(), size));
    t_.note("peer got \"" + in + "\"");
  }
  // The peer receives until end of stream and notes what it got.
  void peer_receives_until_eof(proact::tcp_socket& peer) {
    std::vector<unsigned char> in;
    ASSERT_TRUE(recv_until_eof(peer_port_, peer, in));
    t_.note("peer got \"" + text(in.data(), in.size()) + "\" then eof");
  }

  proact::port peer_port_;
  trace t_;
};

}  // namespace proact_test
