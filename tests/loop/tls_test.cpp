// TLS streams (docs/semantics.md, "TLS"): a proact client and a proact server
// on one loop over loopback TCP, with certificates made by tls_files.cpp.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "../conformance/fixture.hpp"
#include "loop_fixture.hpp"
#include "proact/tls.hpp"
#include "tls_files.hpp"

namespace proact_test {
namespace {

using namespace std::chrono_literals;
using proact::errc;

// when_all as a task, for sync_wait.
template <class... T>
proact::task<std::tuple<T...>> all_of(proact::task<T>... ts) {
  co_return co_await proact::when_all(std::move(ts)...);
}

class Tls : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    files_ = &tls_test_files();
    if (!files_->error.empty()) GTEST_SKIP() << files_->error;
    if (needs_server()) {
      if (const std::string& why = server_missing(); !why.empty()) GTEST_SKIP() << why;
    }
  }
  // Whether the case runs a proact TLS server (most do: client and server
  // talk to each other on one loop).
  virtual bool needs_server() const { return true; }

  // Why this platform's engine cannot be a TLS server, or empty: found out
  // once, with one handshake between a proact client and server. Wine 8.0's
  // SChannel has no server side (AcceptSecurityContext returns
  // SEC_E_UNSUPPORTED_FUNCTION); its client side runs in tls_peer_test.cpp.
  const std::string& server_missing() const {
    static const std::string why = [this]() -> std::string {
      auto lp = make_loop(1);
      proact::tcp_socket cs, ss;
      if (lp->start() || !connect_on_loop(*lp, cs, ss)) return std::string();
      proact::tls_context sctx, cctx;
      if (sctx.open(server_options()) || cctx.open(client_options(files_->ca)))
        return std::string();
      proact::tls_stream c(*lp, cs, cctx);
      proact::tls_stream s(*lp, ss, sctx);
      auto client = [](proact::tls_stream& t) -> proact::task<std::error_code> {
        auto [ec, n] = co_await t.handshake().with_timeout(10s);
        co_return ec;
      };
      // A server that fails ends the client's wait for its answer.
      auto server = [](proact::tls_stream& t,
                       proact::tls_stream& peer) -> proact::task<std::error_code> {
        auto [ec, n] = co_await t.handshake().with_timeout(10s);
        if (ec) (void)peer.close();
        co_return ec;
      };
      auto [a, b] = proact::sync_wait(*lp, all_of(client(c), server(s, c)));
      (void)a;
      constexpr int sec_e_unsupported_function = static_cast<int>(0x80090302U);
      if (b.value() == sec_e_unsupported_function &&
          std::string_view(b.category().name()).starts_with("schannel"))
        return "this platform's SChannel has no TLS server: AcceptSecurityContext returns "
               "SEC_E_UNSUPPORTED_FUNCTION (Wine 8.0 implements the client side only)";
      return std::string();
    }();
    return why;
  }

  proact::tls_options server_options() const {
    proact::tls_options o;
    o.role = proact::tls_role::server;
    use_server_identity(o, *files_);
    o.verify_peer = false;
    return o;
  }
  proact::tls_options client_options(const std::string& ca) const {
    proact::tls_options o;
    o.role = proact::tls_role::client;
    o.ca_file = ca;
    return o;
  }

  // A loop, a connected pair, and a client and server context.
  void open(unsigned threads = 1, const std::string* ca = nullptr) {
    lp_ = make_loop(threads);
    ASSERT_OK(lp_->start());
    ASSERT_TRUE(connect_on_loop(*lp_, client_, server_));
    ASSERT_OK(server_ctx_.open(server_options()));
    ASSERT_OK(client_ctx_.open(client_options(ca != nullptr ? *ca : files_->ca)));
  }

  // Both handshakes, at once; the client checks the name `host`.
  void handshake(proact::tls_stream& c, proact::tls_stream& s, std::string_view host,
                 std::error_code& client_ec, std::error_code& server_ec) {
    ASSERT_OK(c.set_host_name(host));
    auto run = [](proact::tls_stream& t) -> proact::task<std::error_code> {
      auto [ec, n] = co_await t.handshake().with_timeout(10s);
      co_return ec;
    };
    auto [a, b] = proact::sync_wait(*lp_, all_of(run(c), run(s)));
    client_ec = a;
    server_ec = b;
  }
  void handshake_ok(proact::tls_stream& c, proact::tls_stream& s) {
    std::error_code a, b;
    handshake(c, s, "localhost", a, b);
    ASSERT_OK(a);
    ASSERT_OK(b);
  }

  const tls_files* files_ = nullptr;
  proact::tls_context server_ctx_;
  proact::tls_context client_ctx_;
  proact::tcp_socket client_;
  proact::tcp_socket server_;
  std::unique_ptr<proact::loop> lp_;
};

// Counts completions of one callback operation; a second one is a failure.
struct counted_op {
  std::atomic<int> calls{0};
  std::error_code ec;
  std::size_t bytes = 0;
  proact::callback_op op{[this](std::size_t n, std::error_code e) {
    bytes = n;
    ec = e;
    calls.fetch_add(1);
  }};
};

proact::task<proact::io_result> send_all(proact::tls_stream& t,
                                         const std::vector<unsigned char>& v) {
  co_return co_await t.send(proact::const_buffer{v.data(), v.size()});
}

proact::task<proact::io_result> recv_exactly(proact::tls_stream& t, std::vector<unsigned char>& v) {
  std::size_t got = 0;
  while (got < v.size()) {
    auto [ec, n] = co_await t.recv(proact::buffer{v.data() + got, v.size() - got});
    got += n;
    if (ec) co_return proact::io_result{ec, got};
  }
  co_return proact::io_result{{}, got};
}

std::vector<unsigned char> pattern(std::size_t size, unsigned seed) {
  std::vector<unsigned char> v(size);
  std::uint32_t x = seed * 2654435761U + 1;
  for (auto& b : v) {
    x = x * 1103515245U + 12345U;
    b = static_cast<unsigned char>(x >> 16);
  }
  return v;
}

TEST_F(Tls, HandshakeVerifiesTheServerAndNegotiatesAlpn) {
  lp_ = make_loop(1);
  ASSERT_OK(lp_->start());
  ASSERT_TRUE(connect_on_loop(*lp_, client_, server_));
  auto so = server_options();
  so.alpn = {"h2", "http/1.1"};
  auto co = client_options(files_->ca);
  co.alpn = {"http/1.1"};
  ASSERT_OK(server_ctx_.open(so));
  ASSERT_OK(client_ctx_.open(co));
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  handshake_ok(c, s);
  EXPECT_EQ(c.alpn_protocol(), "http/1.1");
  EXPECT_EQ(s.alpn_protocol(), "http/1.1");
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, PingPongThenCloseNotifyGivesEof) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  auto server_side = [](proact::tls_stream& t) -> proact::task<std::string> {
    char buf[64];
    for (int i = 0; i < 100; ++i) {
      auto [ec, n] = co_await t.recv(proact::make_buffer(buf));
      if (ec) co_return "server recv: " + ec.message();
      auto [ec2, n2] = co_await t.send(proact::const_buffer{buf, n});
      if (ec2 || n2 != n) co_return "server send: " + ec2.message();
    }
    auto [ec, n] = co_await t.recv(proact::make_buffer(buf));
    if (!(ec == errc::eof) || n != 0) co_return "after close_notify: " + describe(ec);
    co_return "ok";
  };
  auto client_side = [](proact::tls_stream& t) -> proact::task<std::string> {
    char buf[64];
    for (int i = 0; i < 100; ++i) {
      const std::string msg = "ping " + std::to_string(i);
      auto [ec, n] = co_await t.send(proact::const_buffer{msg.data(), msg.size()});
      if (ec || n != msg.size()) co_return "client send: " + ec.message();
      std::size_t got = 0;
      while (got < msg.size()) {
        auto [ec2, n2] = co_await t.recv(proact::buffer{buf + got, sizeof buf - got});
        if (ec2) co_return "client recv: " + ec2.message();
        got += n2;
      }
      if (std::string(buf, got) != msg) co_return "echo differs: " + std::string(buf, got);
    }
    auto [ec, n] = co_await t.shutdown();
    if (ec) co_return "shutdown: " + ec.message();
    auto [ec2, n2] = co_await t.send(proact::make_buffer("late", 4));
    if (!(ec2 == errc::shut_down)) co_return "send after shutdown: " + describe(ec2);
    co_return "ok";
  };
  auto [a, b] = proact::sync_wait(*lp_, all_of(client_side(c), server_side(s)));
  EXPECT_EQ(a, "ok");
  EXPECT_EQ(b, "ok");
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, LargeTransfersInBothDirectionsAtOnce) {
  ASSERT_NO_FATAL_FAILURE(open(2));
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  const std::size_t size = 8 << 20;
  const auto up = pattern(size, 1);
  const auto down = pattern(size, 2);
  std::vector<unsigned char> got_up(size), got_down(size);
  auto [r1, r2, r3, r4] =
      proact::sync_wait(*lp_, all_of(send_all(c, up), send_all(s, down), recv_exactly(s, got_up),
                                     recv_exactly(c, got_down)));
  EXPECT_OK(r1.error);
  EXPECT_EQ(r1.bytes, size);
  EXPECT_OK(r2.error);
  EXPECT_EQ(r2.bytes, size);
  EXPECT_OK(r3.error);
  EXPECT_OK(r4.error);
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
  loop_reset_guard guard(lp_);
}

// The underlying operations may complete in their start calls: the stream
// takes those results in at once.
TEST_F(Tls, WorksOverSocketsThatSkipCompletionsOnSuccess) {
  ASSERT_NO_FATAL_FAILURE(open(2));
  ASSERT_OK(client_.skip_completion_on_success());
  ASSERT_OK(server_.skip_completion_on_success());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  const std::size_t size = 1 << 20;
  const auto up = pattern(size, 4);
  const auto down = pattern(size, 5);
  std::vector<unsigned char> got_up(size), got_down(size);
  auto [r1, r2, r3, r4] =
      proact::sync_wait(*lp_, all_of(send_all(c, up), send_all(s, down), recv_exactly(s, got_up),
                                     recv_exactly(c, got_down)));
  EXPECT_OK(r1.error);
  EXPECT_OK(r2.error);
  EXPECT_OK(r3.error);
  EXPECT_OK(r4.error);
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, QueuedSmallSendsShareRecordsAndCompleteInOrder) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  constexpr int count = 200;
  constexpr std::size_t piece = 10;
  std::array<counted_op, count> ops;
  std::vector<int> order;
  std::mutex order_mutex;
  event all_done;
  std::array<std::array<char, piece>, count> data{};
  for (int i = 0; i < count; ++i) {
    std::fill(data[i].begin(), data[i].end(), static_cast<char>('a' + i % 26));
    ops[i].op.set_handler([&, i](std::size_t n, std::error_code e) {
      ops[i].bytes = n;
      ops[i].ec = e;
      ops[i].calls.fetch_add(1);
      std::lock_guard lock(order_mutex);
      order.push_back(i);
      if (order.size() == count) all_done.set();
    });
  }
  // All queued before the loop thread gets to send any of them.
  std::atomic<bool> queued{false};
  ASSERT_OK(lp_->post([&] {
    for (int i = 0; i < count; ++i) {
      if (c.send(ops[i].op, proact::const_buffer{data[i].data(), piece})) return;
    }
    queued = true;
  }));
  // Only the loop's own thread runs the handlers (this one does not poll):
  // handlers that two threads run are in no defined order, as on a socket.
  ASSERT_TRUE(all_done.wait());
  EXPECT_TRUE(queued);
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(order[i], i);
    EXPECT_OK(ops[i].ec);
    EXPECT_EQ(ops[i].bytes, piece);
  }
  // The server's raw socket sees the ciphertext: one record per send would
  // be count * (piece + record overhead >= 22 bytes with AES-GCM).
  std::vector<unsigned char> raw(count * (piece + 22));
  std::size_t raw_bytes = 0;
  auto drain = [&]() -> proact::task<void> {
    for (;;) {
      auto [ec, n] =
          co_await server_.recv(proact::buffer{raw.data() + raw_bytes, raw.size() - raw_bytes})
              .with_timeout(200ms);
      raw_bytes += n;
      if (ec) co_return;
    }
  };
  proact::sync_wait(*lp_, drain());
  EXPECT_GT(raw_bytes, count * piece);
  EXPECT_LT(raw_bytes, count * (piece + 22)) << "small sends queued together were not coalesced";
  std::this_thread::sleep_for(20ms);
  for (auto& o : ops) EXPECT_EQ(o.calls.load(), 1);
  loop_reset_guard guard(lp_);
}

// Steady state: a callback ping-pong over TLS allocates nothing, neither in
// the stream nor in the engine (OpenSSL reuses its record buffers).
TEST_F(Tls, CallbackPingPongAllocatesNothingInSteadyState) {
  lp_ = make_loop(1);  // this thread runs it: no worker threads
  ASSERT_TRUE(connect_on_loop(*lp_, client_, server_));
  ASSERT_OK(server_ctx_.open(server_options()));
  ASSERT_OK(client_ctx_.open(client_options(files_->ca)));
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  counted_op ch, sh;
  ASSERT_OK(c.set_host_name("localhost"));
  ASSERT_OK(c.handshake(ch.op));
  ASSERT_OK(s.handshake(sh.op));
  ASSERT_TRUE(poll_until(*lp_, [&] { return ch.calls == 1 && sh.calls == 1; }));
  ASSERT_OK(ch.ec);
  ASSERT_OK(sh.ec);
  char in[64] = {};
  char out[64] = {};
  int received = 0;
  int failures = 0;
  proact::callback_op recv_op([&](std::size_t n, std::error_code ec) {
    if (ec || n == 0) ++failures;
    ++received;
  });
  proact::callback_op send_op([&](std::size_t, std::error_code ec) {
    if (ec) ++failures;
  });
  auto round = [&] {
    const int before = received;
    if (s.recv(recv_op, proact::make_buffer(in))) return false;
    if (c.send(send_op, proact::const_buffer{out, 16})) return false;
    return poll_until(*lp_, [&] { return received > before && !send_op.in_flight(); });
  };
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(round());
  start_counting_allocations();
  for (int i = 0; i < 1000; ++i) (void)round();
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_EQ(received, 1020);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(allocations, 0U) << "heap allocations during 1,000 TLS recv + send rounds";
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, RunsOverALocalStream) {
  lp_ = make_loop(1);
  ASSERT_OK(lp_->start());
  ASSERT_OK(server_ctx_.open(server_options()));
  ASSERT_OK(client_ctx_.open(client_options(files_->ca)));
  proact::local_stream a, b;
  ASSERT_OK(proact::local_stream::pair(a, b));
  ASSERT_OK(lp_->associate(a));
  ASSERT_OK(lp_->associate(b));
  proact::tls_stream c(*lp_, a, client_ctx_);
  proact::tls_stream s(*lp_, b, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  auto body = [](proact::tls_stream& x, proact::tls_stream& y) -> proact::task<std::string> {
    (void)co_await x.send(proact::make_buffer("over a local stream", 19));
    char buf[32];
    auto [ec, n] = co_await y.recv(proact::make_buffer(buf));
    if (ec) co_return ec.message();
    co_return std::string(buf, n);
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body(c, s)), "over a local stream");
  loop_reset_guard guard(lp_);
}

// A server that verifies its peer wants a client certificate from the CA.
TEST_F(Tls, AServerThatVerifiesPeersRequiresAClientCertificate) {
  for (const bool with_certificate : {true, false}) {
    SCOPED_TRACE(with_certificate ? "client with a certificate" : "client without one");
    auto lp = make_loop(1);
    ASSERT_OK(lp->start());
    proact::tcp_socket cs, ss;
    ASSERT_TRUE(connect_on_loop(*lp, cs, ss));
    auto so = server_options();
    so.verify_peer = true;
    so.ca_file = files_->ca;
    auto co = client_options(files_->ca);
    if (with_certificate) {  // the server's own pair will do: the same CA signed it
      use_server_identity(co, *files_);
    }
    proact::tls_context sctx, cctx;
    ASSERT_OK(sctx.open(so));
    ASSERT_OK(cctx.open(co));
    proact::tls_stream c(*lp, cs, cctx);
    proact::tls_stream s(*lp, ss, sctx);
    ASSERT_OK(c.set_host_name("localhost"));
    auto server_side = [](proact::tls_stream& t) -> proact::task<std::error_code> {
      auto [ec, n] = co_await t.handshake().with_timeout(10s);
      co_return ec;
    };
    // TLS 1.3: the client is done before the server checked it, and learns
    // of a refusal with its next read.
    auto client_side = [](proact::tls_stream& t) -> proact::task<std::error_code> {
      auto [ec, n] = co_await t.handshake().with_timeout(10s);
      if (ec) co_return ec;
      char buf[4];
      auto [ec2, n2] = co_await t.recv(proact::make_buffer(buf)).with_timeout(300ms);
      co_return ec2 == errc::timed_out ? std::error_code() : ec2;
    };
    auto [a, b] = proact::sync_wait(*lp, all_of(client_side(c), server_side(s)));
    if (with_certificate) {
      EXPECT_OK(a);
      EXPECT_OK(b);
    } else {
      EXPECT_TRUE(b == errc::tls_handshake_failed) << describe(b);
      EXPECT_TRUE(a) << "the client must learn that the server refused it";
    }
    lp.reset();
  }
}

// Cases with a proact client only.
class TlsClient : public Tls {
 protected:
  bool needs_server() const override { return false; }
};

TEST_F(TlsClient, RecvAndSendBeforeTheHandshakeAreNotConnected) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  auto body = [](proact::tls_stream& t) -> proact::task<std::string> {
    char buf[8];
    auto [ec, n] = co_await t.recv(proact::make_buffer(buf));
    if (!(ec == errc::not_connected)) co_return "recv: " + describe(ec);
    auto [ec2, n2] = co_await t.send(proact::make_buffer("x", 1));
    if (!(ec2 == errc::not_connected)) co_return "send: " + describe(ec2);
    co_return "ok";
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body(c)), "ok");
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, WrongCaFailsVerificationOnTheClient) {
  ASSERT_NO_FATAL_FAILURE(open(1, &files_->other_ca));
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  std::error_code a, b;
  handshake(c, s, "localhost", a, b);
  EXPECT_TRUE(a == errc::tls_verification_failed) << describe(a);
  EXPECT_TRUE(a == errc::tls_handshake_failed) << describe(a);
  EXPECT_STREQ(a.category().name(), "x509 verify");  // the engine's own code
  // The client's alert (or its going away) fails the server's handshake.
  EXPECT_TRUE(b == errc::tls_handshake_failed) << describe(b);
  EXPECT_FALSE(b == errc::tls_verification_failed) << describe(b);
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, WrongHostNameFailsVerification) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  std::error_code a, b;
  handshake(c, s, "not-localhost.example", a, b);
  EXPECT_TRUE(a == errc::tls_verification_failed) << describe(a);
  EXPECT_TRUE(b == errc::tls_handshake_failed) << describe(b);
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, AnAddressIsCheckedAsOne) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  std::error_code a, b;
  handshake(c, s, "127.0.0.1", a, b);
  EXPECT_OK(a);
  EXPECT_OK(b);
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, TransportEndWithoutCloseNotifyIsTruncation) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  auto body = [](proact::tls_stream& t, proact::tls_stream& peer,
                 proact::tcp_socket& peer_socket) -> proact::task<std::string> {
    auto [e0, n0] = co_await peer.send(proact::make_buffer("data", 4));
    if (e0) co_return "send: " + e0.message();
    if (auto e = peer_socket.shutdown_send()) co_return "shutdown_send: " + e.message();
    char buf[16];
    auto [ec, n] = co_await t.recv(proact::make_buffer(buf));
    if (ec || std::string(buf, n) != "data") co_return "first recv: " + describe(ec);
    auto [ec2, n2] = co_await t.recv(proact::make_buffer(buf));
    if (!(ec2 == errc::tls_truncated)) co_return "second recv: " + describe(ec2);
    if (ec2 == errc::eof) co_return "truncation reads as eof";
    co_return "ok";
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body(s, c, client_)), "ok");
  loop_reset_guard guard(lp_);
}

TEST_F(Tls, PeerResetMidRecordFailsThePendingRecv) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  counted_op r;
  char buf[64];
  ASSERT_OK(s.recv(r.op, proact::make_buffer(buf)));
  // Half a record's header, then a reset: the client closes with bytes it
  // never read.
  auto body = [](proact::tcp_socket& raw, proact::tcp_socket& other) -> proact::task<void> {
    const unsigned char half[3] = {0x17, 0x03, 0x03};
    (void)co_await raw.send(proact::const_buffer{half, sizeof half});
    (void)co_await other.send(proact::make_buffer("unread", 6));
  };
  proact::sync_wait(*lp_, body(client_, server_));
  std::this_thread::sleep_for(20ms);
  ASSERT_OK(c.close());
  ASSERT_OK(client_.close());
  ASSERT_TRUE(poll_until(*lp_, [&] { return r.calls.load() == 1; }));
  EXPECT_TRUE(r.ec == errc::connection_reset || r.ec == errc::connection_aborted) << describe(r.ec);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(r.calls.load(), 1);
  loop_reset_guard guard(lp_);
}

// A zero-byte recv (item 20) waits for decrypted bytes and takes none; the
// peer's close_notify ends it with eof.
TEST_F(Tls, ZeroByteRecvWaitsForDataAndTakesNone) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  counted_op z;
  ASSERT_OK(s.recv(z.op, proact::buffer{nullptr, 0}));
  // TLS 1.3 session tickets reach the client, not the server; nothing else
  // is on its way.
  (void)poll_until(
      *lp_, [] { return false; }, 50ms);
  EXPECT_EQ(z.calls.load(), 0) << "completed with nothing to read: " << describe(z.ec);
  auto send = [](proact::tls_stream& t) -> proact::task<std::error_code> {
    auto [ec, n] = co_await t.send(proact::make_buffer("hello", 5));
    co_return ec;
  };
  ASSERT_OK(proact::sync_wait(*lp_, send(c)));
  ASSERT_TRUE(poll_until(*lp_, [&] { return z.calls.load() == 1; }));
  EXPECT_OK(z.ec);
  EXPECT_EQ(z.bytes, 0U);
  auto recv = [](proact::tls_stream& t) -> proact::task<std::string> {
    char buf[16];
    auto [ec, n] = co_await t.recv(proact::make_buffer(buf)).with_timeout(10s);
    if (ec) co_return "recv: " + describe(ec);
    co_return std::string(buf, n);
  };
  EXPECT_EQ(proact::sync_wait(*lp_, recv(s)), "hello");
  counted_op end;
  ASSERT_OK(s.recv(end.op, proact::buffer{nullptr, 0}));
  auto shut = [](proact::tls_stream& t) -> proact::task<std::error_code> {
    auto [ec, n] = co_await t.shutdown();
    co_return ec;
  };
  ASSERT_OK(proact::sync_wait(*lp_, shut(c)));
  ASSERT_TRUE(poll_until(*lp_, [&] { return end.calls.load() == 1; }));
  EXPECT_TRUE(end.ec == errc::eof) << describe(end.ec);
  EXPECT_EQ(z.calls.load(), 1);
  loop_reset_guard guard(lp_);
}

// Cancel and close, during the handshake, a read and a write: each pending
// operation completes once, with operation_aborted.
enum class ender { cancel_one, cancel_all, close, close_socket };

class TlsEnd : public Tls, public ::testing::WithParamInterface<ender> {
 protected:
  bool needs_server() const override { return false; }
  void end(proact::tls_stream& t, proact::tcp_socket& sock, proact::operation& op) {
    switch (GetParam()) {
      case ender::cancel_one:
        ASSERT_OK(t.cancel(op));
        break;
      case ender::cancel_all:
        ASSERT_OK(t.cancel());
        break;
      case ender::close:
        ASSERT_OK(t.close());
        break;
      case ender::close_socket:
        ASSERT_OK(sock.close());
        break;
    }
  }
  void expect_once_aborted(counted_op& o) {
    ASSERT_TRUE(poll_until(*lp_, [&] { return o.calls.load() >= 1; }));
    EXPECT_TRUE(o.ec == errc::operation_aborted) << describe(o.ec);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(o.calls.load(), 1);
  }
};

TEST_P(TlsEnd, DuringTheHandshake) {
  ASSERT_NO_FATAL_FAILURE(open());
  // The server never answers: its socket has no TLS stream.
  proact::tls_stream c(*lp_, client_, client_ctx_);
  counted_op h;
  ASSERT_OK(c.handshake(h.op));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(h.calls.load(), 0);
  end(c, client_, h.op);
  expect_once_aborted(h);
  loop_reset_guard guard(lp_);
}

TEST_P(TlsEnd, DuringARead) {
  if (const std::string& why = server_missing(); !why.empty()) GTEST_SKIP() << why;
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  counted_op r;
  char buf[16];
  ASSERT_OK(c.recv(r.op, proact::make_buffer(buf)));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(r.calls.load(), 0);
  end(c, client_, r.op);
  expect_once_aborted(r);
  if (GetParam() == ender::cancel_one || GetParam() == ender::cancel_all) {
    // The stream goes on: the next recv gets the next bytes.
    auto body = [](proact::tls_stream& a, proact::tls_stream& b) -> proact::task<std::string> {
      (void)co_await b.send(proact::make_buffer("after", 5));
      char in[16];
      auto [ec, n] = co_await a.recv(proact::make_buffer(in));
      if (ec) co_return ec.message();
      co_return std::string(in, n);
    };
    EXPECT_EQ(proact::sync_wait(*lp_, body(c, s)), "after");
  }
  loop_reset_guard guard(lp_);
}

TEST_P(TlsEnd, DuringAWrite) {
  if (const std::string& why = server_missing(); !why.empty()) GTEST_SKIP() << why;
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  // Far more than the socket buffers hold, and the server does not read.
  const auto big = pattern(64 << 20, 3);
  counted_op w;
  ASSERT_OK(c.send(w.op, proact::const_buffer{big.data(), big.size()}));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(w.calls.load(), 0);
  end(c, client_, w.op);
  expect_once_aborted(w);
  EXPECT_LT(w.bytes, big.size());
  loop_reset_guard guard(lp_);
}

INSTANTIATE_TEST_SUITE_P(, TlsEnd,
                         ::testing::Values(ender::cancel_one, ender::cancel_all, ender::close,
                                           ender::close_socket),
                         [](const ::testing::TestParamInfo<ender>& i) {
                           switch (i.param) {
                             case ender::cancel_one:
                               return "CancelOne";
                             case ender::cancel_all:
                               return "CancelAll";
                             case ender::close:
                               return "Close";
                             case ender::close_socket:
                               return "CloseTheSocket";
                           }
                           return "?";
                         });

TEST_F(Tls, DeadlinesTimeOutTlsOperations) {
  ASSERT_NO_FATAL_FAILURE(open());
  proact::tls_stream c(*lp_, client_, client_ctx_);
  proact::tls_stream s(*lp_, server_, server_ctx_);
  ASSERT_NO_FATAL_FAILURE(handshake_ok(c, s));
  auto body = [](proact::tls_stream& t) -> proact::task<std::string> {
    char buf[16];
    const auto start = std::chrono::steady_clock::now();
    auto [ec, n] = co_await t.recv(proact::make_buffer(buf)).with_timeout(50ms);
    if (!(ec == errc::timed_out)) co_return "awaited: " + describe(ec);
    if (std::chrono::steady_clock::now() - start < 45ms) co_return "too early";
    co_return "ok";
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body(c)), "ok");
  counted_op r;
  char buf[16];
  ASSERT_OK(r.op.start_with_timeout(*lp_, c, 50ms, [&](proact::operation& o) {
    return c.recv(static_cast<proact::callback_op&>(o), proact::make_buffer(buf));
  }));
  ASSERT_TRUE(poll_until(*lp_, [&] { return r.calls.load() == 1; }));
  EXPECT_TRUE(r.ec == errc::timed_out) << describe(r.ec);
  loop_reset_guard guard(lp_);
}

TEST_F(TlsClient, AServerWithoutACertificateIsRefused) {
  proact::tls_context ctx;
  proact::tls_options o;
  o.role = proact::tls_role::server;
  EXPECT_TRUE(ctx.open(o) == errc::invalid_argument);
  o.certificate_file = files_->dir + "/missing.pem";
  const std::error_code ec = ctx.open(o);
  EXPECT_TRUE(ec) << "a missing certificate file must fail";
  EXPECT_FALSE(ctx.is_open());
}

}  // namespace
}  // namespace proact_test
