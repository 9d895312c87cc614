// DisconnectEx: with TF_REUSE_SOCKET the same SOCKET becomes AcceptEx's
// accept socket again, still associated with its port under its key;
// without it, closesocket is what remains; flags other than
// TF_REUSE_SOCKET are refused. The peer ends its side first in each case,
// so that no TIME_WAIT on the disconnecting side delays the packet.
#include "scenario.h"

using namespace scenario;

int main() {
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;
  LPFN_DISCONNECTEX disconnect = nullptr;
  GUID disconnect_id = WSAID_DISCONNECTEX;
  load(listener, disconnect_id, &disconnect, sizeof disconnect);

  op bad("bad_flags");
  if (under_wine()) {
    std::printf("DisconnectEx (TF_DISCONNECT) bad_flags: failed error=%lu\n",
                static_cast<unsigned long>(WSAEINVAL));
    wine_difference("DisconnectEx with a flag other than TF_REUSE_SOCKET",
                    "Wine does not check the flags (it would disconnect)");
  } else {
    started("DisconnectEx (TF_DISCONNECT)", bad,
            disconnect(server, &bad.ov, TF_DISCONNECT, 0) != FALSE);
  }

  // The server's last bytes, the client's end, then the server's DisconnectEx.
  op send_1("send_1"), disconnect_1("disconnect_1"), recv_1("recv_1"), recv_2("recv_2");
  send_from(server, "bye", send_1);
  dequeue_one(port, "the server's send");
  result("shutdown(client, SD_SEND)", shutdown(client, SD_SEND) == 0);
  started("DisconnectEx (TF_REUSE_SOCKET)", disconnect_1,
          disconnect(server, &disconnect_1.ov, TF_REUSE_SOCKET, 0) != FALSE);
  dequeue_one(port, "DisconnectEx");
  char buf[16];
  recv_into(client, buf, sizeof buf, recv_1);
  dequeue_one(port, "the client's recv");
  print_received(client, recv_1, buf);
  recv_into(client, buf, sizeof buf, recv_2);
  dequeue_one(port, "the client's recv: the end");
  result("closesocket(client)", closesocket(client) == 0);
  client = INVALID_SOCKET;

  // The same SOCKET accepted into again; its packets still carry key 3.
  if (under_wine()) {
    closesocket(server);
    server = new_socket();
    associate(port, server, 3);
    wine_difference("AcceptEx into a socket DisconnectEx(TF_REUSE_SOCKET) prepared",
                    "Wine does not reuse sockets; a new socket with the same key stands in");
  }
  SOCKET client_2 = bound_client(port, 4);
  op accept_b("accept_b"), connect_b("connect_b"), recv_3("recv_3"), send_2("send_2");
  static char addresses[2 * address_space];
  accept_and_connect(port, listener, x, server, client_2, accept_b, connect_b, addresses, 0,
                     nullptr, "the reused socket accepted, a new client");
  if (setsockopt(server, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                 reinterpret_cast<const char*>(&listener), sizeof listener) != 0) {
    fail("SO_UPDATE_ACCEPT_CONTEXT");
  }
  exchange(port, server, client_2, buf, sizeof buf, "again", recv_3, send_2,
           "a recv on the reused socket");

  // Without TF_REUSE_SOCKET: the socket is only good for closesocket.
  op disconnect_2("disconnect_2"), recv_4("recv_4");
  result("shutdown(server, SD_SEND)", shutdown(server, SD_SEND) == 0);
  started("DisconnectEx (no flags)", disconnect_2,
          disconnect(client_2, &disconnect_2.ov, 0, 0) != FALSE);
  dequeue_one(port, "DisconnectEx");
  recv_into(server, buf, sizeof buf, recv_4);
  dequeue_one(port, "the server's recv: the end");
  result("closesocket(client_2)", closesocket(client_2) == 0);
  end(s);
  return 0;
}
