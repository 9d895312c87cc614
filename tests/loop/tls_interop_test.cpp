// TLS interoperability on loopback: proact's client against `openssl
// s_server`, proact's server against `openssl s_client` and `curl`. The test
// starts the other process itself (a POSIX child; Linux only, like TLS for now).
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "../conformance/fixture.hpp"
#include "loop_fixture.hpp"
#include "proact/tls.hpp"
#include "tls_child.hpp"
#include "tls_files.hpp"

namespace proact_test {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TlsInterop : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    files_ = &tls_test_files();
    if (!files_->error.empty()) GTEST_SKIP() << files_->error;
    lp_ = make_loop(1);
    ASSERT_OK(lp_->start());
  }
  void TearDown() override { lp_.reset(); }

  const tls_files* files_ = nullptr;
  std::unique_ptr<proact::loop> lp_;
};

TEST_F(TlsInterop, ProactClientAgainstOpensslServer) {
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  // -rev answers each line reversed; -naccept 1 exits after one connection.
  child server("exec openssl s_server -quiet -naccept 1 -rev -accept 127.0.0.1:" +
               std::to_string(port) + " -cert '" + files_->cert + "' -key '" + files_->key +
               "' > '" + files_->dir + "/s_server.out' 2>&1");
  ASSERT_TRUE(server.started());
  proact::tls_context ctx;
  proact::tls_options o;
  o.ca_file = files_->ca;
  ASSERT_OK(ctx.open(o));
  auto body = [&]() -> proact::task<std::string> {
    proact::loop& lp = *co_await proact::get_loop();
    const auto at = proact::endpoint::loopback(proact::address_family::ipv4, port);
    proact::connect_result c;
    for (int attempt = 0; attempt < 100; ++attempt) {  // until s_server listens
      c = co_await proact::connect(lp, at);
      if (!c.error) break;
      proact::timer t(lp);
      (void)co_await t.wait(50ms);
    }
    if (c.error) co_return "connect: " + c.error.message();
    proact::tls_stream tls(lp, c.socket, ctx);
    if (auto e = tls.set_host_name("localhost")) co_return "host: " + e.message();
    auto [ec, n] = co_await tls.handshake().with_timeout(10s);
    if (ec) co_return "handshake: " + describe(ec);
    const std::string line = "hello proact\n";
    auto [ec2, n2] = co_await tls.send(proact::const_buffer{line.data(), line.size()});
    if (ec2) co_return "send: " + ec2.message();
    std::string got;
    char buf[64];
    while (got.find('\n') == std::string::npos) {
      auto [ec3, n3] = co_await tls.recv(proact::make_buffer(buf)).with_timeout(10s);
      if (ec3) co_return "recv: " + describe(ec3);
      got.append(buf, n3);
    }
    auto [ec4, n4] = co_await tls.shutdown();
    if (ec4) co_return "shutdown: " + ec4.message();
    co_return got;
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body()), "tcaorp olleh\n");
  EXPECT_TRUE(server.wait_ok(10s)) << read_file(files_->dir + "/s_server.out");
}

TEST_F(TlsInterop, ProactServerAgainstOpensslClient) {
  proact::tls_context ctx;
  proact::tls_options o;
  o.role = proact::tls_role::server;
  o.certificate_file = files_->cert;
  o.private_key_file = files_->key;
  o.verify_peer = false;
  ASSERT_OK(ctx.open(o));
  proact::tcp_listener listener;
  ASSERT_OK(listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)));
  ASSERT_OK(lp_->associate(listener));
  std::error_code ec;
  const std::uint16_t port = listener.local_endpoint(ec).port();
  ASSERT_OK(ec);
  const std::string out = files_->dir + "/s_client.out";
  // -verify_return_error: a certificate that does not verify fails the client.
  child client("printf 'ping\\n' | exec openssl s_client -quiet -verify_return_error -CAfile '" +
               files_->ca +
               "' -servername localhost -verify_hostname localhost -connect 127.0.0.1:" +
               std::to_string(port) + " > '" + out + "' 2>&1");
  ASSERT_TRUE(client.started());
  auto body = [&]() -> proact::task<std::string> {
    proact::loop& lp = *co_await proact::get_loop();
    proact::tcp_socket s;
    auto [ea, na] = co_await listener.accept(s).with_timeout(10s);
    if (ea) co_return "accept: " + ea.message();
    if (auto e = lp.associate(s)) co_return "associate: " + e.message();
    proact::tls_stream tls(lp, s, ctx);
    auto [eh, nh] = co_await tls.handshake().with_timeout(10s);
    if (eh) co_return "handshake: " + describe(eh);
    std::string got;
    char buf[64];
    while (got.find('\n') == std::string::npos) {
      auto [er, nr] = co_await tls.recv(proact::make_buffer(buf)).with_timeout(10s);
      if (er) co_return "recv: " + describe(er);
      got.append(buf, nr);
    }
    if (got != "ping\n") co_return "got: " + got;
    auto [es, ns] = co_await tls.send(proact::make_buffer("pong\n", 5));
    if (es) co_return "send: " + es.message();
    auto [ed, nd] = co_await tls.shutdown();
    if (ed) co_return "shutdown: " + ed.message();
    co_return "ok";
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body()), "ok") << read_file(out);
  EXPECT_TRUE(client.wait_ok(10s)) << read_file(out);
  EXPECT_NE(read_file(out).find("pong"), std::string::npos) << read_file(out);
}

TEST_F(TlsInterop, ProactServerAgainstCurl) {
  if (!run_command("curl --version > /dev/null 2>&1"))
    GTEST_SKIP() << "curl is not installed (Debian: curl)";
  proact::tls_context ctx;
  proact::tls_options o;
  o.role = proact::tls_role::server;
  o.certificate_file = files_->cert;
  o.private_key_file = files_->key;
  o.verify_peer = false;
  o.alpn = {"http/1.1"};
  ASSERT_OK(ctx.open(o));
  proact::tcp_listener listener;
  ASSERT_OK(listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)));
  ASSERT_OK(lp_->associate(listener));
  std::error_code ec;
  const std::string port = std::to_string(listener.local_endpoint(ec).port());
  ASSERT_OK(ec);
  const std::string out = files_->dir + "/curl.out";
  child client("exec curl -sS --max-time 20 --cacert '" + files_->ca + "' --resolve localhost:" +
               port + ":127.0.0.1 https://localhost:" + port + "/ > '" + out + "' 2>&1");
  ASSERT_TRUE(client.started());
  auto body = [&]() -> proact::task<std::string> {
    proact::loop& lp = *co_await proact::get_loop();
    proact::tcp_socket s;
    auto [ea, na] = co_await listener.accept(s).with_timeout(10s);
    if (ea) co_return "accept: " + ea.message();
    if (auto e = lp.associate(s)) co_return "associate: " + e.message();
    proact::tls_stream tls(lp, s, ctx);
    auto [eh, nh] = co_await tls.handshake().with_timeout(10s);
    if (eh) co_return "handshake: " + describe(eh);
    if (tls.alpn_protocol() != "http/1.1") co_return "alpn: " + tls.alpn_protocol();
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos) {
      auto [er, nr] = co_await tls.recv(proact::make_buffer(buf)).with_timeout(10s);
      if (er) co_return "recv: " + describe(er);
      request.append(buf, nr);
    }
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello, curl\n";
    auto [es, ns] = co_await tls.send(proact::make_buffer(response));
    if (es) co_return "send: " + es.message();
    auto [ed, nd] = co_await tls.shutdown();
    if (ed) co_return "shutdown: " + ed.message();
    co_return "ok";
  };
  EXPECT_EQ(proact::sync_wait(*lp_, body()), "ok") << read_file(out);
  EXPECT_TRUE(client.wait_ok(20s)) << read_file(out);
  EXPECT_EQ(read_file(out), "hello, curl\n");
}

}  // namespace
}  // namespace proact_test
