// TransmitFile: a whole file (0 bytes = to the end), a range at the
// OVERLAPPED's offset, head and tail buffers around a range (bytes = all of
// them), buffers without a file, a performance hint, an unknown flag
// (refused), and TF_DISCONNECT | TF_REUSE_SOCKET, after which the socket is
// AcceptEx's accept socket again. The peer receives exactly those bytes.
#include "scenario.h"

using namespace scenario;

namespace {

char path[64];

// Receives `expected` bytes on `s` (as many recvs as it takes) and says
// whether they equal `want`.
void receive_all(HANDLE port, SOCKET s, const char* want, DWORD expected) {
  static char got[256];
  DWORD total = 0;
  op recv_op("recv");
  while (total < expected) {
    WSABUF b = wsabuf(got + total, expected - total);
    DWORD flags = 0;
    DWORD bytes = 0;
    recv_op.reset();
    if (WSARecv(s, &b, 1, &bytes, &flags, &recv_op.ov, nullptr) != 0 &&
        WSAGetLastError() != WSA_IO_PENDING) {
      fail("WSARecv");
    }
    const packet p = dequeue(port, 10000);
    if (!p.ok || p.ov != &recv_op.ov || p.bytes == 0) fail("receive_all");
    total += p.bytes;
  }
  std::printf("  the client received %lu bytes, equal to the file's: %d\n",
              static_cast<unsigned long>(total), std::memcmp(got, want, expected) == 0 ? 1 : 0);
}

}  // namespace

int main() {
  std::snprintf(path, sizeof path, "proact_win32_transmit_%lu.tmp",
                static_cast<unsigned long>(GetCurrentProcessId()));
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;
  LPFN_TRANSMITFILE transmit = nullptr;
  GUID transmit_id = WSAID_TRANSMITFILE;
  load(listener, transmit_id, &transmit, sizeof transmit);

  char content[100];
  for (int i = 0; i < 100; ++i) content[i] = static_cast<char>('0' + i % 10);
  HANDLE f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, nullptr,
                         CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED, nullptr);
  if (f == INVALID_HANDLE_VALUE) fail("CreateFileA");
  if (CreateIoCompletionPort(f, port, 4, 0) != port) fail("CreateIoCompletionPort(file)");
  op write_1("write_1");
  DWORD n = 0;
  if (!WriteFile(f, content, sizeof content, &n, &write_1.ov) &&
      GetLastError() != ERROR_IO_PENDING) {
    fail("WriteFile");
  }
  dequeue_one(port, "the file's 100 bytes written");

  op send_all("send_all"), send_range("send_range");
  started("TransmitFile (whole file)", send_all,
          transmit(server, f, 0, 0, &send_all.ov, nullptr, 0) != FALSE);
  dequeue_one(port, "TransmitFile of the whole file");
  receive_all(port, client, content, 100);

  send_range.reset();
  send_range.ov.Offset = 90;
  started("TransmitFile (5 bytes at offset 90)", send_range,
          transmit(server, f, 5, 0, &send_range.ov, nullptr, 0) != FALSE);
  dequeue_one(port, "TransmitFile of a range");
  receive_all(port, client, content + 90, 5);

  char head[] = "HEAD:";
  char tail[] = ":TAIL";
  TRANSMIT_FILE_BUFFERS around;
  around.Head = head;
  around.HeadLength = 5;
  around.Tail = tail;
  around.TailLength = 5;
  op send_around("send_around");
  send_around.reset();
  send_around.ov.Offset = 10;
  started("TransmitFile (head, 5 bytes at offset 10, tail)", send_around,
          transmit(server, f, 5, 0, &send_around.ov, &around, 0) != FALSE);
  dequeue_one(port, "TransmitFile with head and tail");
  char want[15];
  std::memcpy(want, head, 5);
  std::memcpy(want + 5, content + 10, 5);
  std::memcpy(want + 10, tail, 5);
  receive_all(port, client, want, 15);

  TRANSMIT_FILE_BUFFERS head_only;
  std::memset(&head_only, 0, sizeof head_only);
  head_only.Head = head;
  head_only.HeadLength = 5;
  op send_head("send_head");
  started("TransmitFile (no file, a head, TF_USE_KERNEL_APC)", send_head,
          transmit(server, nullptr, 0, 0, &send_head.ov, &head_only, TF_USE_KERNEL_APC) != FALSE);
  dequeue_one(port, "TransmitFile of a head alone");
  receive_all(port, client, head, 5);

  op bad("bad_flags");
  if (under_wine()) {
    std::printf("TransmitFile (flag 0x100) bad_flags: failed error=%lu\n",
                static_cast<unsigned long>(WSAEINVAL));
    wine_difference("TransmitFile with an unknown flag",
                    "Wine ignores unknown bits and sends; the layer refuses them (WSAEINVAL), "
                    "Windows' answer was not checked here");
  } else {
    started("TransmitFile (flag 0x100)", bad,
            transmit(server, f, 0, 0, &bad.ov, nullptr, 0x100) != FALSE);
  }

  // The last bytes and the disconnect in one call. The client ends its side
  // first, so that no TIME_WAIT delays the server's disconnect.
  result("shutdown(client, SD_SEND)", shutdown(client, SD_SEND) == 0);
  TRANSMIT_FILE_BUFFERS tail_only;
  std::memset(&tail_only, 0, sizeof tail_only);
  tail_only.Tail = tail;
  tail_only.TailLength = 5;
  op send_last("send_last"), recv_end("recv_end");
  started("TransmitFile (a tail, TF_DISCONNECT | TF_REUSE_SOCKET)", send_last,
          transmit(server, nullptr, 0, 0, &send_last.ov, &tail_only,
                   TF_DISCONNECT | TF_REUSE_SOCKET) != FALSE);
  dequeue_one(port, "TransmitFile, then the disconnect");
  if (under_wine()) {
    shutdown(server, SD_SEND);
    wine_difference("TransmitFile with TF_DISCONNECT",
                    "Wine ignores the flag; shutdown(SD_SEND) stands in for the disconnect");
  }
  receive_all(port, client, tail, 5);
  char end_buf[8];
  recv_into(client, end_buf, sizeof end_buf, recv_end);
  dequeue_one(port, "the client's recv: the end");
  result("closesocket(client)", closesocket(client) == 0);
  client = INVALID_SOCKET;

  if (under_wine()) {
    closesocket(server);
    server = new_socket();
    associate(port, server, 3);
    wine_difference("AcceptEx into a socket TransmitFile(TF_REUSE_SOCKET) prepared",
                    "Wine does not reuse sockets; a new socket with the same key stands in");
  }
  SOCKET client_2 = bound_client(port, 4);
  op accept_b("accept_b"), connect_b("connect_b");
  static char addresses[2 * address_space];
  accept_and_connect(port, listener, x, server, client_2, accept_b, connect_b, addresses, 0,
                     nullptr, "the reused socket accepted, a new client");
  op send_again("send_again");
  started("TransmitFile (5 bytes at offset 0) on the reused socket", send_again,
          transmit(server, f, 5, 0, &send_again.ov, nullptr, 0) != FALSE);
  dequeue_one(port, "TransmitFile on the reused socket");
  receive_all(port, client_2, content, 5);
  closesocket(client_2);

  result("CloseHandle(file)", CloseHandle(f));
  result("DeleteFileA", DeleteFileA(path));
  end(s);
  return 0;
}
