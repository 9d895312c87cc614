// TransmitFile: a whole file (0 bytes = to the end), a range at the
// OVERLAPPED's offset; the peer receives exactly those bytes.
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

  result("CloseHandle(file)", CloseHandle(f));
  result("DeleteFileA", DeleteFileA(path));
  end(s);
  return 0;
}
