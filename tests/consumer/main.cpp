// A small program that uses proact the way an application does: the port on
// its own, then a coroutine client and server echoing over TCP loopback on a
// loop. ./dev test builds it against proact every way a project can take it
// (add_subdirectory, FetchContent, find_package, pkg-config, the Windows DLL)
// and runs it. Exit status: 0 when everything worked, 77 when the backend
// chosen by PROACT_BACKEND cannot run here, 1 otherwise.
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

#include "proact/proact.hpp"

namespace {

int fail(const char* what, std::error_code ec) {
  std::fprintf(stderr, "consumer: %s: %s\n", what, ec.message().c_str());
  return 1;
}

struct echo_result {
  std::error_code error;
  std::string reply;
};

proact::task<void> serve_one(proact::loop& loop, proact::tcp_listener& listener) {
  proact::tcp_socket peer;
  if (auto [ec, n] = co_await listener.accept(peer); ec || loop.associate(peer)) co_return;
  char data[64];
  for (;;) {
    auto [ec, n] = co_await peer.recv(proact::make_buffer(data));
    if (ec) co_return;  // eof, or the loop stopping
    if (auto [send_error, sent] = co_await peer.send(proact::const_buffer(data, n)); send_error)
      co_return;
  }
}

proact::task<void> ping(proact::loop& loop, proact::endpoint server, echo_result& out) {
  const std::string_view message = "ping";
  proact::tcp_socket socket;
  out.error = socket.open(server.family());
  if (!out.error) out.error = loop.associate(socket);
  if (!out.error) out.error = (co_await socket.connect(server)).error;
  if (!out.error) out.error = (co_await socket.send(proact::make_buffer(message))).error;
  char data[64];
  std::size_t got = 0;
  while (!out.error && got < message.size()) {
    auto [ec, n] = co_await socket.recv(proact::make_buffer(data + got, sizeof data - got));
    out.error = ec;
    got += n;
  }
  out.reply.assign(data, got);
  loop.stop();  // cancels the server's pending recv; run() returns
}

}  // namespace

int main() {
  // The headers and the library the program runs with must be the same release.
  if (std::string_view(proact::version()) != PROACT_VERSION_STRING) {
    std::fprintf(stderr, "consumer: headers %s, library %s\n", PROACT_VERSION_STRING,
                 proact::version());
    return 1;
  }

  // The port: a user packet goes through it verbatim.
  proact::port port;
  if (std::error_code ec = port.open()) {
    if (ec == proact::errc::backend_unavailable) {
      std::fprintf(stderr, "consumer: skipped: %s\n", ec.message().c_str());
      return 77;
    }
    return fail("port.open", ec);
  }
  proact::completion packet;
  if (std::error_code ec = port.post(7, 42, nullptr)) return fail("port.post", ec);
  if (std::error_code ec = port.wait(packet, proact::timeout(10000))) return fail("port.wait", ec);
  if (packet.key != 7 || packet.bytes != 42) return fail("port.wait", proact::error::not_found);

  // The loop: a coroutine client and server on this thread.
  proact::loop loop;
  proact::tcp_listener listener;
  std::error_code ec = listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0));
  if (!ec) ec = loop.associate(listener);
  const proact::endpoint address = ec ? proact::endpoint() : listener.local_endpoint(ec);
  if (ec) return fail("listen", ec);
  echo_result result;
  if (!ec) ec = loop.spawn(serve_one(loop, listener));
  if (!ec) ec = loop.spawn(ping(loop, address, result));
  if (ec) return fail("spawn", ec);
  loop.run();
  if (result.error) return fail("echo", result.error);
  if (result.reply != "ping") return fail("echo: wrong reply", proact::error::invalid_argument);

  const std::string_view backend = proact::to_string(loop.backend());
  std::printf("proact %s, %.*s backend: port and coroutine echo ok\n", proact::version(),
              static_cast<int>(backend.size()), backend.data());
  return 0;
}
