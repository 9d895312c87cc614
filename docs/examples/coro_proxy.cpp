// A TCP proxy: each connection is relayed to a target in both directions at
// once. The connect to the target has a timeout, and so does each read (an
// idle connection does not stay forever). Usage: coro_proxy PORT TARGET_PORT
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

proact::task<void> session(proact::loop& loop, proact::tcp_socket client, proact::endpoint target) {
  proact::tcp_socket upstream;
  if (upstream.open(target.family()) || loop.associate(upstream)) co_return;
  if (auto [ec, n] = co_await upstream.connect(target).with_timeout(5s); ec) {
    std::fprintf(stderr, "connect to %s: %s\n", target.to_string().c_str(), ec.message().c_str());
    co_return;  // the client's connection closes
  }
  co_await proact::when_all(relay(client, upstream), relay(upstream, client));
}

proact::task<void> serve(proact::loop& loop, proact::tcp_listener& listener,
                         proact::endpoint target) {
  for (;;) {
    proact::tcp_socket peer;
    if (auto [ec, n] = co_await listener.accept(peer); ec) co_return;
    if (!loop.associate(peer)) (void)loop.spawn(session(loop, std::move(peer), target));
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: coro_proxy PORT TARGET_PORT\n", stderr);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  const auto target = proact::endpoint::loopback(proact::address_family::ipv4,
                                                 static_cast<std::uint16_t>(std::atoi(argv[2])));
  proact::loop loop;  // backend: PROACT_BACKEND, else the platform's default
  proact::tcp_listener listener;
  std::error_code ec =
      listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, port));
  if (!ec) ec = loop.associate(listener);
  if (ec) {
    std::fprintf(stderr, "cannot listen: %s\n", ec.message().c_str());
    return 1;
  }
  std::printf("listening on %s\n", listener.local_endpoint(ec).to_string().c_str());
  std::fflush(stdout);
  (void)loop.spawn(serve(loop, listener, target));
  (void)loop.start();
  loop.join();  // until the process is stopped
}
