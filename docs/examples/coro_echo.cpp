// A complete TCP echo server: one coroutine per connection, run by the loop's
// worker threads (twice the number of processors). Usage: coro_echo [port]
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "proact/proact.hpp"

proact::task<void> session(proact::tcp_socket socket) {
  char data[4096];
  for (;;) {
    auto [ec, n] = co_await socket.recv(proact::make_buffer(data));
    if (ec) co_return;  // eof, reset, or the loop stopping
    auto [send_error, sent] = co_await socket.send(proact::const_buffer(data, n));
    if (send_error) co_return;
  }
}

proact::task<void> serve(proact::loop& loop, proact::tcp_listener& listener) {
  for (;;) {
    proact::tcp_socket peer;
    if (auto [ec, n] = co_await listener.accept(peer); ec) co_return;
    if (!loop.associate(peer)) (void)loop.spawn(session(std::move(peer)));
  }
}

int main(int argc, char** argv) {
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 7000);
  proact::loop loop;  // backend: PROACT_BACKEND, else the platform's default
  proact::tcp_listener listener;
  std::error_code ec =
      listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, port));
  if (!ec) ec = loop.associate(listener);
  if (ec) {
    std::fprintf(stderr, "cannot listen: %s\n", ec.message().c_str());
    return 1;
  }
  ec = loop.spawn(serve(loop, listener));
  if (!ec) ec = loop.start();
  if (ec) {
    std::fprintf(stderr, "cannot run: %s\n", ec.message().c_str());
    return 1;
  }
  std::printf("listening on %s\n", listener.local_endpoint(ec).to_string().c_str());
  std::fflush(stdout);
  loop.join();  // until the process is stopped
}
