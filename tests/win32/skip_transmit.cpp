// TransmitFile (head, file, tail), each followed at once by a WSASend, Linux
// only. The WSASend must come after the whole TransmitFile, never between
// its steps. From a socket in skip mode (FILE_SKIP_COMPLETION_PORT_ON_
// SUCCESS) the steps may complete in the call one after the other, or the
// call may return pending after some of them: the TransmitFile's record
// must stay its own until its last step is done (the WSASend takes one of
// its own meanwhile). Every round must yield exactly the bytes sent, in
// order, and one answer per call (in the call or as one packet); then the
// same rounds go the other way, from a socket not in skip mode to one in
// it. Last, CancelIoEx of a TransmitFile stuck on a full connection
// reaches all its steps. Windows decides differently when a TransmitFile
// completes in the call, so there is no golden trace: the program checks
// itself.
#include <vector>

#include "scenario.h"

using namespace scenario;

namespace {

// A file larger than the socket buffers: its step goes pending after the
// head went in the call (the path that must keep the record); half the
// rounds send only its first 100 bytes, which go in the call.
constexpr int rounds = 100;
constexpr DWORD file_size = 4 << 20;
char path[64];

// The same 5-byte head and tail around every TransmitFile here.
char head[] = "HEAD:";
char tail[] = ":TAIL";
TRANSMIT_FILE_BUFFERS head_and_tail() {
  TRANSMIT_FILE_BUFFERS around;
  around.Head = head;
  around.HeadLength = 5;
  around.Tail = tail;
  around.TailLength = 5;
  return around;
}

// `rounds` TransmitFiles from `sender`, each followed at once by a WSASend,
// received on `receiver`; the number of TransmitFiles done in the call.
int run_rounds(HANDLE port, SOCKET sender, SOCKET receiver, HANDLE f, LPFN_TRANSMITFILE transmit,
               const std::vector<char>& content) {
  TRANSMIT_FILE_BUFFERS around = head_and_tail();
  int in_call = 0;
  for (int round = 0; round < rounds; ++round) {
    const DWORD count = round % 2 == 0 ? file_size : 100;
    std::vector<char> want(head, head + 5);
    want.insert(want.end(), content.begin(), content.begin() + count);
    want.insert(want.end(), tail, tail + 5);
    want.push_back('x');
    op transmit_op("transmit"), send_op("send"), recv_op("recv");
    int outstanding = 0;
    if (transmit(sender, f, count, 0, &transmit_op.ov, &around, 0)) {
      ++in_call;
    } else if (WSAGetLastError() == WSA_IO_PENDING) {
      ++outstanding;
    } else {
      fail("TransmitFile");
    }
    WSABUF one = wsabuf(const_cast<char*>("x"), 1);
    DWORD sent = 0;
    if (WSASend(sender, &one, 1, &sent, 0, &send_op.ov, nullptr) != 0) {
      if (WSAGetLastError() != WSA_IO_PENDING) fail("WSASend");
      ++outstanding;
    }
    std::vector<char> got(want.size());
    DWORD total = 0;
    bool receiving = false;
    while (outstanding > 0 || total < got.size()) {
      if (!receiving && total < got.size()) {
        WSABUF b = wsabuf(got.data() + total, static_cast<ULONG>(got.size() - total));
        DWORD flags = 0;
        DWORD bytes = 0;
        recv_op.reset();
        if (WSARecv(receiver, &b, 1, &bytes, &flags, &recv_op.ov, nullptr) == 0) {
          // The receiver in skip mode: done in the call, no packet.
          if (bytes == 0) fail("the receiver's recv: 0 bytes");
          total += bytes;
          continue;
        }
        if (WSAGetLastError() != WSA_IO_PENDING) fail("WSARecv");
        receiving = true;
      }
      const packet p = dequeue(port, 10000);
      if (!p.ok) fail("a failed or missing packet");
      if (p.ov == &recv_op.ov) {
        if (p.bytes == 0) fail("the receiver's recv: 0 bytes");
        total += p.bytes;
        receiving = false;
      } else if (p.ov == &transmit_op.ov) {
        if (p.bytes != count + 10) fail("TransmitFile's bytes");
        --outstanding;
      } else if (p.ov == &send_op.ov) {
        if (p.bytes != 1) fail("WSASend's bytes");
        --outstanding;
      } else {
        fail("an unknown packet");
      }
      if (outstanding < 0) fail("more packets than pending calls");
    }
    if (got != want) fail("the bytes received");
  }
  return in_call;
}

}  // namespace

int main() {
  std::snprintf(path, sizeof path, "proact_win32_skip_transmit_%lu.tmp",
                static_cast<unsigned long>(GetCurrentProcessId()));
  session s;
  start(s);
  auto& [port, listener, x, server, client, accept_a, connect_a] = s;
  if (!SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(server),
                                          FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)) {
    fail("SetFileCompletionNotificationModes");
  }
  LPFN_TRANSMITFILE transmit = nullptr;
  GUID transmit_id = WSAID_TRANSMITFILE;
  load(listener, transmit_id, &transmit, sizeof transmit);

  std::vector<char> content(file_size);
  for (DWORD i = 0; i < file_size; ++i) content[i] = static_cast<char>('a' + i % 26);
  HANDLE f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, nullptr,
                         CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED, nullptr);
  if (f == INVALID_HANDLE_VALUE) fail("CreateFileA");
  if (CreateIoCompletionPort(f, port, 4, 0) != port) fail("CreateIoCompletionPort(file)");
  op write_1("write_1");
  DWORD n = 0;
  if (!WriteFile(f, content.data(), file_size, &n, &write_1.ov) &&
      GetLastError() != ERROR_IO_PENDING) {
    fail("WriteFile");
  }
  if (dequeue(port, 10000).ov != &write_1.ov) fail("the file's write");

  // The server in skip mode sends; then the client (not in skip mode) sends
  // to the server, whose recvs may complete in the call.
  const int in_call = run_rounds(port, server, client, f, transmit, content);
  const int client_in_call = run_rounds(port, client, server, f, transmit, content);
  // Nothing more may come.
  if (dequeue(port, 100).ov != nullptr) fail("a packet after the last round");
  std::printf("%d rounds each way: every byte in order, one answer per call\n", rounds);

  // CancelIoEx(h, ov) of a TransmitFile stuck on a full connection (nobody
  // reads) reaches every step: one packet, 995; then nothing to cancel.
  TRANSMIT_FILE_BUFFERS around = head_and_tail();
  op stuck_op("stuck");
  bool stuck = false;
  for (int i = 0; i < 64 && !stuck; ++i) {
    stuck_op.reset();
    if (transmit(client, f, 0, 0, &stuck_op.ov, &around, 0) ||
        WSAGetLastError() != WSA_IO_PENDING) {
      fail("TransmitFile (to a full connection)");
    }
    const packet p = dequeue(port, 200);
    if (p.ov == nullptr) {
      stuck = true;
    } else if (!p.ok || p.ov != &stuck_op.ov) {
      fail("TransmitFile (to a full connection): its packet");
    }
  }
  if (!stuck) fail("no TransmitFile stayed pending");
  if (!CancelIoEx(reinterpret_cast<HANDLE>(client), &stuck_op.ov)) fail("CancelIoEx");
  const packet cancelled = dequeue(port, 10000);
  std::printf("CancelIoEx of a pending TransmitFile: %s ov=%s error=%lu\n",
              cancelled.ok ? "TRUE" : "FALSE", name_of(cancelled.ov),
              static_cast<unsigned long>(cancelled.error));
  SetLastError(0);
  const BOOL again = CancelIoEx(reinterpret_cast<HANDLE>(client), &stuck_op.ov);
  std::printf("CancelIoEx again: %s error=%lu\n", again ? "TRUE" : "FALSE",
              static_cast<unsigned long>(GetLastError()));
  if (cancelled.ok || cancelled.ov != &stuck_op.ov || cancelled.error != ERROR_OPERATION_ABORTED ||
      again || GetLastError() != ERROR_NOT_FOUND) {
    fail("CancelIoEx of a pending TransmitFile");
  }
  if (dequeue(port, 100).ov != nullptr) fail("a packet after the cancelled TransmitFile");
  std::fprintf(stderr,
               "TransmitFile completed in the call in %d rounds of %d (server, skip mode), "
               "%d (client)\n",
               in_call, rounds, client_in_call);
  CloseHandle(f);
  DeleteFileA(path);
  end(s);
  return 0;
}
