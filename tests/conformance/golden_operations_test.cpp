// Golden traces of the operations beyond TCP: UDP truncation, file end of file,
// send_file, cancel and close of every kind, local streams. The expected
// traces are tests/conformance/golden/<scenario>.trace.
#include <cstdint>
#include <string>
#include <thread>

#include "golden_fixture.hpp"

namespace proact_test {
namespace {

using proact::file_mode;

// Keys of the watched handles (the trace shows them).
constexpr std::uintptr_t listener = 1;
constexpr std::uintptr_t client = 2;
constexpr std::uintptr_t server = 7;
constexpr std::uintptr_t udp = 11;
constexpr std::uintptr_t file = 21;
constexpr std::uintptr_t sender = 31;
constexpr std::uintptr_t local = 51;

// A golden scenario with a temporary directory.
class GoldenWithFiles : public Golden {
 protected:
  void SetUp() override {
    Golden::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_TRUE(dir_.ok()) << dir_.why();
  }
  temp_directory dir_;
};

// A file of `size` bytes whose content is a single 'z' at its last byte
// (sparse): the source of a send_file that cannot finish.
void make_large_source(proact::port& p, temp_directory& dir, proact::file& f, std::size_t size) {
  ASSERT_OK(f.open(dir.path("large"), file_mode::read | file_mode::write | file_mode::create));
  ASSERT_OK(p.associate(f, 0xF0));
  ASSERT_TRUE(write_at_and_wait(p, f, size - 1, "z", 1));
}

TEST_F(Golden, UdpTruncation) {
  proact::udp_socket b;  // watched
  proact::endpoint b_address;
  ASSERT_TRUE(open_udp_on_loopback(port_, b, b_address, proact::address_family::ipv4, udp));
  proact::udp_socket a;  // the peer
  proact::endpoint a_address;
  ASSERT_TRUE(open_udp_on_loopback(peer_port_, a, a_address, proact::address_family::ipv4, 100));
  const auto peer_sends_datagram = [&](const std::string& data) {
    proact::operation op;
    ASSERT_OK(a.send_to(op, proact::const_buffer(data.data(), data.size()), b_address));
    proact::completion c;
    ASSERT_TRUE(wait_one(peer_port_, c));
    ASSERT_FALSE(c.error) << describe(c.error);
  };
  char small[4];
  char large[16];
  proact::endpoint source1;
  proact::endpoint source2;
  proact::operation r1;
  proact::operation r2;
  proact::operation r3;
  t_.start("recv_from#1", r1, b.recv_from(r1, proact::make_buffer(small), &source1));
  t_.start("recv_from#2", r2, b.recv_from(r2, proact::make_buffer(large), &source2));
  t_.start("recv_from#3", r3, b.recv_from(r3, proact::make_buffer(large)));
  t_.idle(port_);
  // Too large for the first: the bytes that fit, message_size.
  peer_sends_datagram("0123456789");
  t_.next(port_);
  t_.data("recv_from#1", small, 4);
  t_.note(std::string("recv_from#1 source is the sender: ") +
          (source1 == a_address ? "yes" : "no"));
  // The rest of it is gone: the next datagram goes to the next recv_from.
  peer_sends_datagram("ok");
  t_.next(port_);
  t_.data("recv_from#2", large, 2);
  // An empty datagram: 0 bytes, no error.
  peer_sends_datagram("");
  t_.next(port_);
  // Scatter: 2 + 3 bytes of a 7-byte datagram.
  char x[2];
  char y[3];
  const proact::buffer pieces[] = {proact::make_buffer(x), proact::make_buffer(y)};
  proact::operation r4;
  t_.start("recv_from#4", r4, b.recv_from(r4, pieces));
  peer_sends_datagram("abcdefg");
  t_.next(port_);
  t_.data("recv_from#4 first", x, 2);
  t_.data("recv_from#4 second", y, 3);
  t_.idle(port_);
  expect_trace("udp_truncation");
}

TEST_F(GoldenWithFiles, FileEof) {
  proact::file f;
  ASSERT_OK(f.open(dir_.path("eof"),
                   file_mode::read | file_mode::write | file_mode::create | file_mode::truncate));
  ASSERT_OK(port_.associate(f, file));
  proact::operation op;  // one at a time: file operations may complete in any order
  t_.start("write_at#1", op, f.write_at(op, 0, proact::make_buffer("hello world", 11)));
  t_.next(port_);
  char in[100];
  t_.start("read_at#1", op, f.read_at(op, 0, proact::buffer{in, 5}));
  t_.next(port_);
  t_.data("read_at#1", in, 5);
  // Across the end: the bytes there, no error.
  t_.start("read_at#2", op, f.read_at(op, 6, proact::make_buffer(in)));
  t_.next(port_);
  t_.data("read_at#2", in, 5);
  // At and past the end: 0 bytes, eof.
  t_.start("read_at#3", op, f.read_at(op, 11, proact::buffer{in, 10}));
  t_.next(port_);
  t_.start("read_at#4", op, f.read_at(op, 1000, proact::buffer{in, 10}));
  t_.next(port_);
  // A write past the end extends the file; the gap reads as zeros.
  t_.start("write_at#2", op, f.write_at(op, 20, proact::make_buffer("!", 1)));
  t_.next(port_);
  t_.start("read_at#5", op, f.read_at(op, 11, proact::make_buffer(in)));
  t_.next(port_);
  t_.data("read_at#5", in, 10);
  t_.idle(port_);
  expect_trace("file_eof");
}

TEST_F(GoldenWithFiles, SendFile) {
  {
    proact::file w;
    ASSERT_OK(w.open(dir_.path("source"), file_mode::write | file_mode::create));
    ASSERT_OK(peer_port_.associate(w, 0xF0));
    ASSERT_TRUE(write_at_and_wait(peer_port_, w, 0, "0123456789abcdefghij", 20));
  }
  proact::file source;
  ASSERT_OK(source.open(dir_.path("source"), file_mode::read));
  tcp_pair pair;  // client watched, server is the peer
  connect(pair, port_, sender, peer_port_, 100);
  if (HasFatalFailure()) return;
  proact::tcp_socket& s = pair.client;
  // A send, a range of the file, a send: completions and bytes in that order.
  proact::operation s1;
  proact::operation f1;
  proact::operation s2;
  t_.start("send#1", s1, s.send(s1, proact::make_buffer("head:", 5)));
  t_.start("send_file#1", f1, s.send_file(f1, source, 2, 10));
  t_.start("send#2", s2, s.send(s2, proact::make_buffer(":tail", 5)));
  t_.next(port_);
  t_.next(port_);
  t_.next(port_);
  peer_receives(pair.server, 20);
  // A range past the end: the bytes there, then eof.
  t_.start("send_file#2", f1, s.send_file(f1, source, 15, 10));
  t_.next(port_);
  peer_receives(pair.server, 5);
  // A range starting at the end: nothing, eof.
  t_.start("send_file#3", f1, s.send_file(f1, source, 20, 4));
  t_.next(port_);
  // An empty range: nothing, no error.
  t_.start("send_file#4", f1, s.send_file(f1, source, 0, 0));
  t_.next(port_);
  ASSERT_OK(s.shutdown_send());
  peer_receives_until_eof(pair.server);  // nothing more went
  t_.idle(port_);
  expect_trace("send_file");
}

TEST_F(GoldenWithFiles, CancelEachKind) {
  // accept
  proact::tcp_listener l;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, l, address, proact::address_family::ipv4, listener));
  proact::tcp_socket peer;
  proact::operation a1;
  t_.start("accept#1", a1, l.accept(a1, peer));
  t_.call("cancel accept#1", l.cancel(a1));
  t_.next(port_);
  t_.call("cancel accept#1 again", l.cancel(a1));

  // recv: one, then all
  tcp_pair pair;
  connect(pair, peer_port_, 100, port_, server);
  if (HasFatalFailure()) return;
  char in1[8];
  char in2[8];
  proact::operation r1;
  proact::operation r2;
  t_.start("recv#1", r1, pair.server.recv(r1, proact::make_buffer(in1)));
  t_.start("recv#2", r2, pair.server.recv(r2, proact::make_buffer(in2)));
  t_.call("cancel recv#2", pair.server.cancel(r2));
  t_.next(port_);
  t_.call("cancel all of server", pair.server.cancel());
  t_.next(port_);
  t_.call("cancel all of server again", pair.server.cancel());
  // A recv that already completed (data was waiting) is not pending any more.
  peer_sends(pair.client, "done");
  t_.start("recv#3", r1, pair.server.recv(r1, proact::make_buffer(in1)));
  std::this_thread::sleep_for(20ms);
  t_.call("cancel recv#3", pair.server.cancel(r1));
  t_.next(port_);
  // zero-byte recv
  proact::operation p1;
  t_.start("probe#1", p1, pair.server.recv(p1, proact::buffer{nullptr, 0}));
  t_.call("cancel probe#1", pair.server.cancel(p1));
  t_.next(port_);

  // recv_from
  proact::udp_socket u;
  proact::endpoint u_address;
  ASSERT_TRUE(open_udp_on_loopback(port_, u, u_address, proact::address_family::ipv4, udp));
  proact::operation rf1;
  t_.start("recv_from#1", rf1, u.recv_from(rf1, proact::make_buffer(in1)));
  t_.call("cancel recv_from#1", u.cancel(rf1));
  t_.next(port_);

  // send_file that cannot finish: aborted with the bytes that went
  proact::file large;
  make_large_source(peer_port_, dir_, large, stuck_transfer_size);
  if (HasFatalFailure()) return;
  tcp_pair sending;
  connect(sending, port_, sender, peer_port_, 101);
  if (HasFatalFailure()) return;
  proact::operation sf1;
  t_.start("send_file#1", sf1, sending.client.send_file(sf1, large, 0, stuck_transfer_size));
  t_.idle(port_);
  t_.call("cancel send_file#1", sending.client.cancel(sf1));
  t_.next_below(port_, stuck_transfer_size);

  // disconnect waiting for the peer's close
  tcp_pair leaving;
  connect(leaving, port_, client, peer_port_, 102);
  if (HasFatalFailure()) return;
  proact::operation d1;
  t_.start("disconnect#1", d1, leaving.client.disconnect(d1));
  t_.idle(port_);
  t_.call("cancel disconnect#1", leaving.client.cancel(d1));
  t_.next(port_);
  t_.idle(port_);
  expect_trace("cancel_kinds");
}

TEST_F(Golden, CancelAndCloseConnect) {
  full_listener target;
  std::string why;
  if (!target.open(proact::address_family::ipv4, why))
    GTEST_SKIP() << "no connect can be kept pending here: " << why;
  proact::tcp_socket s;
  ASSERT_OK(s.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s, client));
  proact::operation c1;
  t_.start("connect#1", c1, s.connect(c1, target.address()));
  t_.idle(port_);
  t_.call("cancel connect#1", s.cancel(c1));
  t_.next(port_);
  proact::tcp_socket s2;
  ASSERT_OK(s2.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s2, client + 1));
  t_.start("connect#2", c1, s2.connect(c1, target.address()));
  t_.idle(port_);
  t_.call("cancel all of socket 2", s2.cancel());
  t_.next(port_);
  proact::tcp_socket s3;
  ASSERT_OK(s3.open(proact::address_family::ipv4));
  ASSERT_OK(port_.associate(s3, client + 2));
  t_.start("connect#3", c1, s3.connect(c1, target.address()));
  t_.idle(port_);
  t_.call("close socket 3", s3.close());
  t_.next(port_);
  t_.idle(port_);
  expect_trace("cancel_connect");
}

TEST_F(GoldenWithFiles, CloseEachKind) {
  char in[8];
  // listener with a pending accept
  proact::tcp_listener l;
  proact::endpoint address;
  ASSERT_TRUE(listen_on_loopback(port_, l, address, proact::address_family::ipv4, listener));
  proact::tcp_socket peer;
  proact::operation a1;
  t_.start("accept#1", a1, l.accept(a1, peer));
  t_.call("close listener", l.close());
  t_.next(port_);
  // UDP socket with a pending recv_from
  proact::udp_socket u;
  proact::endpoint u_address;
  ASSERT_TRUE(open_udp_on_loopback(port_, u, u_address, proact::address_family::ipv4, udp));
  proact::operation rf1;
  t_.start("recv_from#1", rf1, u.recv_from(rf1, proact::make_buffer(in)));
  t_.call("close udp", u.close());
  t_.next(port_);
  // a send_file that cannot finish
  proact::file large;
  make_large_source(peer_port_, dir_, large, stuck_transfer_size);
  if (HasFatalFailure()) return;
  tcp_pair sending;
  connect(sending, port_, sender, peer_port_, 101);
  if (HasFatalFailure()) return;
  proact::operation sf1;
  t_.start("send_file#1", sf1, sending.client.send_file(sf1, large, 0, stuck_transfer_size));
  t_.idle(port_);
  t_.call("close sender", sending.client.close());
  t_.next_below(port_, stuck_transfer_size);
  // a disconnect waiting for the peer's close
  tcp_pair leaving;
  connect(leaving, port_, client, peer_port_, 102);
  if (HasFatalFailure()) return;
  proact::operation d1;
  t_.start("disconnect#1", d1, leaving.client.disconnect(d1));
  t_.idle(port_);
  t_.call("close client", leaving.client.close());
  t_.next(port_);
  // a local stream with a pending recv
  proact::local_stream ends[2];
  ASSERT_OK(proact::local_stream::pair(ends[0], ends[1]));
  ASSERT_OK(port_.associate(ends[0], local));
  proact::operation r1;
  t_.start("recv#1", r1, ends[0].recv(r1, proact::make_buffer(in)));
  t_.idle(port_);
  t_.call("close local stream", ends[0].close());
  t_.next(port_);
  t_.idle(port_);
  expect_trace("close_kinds");
}

TEST_F(Golden, LocalStream) {
  proact::local_stream a;  // watched
  proact::local_stream b;  // the peer
  ASSERT_OK(proact::local_stream::pair(a, b));
  ASSERT_OK(port_.associate(a, local));
  ASSERT_OK(peer_port_.associate(b, 100));
  proact::operation s1;
  t_.start("send#1", s1, a.send(s1, proact::make_buffer("ping", 4)));
  t_.next(port_);
  char peer_in[8];
  proact::operation peer_op;
  ASSERT_OK(b.recv(peer_op, proact::make_buffer(peer_in)));
  proact::completion c;
  ASSERT_TRUE(wait_one(peer_port_, c));
  t_.note("peer got \"" + text(peer_in, c.bytes) + "\"");
  char in[8];
  proact::operation r1;
  t_.start("recv#1", r1, a.recv(r1, proact::make_buffer(in)));
  t_.idle(port_);
  ASSERT_OK(b.send(peer_op, proact::make_buffer("pong", 4)));
  ASSERT_TRUE(wait_one(peer_port_, c));
  t_.next(port_);
  t_.data("recv#1", in, 4);
  ASSERT_OK(b.close());
  proact::operation r2;
  t_.start("recv#2", r2, a.recv(r2, proact::make_buffer(in)));
  t_.next(port_);
  t_.idle(port_);
  expect_trace("local_stream");
}

}  // namespace
}  // namespace proact_test
