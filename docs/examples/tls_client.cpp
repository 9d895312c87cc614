// A TLS client: resolves and connects, checks the server's certificate and
// name, sends one line and prints the reply line.
//   tls_client HOST PORT [CA_FILE]    (default: the system's CA store)
#include <chrono>
#include <cstdio>
#include <string>

#include "proact/proact.hpp"
#include "proact/tls.hpp"

using namespace std::chrono_literals;

proact::task<int> run(proact::tls_context& ctx, std::string host, std::string port) {
  proact::loop& lp = *co_await proact::get_loop();
  proact::resolver resolver(lp);
  auto [rerr, endpoints] = co_await resolver.resolve(host, port);
  auto [cerr, socket] = co_await proact::connect(lp, endpoints);
  if (rerr || cerr) {
    std::fprintf(stderr, "connect: %s\n", (rerr ? rerr : cerr).message().c_str());
    co_return 1;
  }
  proact::tls_stream tls(lp, socket, ctx);
  std::error_code ec = tls.set_host_name(host);  // SNI, and the name to check
  if (!ec) ec = (co_await tls.handshake().with_timeout(10s)).error;
  if (ec) {  // ec == proact::errc::tls_verification_failed: a bad certificate
    std::fprintf(stderr, "handshake: %s\n", ec.message().c_str());
    co_return 1;
  }
  const std::string line = "hello over TLS\n";
  if (auto [e, n] = co_await tls.send(proact::make_buffer(line)); e) co_return 1;
  std::string reply;
  char buf[4096];
  while (reply.find('\n') == std::string::npos) {
    auto [e, n] = co_await tls.recv(proact::make_buffer(buf)).with_timeout(10s);
    if (e) {  // errc::eof after close_notify; errc::tls_truncated without it
      std::fprintf(stderr, "recv: %s\n", e.message().c_str());
      co_return 1;
    }
    reply.append(buf, n);
  }
  std::fputs(reply.c_str(), stdout);
  (void)co_await tls.shutdown();  // our close_notify
  co_return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: tls_client HOST PORT [CA_FILE]\n", stderr);
    return 2;
  }
  proact::tls_options options;  // a client that verifies the server
  if (argc > 3) options.ca_file = argv[3];
  proact::tls_context ctx;
  if (std::error_code ec = ctx.open(options)) {
    std::fprintf(stderr, "tls: %s\n", ec.message().c_str());
    return 1;
  }
  proact::loop lp;
  return proact::sync_wait(lp, run(ctx, argv[1], argv[2]));
}
