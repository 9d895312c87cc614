// AcceptEx and ConnectEx (also with initial data), GetAcceptExSockaddrs,
// WSARecv/WSASend: several recvs pending on one socket fill in the order
// they were issued.
#include "scenario.h"

using namespace scenario;

int main() {
  HANDLE port = open_port();
  SOCKET listener = listen_on_loopback(port, 1);
  const extensions x = load_extensions(listener);

  SOCKET server = INVALID_SOCKET;
  SOCKET client = INVALID_SOCKET;
  op accept_a("accept_a");
  op connect_a("connect_a");
  connect_pair(port, listener, x, 3, 2, server, client, accept_a, connect_a);

  // Where AcceptEx put the addresses (it was given no data space).
  static char addresses[2 * address_space];
  {
    // The pair's buffer is the helper's; accept once more to look at one.
    SOCKET s2 = new_socket();
    SOCKET c2 = bound_client(port, 4);
    op accept_b("accept_b");
    op connect_b("connect_b");
    DWORD bytes = 0;
    started("AcceptEx", accept_b,
            x.accept_ex(listener, s2, addresses, 0, address_space, address_space, &bytes,
                        &accept_b.ov) != FALSE);
    sockaddr_in to = loopback(port_of(listener));
    started("ConnectEx", connect_b,
            x.connect_ex(c2, reinterpret_cast<sockaddr*>(&to), sizeof to, nullptr, 0, &bytes,
                         &connect_b.ov) != FALSE);
    dequeue_group(port, 2, "second accept and connect");
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
    DWORD bytes = 0;
    started("AcceptEx (16 data bytes)", accept_c,
            x.accept_ex(listener, s3, out, 16, address_space, address_space, &bytes,
                        &accept_c.ov) != FALSE);
    sockaddr_in to = loopback(port_of(listener));
    char ping[] = "ping";
    started("ConnectEx (4 bytes)", connect_c,
            x.connect_ex(c3, reinterpret_cast<sockaddr*>(&to), sizeof to, ping, 4, &bytes,
                         &connect_c.ov) != FALSE);
    dequeue_group(port, 2, "accept with data, connect with data");
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
    recv_into(s3, b5, sizeof b5, recv_5);
    send_from(c3, "more", send_5);
    dequeue_group(port, 2, "after accept with data");
    print_received(s3, recv_5, b5);
    closesocket(s3);
    closesocket(c3);
  }

  closesocket(server);
  closesocket(client);
  closesocket(listener);
  result("CloseHandle(port)", CloseHandle(port));
  WSACleanup();
  return 0;
}
