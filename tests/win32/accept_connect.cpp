// AcceptEx and ConnectEx (also with initial data), GetAcceptExSockaddrs,
// WSARecv/WSASend: several recvs pending on one socket fill in the order
// they were issued.
#include "scenario.h"

using namespace scenario;

int main() {
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;

  // Where AcceptEx put the addresses (it was given no data space).
  static char addresses[2 * address_space];
  {
    // The pair's buffer is the helper's; accept once more to look at one.
    SOCKET s2 = new_socket();
    SOCKET c2 = bound_client(port, 4);
    op accept_b("accept_b");
    op connect_b("connect_b");
    accept_and_connect(port, listener, x, s2, c2, accept_b, connect_b, addresses, 0, nullptr,
                       "second accept and connect");
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_len = 0;
    int remote_len = 0;
    x.get_sockaddrs(addresses, 0, address_space, address_space, &local, &local_len, &remote,
                    &remote_len);
    const auto* l = reinterpret_cast<const sockaddr_in*>(local);
    const auto* r = reinterpret_cast<const sockaddr_in*>(remote);
    std::printf(
        "GetAcceptExSockaddrs: local family=%d len=%d is_listener_port=%d; "
        "remote family=%d len=%d is_client_port=%d\n",
        l->sin_family, local_len, ntohs(l->sin_port) == port_of(listener), r->sin_family,
        remote_len, ntohs(r->sin_port) == port_of(c2));
    closesocket(s2);
    closesocket(c2);
  }

  // Three recvs pending, then one 12-byte send: 5 + 5 + 2, in issue order.
  char b1[5], b2[5], b3[5];
  op recv_1("recv_1"), recv_2("recv_2"), recv_3("recv_3"), send_1("send_1");
  recv_into(server, b1, sizeof b1, recv_1);
  recv_into(server, b2, sizeof b2, recv_2);
  recv_into(server, b3, sizeof b3, recv_3);
  send_from(client, "hello world!", send_1);
  dequeue_group(port, 4, "three recvs, one send");
  print_received(server, recv_1, b1);
  print_received(server, recv_2, b2);
  print_received(server, recv_3, b3);

  // And back: a send whose recv is issued after it.
  char b4[16];
  op send_2("send_2"), recv_4("recv_4");
  send_from(server, "pong", send_2);
  dequeue_one(port, "send before its recv");
  recv_into(client, b4, sizeof b4, recv_4);
  dequeue_one(port, "recv of data already there");
  print_received(client, recv_4, b4);

  // AcceptEx with initial data completes once the data came: ConnectEx
  // sends it with the connect.
  {
    static char out[16 + 2 * address_space];
    SOCKET s3 = new_socket();
    SOCKET c3 = bound_client(port, 5);
    op accept_c("accept_c");
    op connect_c("connect_c");
    char ping[] = "ping";
    accept_and_connect(port, listener, x, s3, c3, accept_c, connect_c, out, 16, ping,
                       "accept with data, connect with data");
    std::printf("accept_c data=\"%.4s\"\n", out);
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_len = 0;
    int remote_len = 0;
    x.get_sockaddrs(out, 16, address_space, address_space, &local, &local_len, &remote,
                    &remote_len);
    std::printf("GetAcceptExSockaddrs (after data): remote is_client_port=%d\n",
                ntohs(reinterpret_cast<const sockaddr_in*>(remote)->sin_port) == port_of(c3));
    // The accepted socket is associated afterwards, as usual, and works.
    associate(port, s3, 6);
    char b5[8];
    op recv_5("recv_5"), send_5("send_5");
    exchange(port, s3, c3, b5, sizeof b5, "more", recv_5, send_5, "after accept with data");
    closesocket(s3);
    closesocket(c3);
  }

  // An accept socket associated before its AcceptEx: its packets come with
  // its own key.
  {
    SOCKET s4 = new_socket();
    associate(port, s4, 7);
    SOCKET c4 = bound_client(port, 8);
    op accept_d("accept_d"), connect_d("connect_d"), recv_6("recv_6"), send_6("send_6");
    accept_and_connect(port, listener, x, s4, c4, accept_d, connect_d, addresses, 0, nullptr,
                       "accept into a socket associated first");
    char b6[8];
    exchange(port, s4, c4, b6, sizeof b6, "early", recv_6, send_6,
             "on the socket associated first");
    closesocket(s4);
    closesocket(c4);
  }

  end(s);
  return 0;
}
