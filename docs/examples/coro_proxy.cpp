// A TCP proxy: each connection is relayed to a target, looked up by name, in
// both directions at once. The connect to the target has a timeout, and so
// does each read (an idle connection does not stay forever); Ctrl-C or
// SIGTERM stops it. Usage: coro_proxy PORT TARGET_HOST TARGET_PORT
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "proact/proact.hpp"

using namespace std::chrono_literals;

// Copies from one socket to the other until eof, an error or 5 idle minutes,
// then ends the other side's stream so that it sees eof too.
proact::task<void> relay(proact::tcp_socket& from, proact::tcp_socket& to) {
  char data[16384];
  for (;;) {
    auto [ec, n] = co_await from.recv(proact::make_buffer(data)).with_timeout(5min);
    if (ec) break;  // eof, reset, timed_out, or the loop stopping
    if (auto [send_error, sent] = co_await to.send(proact::const_buffer(data, n)); send_error)
      break;
  }
  (void)to.shutdown_send();
}

proact::task<void> session(proact::loop& loop, proact::tcp_socket client, const char* host,
                           const char* port) {
  proact::resolver resolver(loop);
  auto [error, targets] = co_await resolver.resolve(host, port);
  if (error) {
    std::fprintf(stderr, "resolve %s: %s\n", host, error.message().c_str());
    co_return;  // the client's connection closes
  }
  proact::tcp_socket upstream;
  for (const proact::endpoint& target : targets) {  // the first one that answers
    if (upstream.open(target.family()) || loop.associate(upstream)) co_return;
    auto [ec, n] = co_await upstream.connect(target).with_timeout(5s);
    if (!ec) break;
    std::fprintf(stderr, "connect to %s: %s\n", target.to_string().c_str(), ec.message().c_str());
    (void)upstream.close();
  }
  if (upstream.is_open())
    co_await proact::when_all(relay(client, upstream), relay(upstream, client));
}

proact::task<void> serve(proact::loop& loop, proact::tcp_listener& listener, const char* host,
                         const char* port) {
  for (;;) {
    proact::tcp_socket peer;
    if (auto [ec, n] = co_await listener.accept(peer); ec) co_return;
    if (!loop.associate(peer)) (void)loop.spawn(session(loop, std::move(peer), host, port));
  }
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fputs("usage: coro_proxy PORT TARGET_HOST TARGET_PORT\n", stderr);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  proact::loop loop;  // backend: PROACT_BACKEND, else the platform's default
  proact::tcp_listener listener;
  std::error_code ec =
      listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, port));
  if (!ec) ec = loop.associate(listener);
  if (ec) {
    std::fprintf(stderr, "cannot listen: %s\n", ec.message().c_str());
    return 1;
  }
  // Ctrl-C (SIGINT) or SIGTERM: a completion on the loop, which stops it.
  proact::signal_set stop(loop, {proact::signal_set::interrupt, proact::signal_set::terminate});
  ec = stop.wait([&](std::error_code, int) { loop.stop(); });
  if (!ec) ec = loop.spawn(serve(loop, listener, argv[2], argv[3]));
  if (!ec) ec = loop.start();
  if (ec) {
    std::fprintf(stderr, "cannot run: %s\n", ec.message().c_str());
    return 1;
  }
  std::printf("listening on %s\n", listener.local_endpoint(ec).to_string().c_str());
  std::fflush(stdout);
  loop.join();  // until a signal stopped the loop
  std::puts("stopped");
}
