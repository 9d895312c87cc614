// A proact TLS client against a server outside the test process: `openssl
// s_server -rev` (each line answered reversed), started by the test driver
// (tests/tls/tls_peer.sh) with the certificates it made. This is how the
// Windows build's client is checked under Wine, where the Linux server runs
// outside Wine; the same cases run on every backend. Run without the driver
// on Linux, the test starts the server itself.
#include <atomic>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "../conformance/fixture.hpp"
#include "loop_fixture.hpp"
#include "proact/tls.hpp"
#include "tls_files.hpp"
#ifndef _WIN32
#include "tls_child.hpp"
#endif

namespace proact_test {
namespace {

using namespace std::chrono_literals;
using proact::errc;

class TlsPeer : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    files_ = &tls_test_files();
    if (!files_->error.empty()) GTEST_SKIP() << files_->error;
    const char* port = std::getenv("PROACT_TLS_TEST_SERVER_PORT");
    if (port != nullptr && *port != '\0') {
      port_ = static_cast<std::uint16_t>(std::atoi(port));
    } else {
#ifdef _WIN32
      GTEST_SKIP() << "PROACT_TLS_TEST_SERVER_PORT is not set: under Windows these cases need "
                      "the TLS server the test driver starts (ctest runs the suite through "
                      "tests/tls/tls_peer.sh)";
#else
      port_ = free_port();
      ASSERT_NE(port_, 0);
      server_ = std::make_unique<child>(
          "exec openssl s_server -quiet -rev -alpn http/1.1 -accept 127.0.0.1:" +
          std::to_string(port_) + " -cert '" + files_->cert + "' -key '" + files_->key +
          "' > /dev/null 2>&1 < /dev/null");
      ASSERT_TRUE(server_->started());
#endif
    }
    lp_ = make_loop(1);
    ASSERT_OK(lp_->start());
  }
  void TearDown() override {
    lp_.reset();
#ifndef _WIN32
    server_.reset();
#endif
  }

  // Connects and handshakes, checking the name `host`.
  proact::task<std::error_code> connect_and_handshake(proact::tls_stream& tls,
                                                      std::string_view host) {
    proact::loop& lp = *co_await proact::get_loop();
    const auto at = proact::endpoint::loopback(proact::address_family::ipv4, port_);
    std::error_code ec;
    for (int attempt = 0; attempt < 100; ++attempt) {  // until the server listens
      if (sock_.is_open()) (void)sock_.close();
      if (auto e = sock_.open(proact::address_family::ipv4)) co_return e;
      if (auto e = lp.associate(sock_)) co_return e;
      auto [e, n] = co_await sock_.connect(at).with_timeout(10s);
      ec = e;
      if (!(ec == errc::connection_refused)) break;
      proact::timer t(lp);
      (void)co_await t.wait(50ms);
    }
    if (ec) co_return ec;
    if (auto e = tls.set_host_name(host)) co_return e;
    auto [eh, nh] = co_await tls.handshake().with_timeout(20s);
    co_return eh;
  }

  std::uint16_t port_ = 0;
  const tls_files* files_ = nullptr;
#ifndef _WIN32
  std::unique_ptr<child> server_;  // the server when no driver started one
#endif
  std::unique_ptr<proact::loop> lp_;
  proact::tls_context ctx_;
  proact::tcp_socket sock_;
};

TEST_F(TlsPeer, HandshakeEchoAndCloseNotify) {
  proact::tls_options o;
  o.ca_file = files_->ca;
  ASSERT_OK(ctx_.open(o));
  proact::tls_stream tls(*lp_, sock_, ctx_);
  auto body = [&]() -> proact::task<std::string> {
    if (auto e = co_await connect_and_handshake(tls, "localhost"))
      co_return "handshake: " + describe(e);
    if (!tls.alpn_protocol().empty()) co_return "alpn: " + tls.alpn_protocol();
    const std::string line = "hello proact\n";
    auto [es, ns] = co_await tls.send(proact::const_buffer{line.data(), line.size()});
    if (es || ns != line.size()) co_return "send: " + describe(es);
    // A zero-byte recv completes once the answer is decrypted, taking none of it.
    auto [ez, nz] = co_await tls.recv(proact::buffer{nullptr, 0}).with_timeout(10s);
    if (ez || nz != 0) co_return "zero-byte recv: " + describe(ez);
    std::string got;
    char buf[64];
    while (got.find('\n') == std::string::npos) {
      auto [er, nr] = co_await tls.recv(proact::make_buffer(buf)).with_timeout(10s);
      if (er) co_return "recv: " + describe(er);
      got.append(buf, nr);
    }
    auto [ed, nd] = co_await tls.shutdown();
    if (ed) co_return "shutdown: " + describe(ed);
    auto [el, nl] = co_await tls.send(proact::make_buffer("late", 4));
    if (!(el == errc::shut_down)) co_return "send after shutdown: " + describe(el);
    co_return got;
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body()), "tcaorp olleh\n");
}

// Many small sends queued at once share records; the answers come back in
// records read through a small buffer (decrypted bytes wait in the engine).
TEST_F(TlsPeer, QueuedSendsAndSmallReads) {
  proact::tls_options o;
  o.ca_file = files_->ca;
  ASSERT_OK(ctx_.open(o));
  proact::tls_stream tls(*lp_, sock_, ctx_);
  auto body = [&]() -> proact::task<std::string> {
    if (auto e = co_await connect_and_handshake(tls, "localhost"))
      co_return "handshake: " + describe(e);
    constexpr int lines = 300;
    std::vector<std::string> out;
    std::string expected;
    for (int i = 0; i < lines; ++i) {
      std::string l =
          "line " + std::to_string(i) + " " + std::string(static_cast<std::size_t>(i % 90), 'x');
      expected += std::string(l.rbegin(), l.rend()) + "\n";
      out.push_back(l + "\n");
    }
    std::deque<proact::callback_op> ops;
    std::atomic<int> sent{0}, failed{0};
    for (int i = 0; i < lines; ++i) {
      ops.emplace_back([&](std::size_t, std::error_code ec) {
        if (ec) failed.fetch_add(1);
        sent.fetch_add(1);
      });
    }
    for (int i = 0; i < lines; ++i) {
      if (auto e = tls.send(ops[static_cast<std::size_t>(i)],
                            proact::const_buffer{out[static_cast<std::size_t>(i)].data(),
                                                 out[static_cast<std::size_t>(i)].size()}))
        co_return "send: " + describe(e);
    }
    std::string got;
    char buf[7];
    while (got.size() < expected.size()) {
      auto [er, nr] = co_await tls.recv(proact::make_buffer(buf)).with_timeout(20s);
      if (er) co_return "recv after " + std::to_string(got.size()) + ": " + describe(er);
      got.append(buf, nr);
    }
    while (sent.load() != lines) {
      proact::timer t(*co_await proact::get_loop());
      (void)co_await t.wait(5ms);
    }
    if (failed.load() != 0) co_return std::to_string(failed.load()) + " sends failed";
    (void)co_await tls.shutdown();
    co_return got == expected ? "ok" : "the echo differs";
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body()), "ok");
}

// The server speaks http/1.1 only: the client's second choice is taken.
TEST_F(TlsPeer, AlpnNegotiatesTheServersProtocol) {
  proact::tls_options o;
  o.ca_file = files_->ca;
  o.alpn = {"h2", "http/1.1"};
  ASSERT_OK(ctx_.open(o));
  proact::tls_stream tls(*lp_, sock_, ctx_);
  ASSERT_OK(proact::sync_wait(*lp_, connect_and_handshake(tls, "localhost")));
  EXPECT_EQ(tls.alpn_protocol(), "http/1.1");
}

TEST_F(TlsPeer, WrongCaFailsVerification) {
  proact::tls_options o;
  o.ca_file = files_->other_ca;
  ASSERT_OK(ctx_.open(o));
  proact::tls_stream tls(*lp_, sock_, ctx_);
  const std::error_code ec = proact::sync_wait(*lp_, connect_and_handshake(tls, "localhost"));
  EXPECT_TRUE(ec == errc::tls_verification_failed) << describe(ec);
  EXPECT_TRUE(ec == errc::tls_handshake_failed) << describe(ec);
}

TEST_F(TlsPeer, WrongHostNameFailsVerification) {
  proact::tls_options o;
  o.ca_file = files_->ca;
  ASSERT_OK(ctx_.open(o));
  proact::tls_stream tls(*lp_, sock_, ctx_);
  const std::error_code ec =
      proact::sync_wait(*lp_, connect_and_handshake(tls, "not-localhost.example"));
  EXPECT_TRUE(ec == errc::tls_verification_failed) << describe(ec);
}

TEST_F(TlsPeer, WithoutVerificationAnyServerWillDo) {
  proact::tls_options o;
  o.ca_file = files_->other_ca;
  o.verify_peer = false;
  ASSERT_OK(ctx_.open(o));
  proact::tls_stream tls(*lp_, sock_, ctx_);
  EXPECT_OK(proact::sync_wait(*lp_, connect_and_handshake(tls, "not-localhost.example")));
}

TEST_F(TlsPeer, AnUnreadableCaFileIsRefused) {
  proact::tls_options o;
  o.ca_file = files_->dir + "/missing.pem";
  EXPECT_TRUE(ctx_.open(o)) << "a missing CA file must fail";
  o.ca_file = files_->key;  // PEM, but no certificate in it
  EXPECT_TRUE(ctx_.open(o)) << "a CA file without certificates must fail";
  EXPECT_FALSE(ctx_.is_open());
}

// A pending recv cancelled completes once with operation_aborted; the
// session goes on.
TEST_F(TlsPeer, CancelledRecvCompletesOnceAndTheStreamGoesOn) {
  proact::tls_options o;
  o.ca_file = files_->ca;
  ASSERT_OK(ctx_.open(o));
  proact::tls_stream tls(*lp_, sock_, ctx_);
  ASSERT_OK(proact::sync_wait(*lp_, connect_and_handshake(tls, "localhost")));
  std::atomic<int> calls{0};
  std::error_code got_ec;
  proact::callback_op r([&](std::size_t, std::error_code ec) {
    got_ec = ec;
    calls.fetch_add(1);
  });
  char buf[16];
  ASSERT_OK(tls.recv(r, proact::make_buffer(buf)));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(calls.load(), 0);
  ASSERT_OK(tls.cancel(r));
  ASSERT_TRUE(poll_until(*lp_, [&] { return calls.load() >= 1; }));
  EXPECT_TRUE(got_ec == errc::operation_aborted) << describe(got_ec);
  auto body = [&]() -> proact::task<std::string> {
    (void)co_await tls.send(proact::make_buffer("abc\n", 4));
    std::string got;
    char in[16];
    while (got.find('\n') == std::string::npos) {
      auto [ec, n] = co_await tls.recv(proact::make_buffer(in)).with_timeout(10s);
      if (ec) co_return describe(ec);
      got.append(in, n);
    }
    co_return got;
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body()), "cba\n");
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace proact_test
