// An echo loop on the port API. A server accepts one connection and echoes
// what it receives; a client on the same port sends a message, reads the echo
// back and hangs up. One thread drives both ends: start operations, then
// wait() for their completions, as with an I/O completion port.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "proact/proact.hpp"

static void check(std::error_code ec, const char* what) {
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", what, ec.message().c_str());
    std::exit(1);
  }
}

int main() {
  // Operations are caller-owned and must outlive the handles they run on.
  proact::operation accept_op, server_recv, server_send, connect_op, client_send, client_recv;
  char server_buf[512], client_buf[512];
  const std::string_view message = "hello, proact";

  proact::port port;
  check(port.open(), "open");  // backend: PROACT_BACKEND, else the platform's default

  proact::tcp_listener listener;
  check(listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0)), "listen");
  check(port.associate(listener, 0), "associate");
  std::error_code ec;
  const proact::endpoint address = listener.local_endpoint(ec);
  check(ec, "local_endpoint");

  proact::tcp_socket server, client;
  check(listener.accept(accept_op, server), "accept");
  check(client.open(address.family()), "open");
  check(port.associate(client, 1), "associate");
  check(client.connect(connect_op, address), "connect");

  bool sent = false, done = false;
  std::size_t echoed = 0;
  while (!done) {
    proact::completion c;
    check(port.wait(c), "wait");
    if (c.op == &accept_op) {  // server: a connection; associate it, then read
      check(c.error, "accepted");
      check(port.associate(server, 2), "associate");
      check(server.recv(server_recv, proact::make_buffer(server_buf)), "recv");
    } else if (c.op == &server_recv) {  // server: echo what came, or stop at eof
      if (c.error == proact::errc::eof) {
        done = true;
      } else {
        check(c.error, "received");
        check(server.send(server_send, proact::make_buffer(server_buf, c.bytes)), "send");
      }
    } else if (c.op == &server_send) {  // server: all of it went; read again
      check(c.error, "sent");
      check(server.recv(server_recv, proact::make_buffer(server_buf)), "recv");
    } else if (c.op == &connect_op) {  // client: connected; send, read the echo
      check(c.error, "connected");
      check(client.send(client_send, proact::make_buffer(message)), "send");
      check(client.recv(client_recv, proact::make_buffer(client_buf)), "recv");
    } else if (c.op == &client_send) {
      check(c.error, "sent");
      sent = true;
    } else if (c.op == &client_recv) {  // client: the echo may come in pieces
      check(c.error, "received");
      echoed += c.bytes;
      if (echoed < message.size()) {
        check(client.recv(client_recv,
                          proact::make_buffer(client_buf + echoed, sizeof client_buf - echoed)),
              "recv");
      }
    }
    if (sent && echoed == message.size() && client.is_open()) {
      std::printf("echoed: %.*s\n", static_cast<int>(echoed), client_buf);
      check(client.close(), "close");  // the server's recv sees eof
    }
  }
}
