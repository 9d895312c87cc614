// The completion port: CreateIoCompletionPort, GetQueuedCompletionStatus(Ex),
// PostQueuedCompletionStatus, CloseHandle, GetOverlappedResult.
#include <chrono>
#include <new>
#include <thread>

#include "completion.hpp"
#include "objects.hpp"
#include "op_record.hpp"
#include "proact/error.hpp"
#include "proact/port.hpp"
#include "status.hpp"

namespace proact::win32 {
namespace {

using clock = std::chrono::steady_clock;

// The time left of a wait that started at `start`.
proact::timeout remaining(DWORD ms, clock::time_point start) noexcept {
  if (ms == INFINITE) return proact::infinite;
  const auto left = std::chrono::milliseconds(ms) -
                    std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
  return left.count() > 0 ? left : proact::timeout::zero();
}

// The last error of a wait that returned no packet.
DWORD wait_failure(const std::error_code& ec) noexcept {
  if (ec == proact::errc::timed_out) return WAIT_TIMEOUT;
  // The port was closed while (or before) this thread waited.
  if (ec == proact::errc::port_closed) return ERROR_ABANDONED_WAIT_0;
  return ERROR_INVALID_HANDLE;
}

HANDLE create_port(DWORD concurrency) {
  auto* p = new (std::nothrow) port_object;
  if (p == nullptr) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  p->port.emplace();
  // backend_kind::automatic: PROACT_BACKEND (epoll, io_uring) or the default.
  if (auto ec = p->port->open({proact::backend_kind::automatic, concurrency})) {
    delete p;
    SetLastError(ec == proact::errc::backend_unavailable ? ERROR_NOT_SUPPORTED
                                                         : ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  HANDLE h = new_port(p);
  if (h == nullptr) delete p;
  return h;
}

// Associates a socket with a port, as CreateIoCompletionPort(socket, port).
bool associate_socket(socket_object& s, port_object& p, ULONG_PTR key) {
  std::lock_guard lock(s.mutex);
  // A listener already on the layer's own port (a blocking accept used it).
  if (s.on_layer_port) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return false;
  }
  if (s.port != nullptr) {
    // Already associated by an AcceptEx with initial data: only the key is new.
    if (s.port == &p && !s.key_set) {
      s.key = key;
      s.key_set = true;
      return true;
    }
    SetLastError(ERROR_INVALID_PARAMETER);
    return false;
  }
  p.refs.fetch_add(1, std::memory_order_acq_rel);
  s.port = &p;
  s.key = key;
  s.key_set = true;
  if (proact::handle* h = s.active()) {
    if (auto ec = associate_with_port(s, *h)) {
      release_port(s.port);
      s.port = nullptr;
      SetLastError(ERROR_INVALID_PARAMETER);
      return false;
    }
  }
  return true;
}

bool associate_file(file_object& f, port_object& p, ULONG_PTR key) {
  std::lock_guard lock(f.mutex);
  if (f.port != nullptr) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return false;
  }
  if (auto ec = p.port->associate(f.file, 0)) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return false;
  }
  if (f.skip_on_success.load(std::memory_order_acquire)) {
    (void)f.file.skip_completion_on_success();
  }
  p.refs.fetch_add(1, std::memory_order_acq_rel);
  f.port = &p;
  f.key = key;
  return true;
}

bool close_file(HANDLE h) {
  file_object* f = find_file(h);
  if (f == nullptr) return false;
  {
    std::lock_guard lock(f->mutex);
    (void)f->file.close();
    if (f->port != nullptr) {
      release_port(f->port);
      f->port = nullptr;
    }
  }
  free_file(f);
  return true;
}

}  // namespace
}  // namespace proact::win32

using namespace proact::win32;

HANDLE WINAPI CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
                                     ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads) {
  if (FileHandle == INVALID_HANDLE_VALUE) {
    if (ExistingCompletionPort != nullptr) {
      SetLastError(ERROR_INVALID_PARAMETER);
      return nullptr;
    }
    return create_port(NumberOfConcurrentThreads);
  }
  socket_object* s = find_socket(reinterpret_cast<UINT_PTR>(FileHandle));
  file_object* f = s == nullptr ? find_file(FileHandle) : nullptr;
  if (s == nullptr && f == nullptr) {
    SetLastError(ERROR_INVALID_HANDLE);
    return nullptr;
  }
  HANDLE port = ExistingCompletionPort;
  if (port == nullptr) {
    port = create_port(NumberOfConcurrentThreads);
    if (port == nullptr) return nullptr;
  }
  port_ref p(port);
  if (!p) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return nullptr;
  }
  const bool associated = s != nullptr ? associate_socket(*s, *p.get(), CompletionKey)
                                       : associate_file(*f, *p.get(), CompletionKey);
  if (!associated) {
    if (ExistingCompletionPort == nullptr) (void)CloseHandle(port);
    return nullptr;
  }
  return port;
}

BOOL WINAPI GetQueuedCompletionStatus(HANDLE CompletionPort, LPDWORD lpNumberOfBytesTransferred,
                                      PULONG_PTR lpCompletionKey, LPOVERLAPPED* lpOverlapped,
                                      DWORD dwMilliseconds) {
  if (lpNumberOfBytesTransferred == nullptr || lpCompletionKey == nullptr ||
      lpOverlapped == nullptr) {
    return fail_win32(ERROR_INVALID_PARAMETER);
  }
  *lpOverlapped = nullptr;
  port_ref p(CompletionPort);
  if (!p) return fail_win32(ERROR_INVALID_HANDLE);
  const auto start = clock::now();
  for (;;) {
    proact::completion c;
    if (auto ec = p.get()->port->wait(c, remaining(dwMilliseconds, start))) {
      return fail_win32(wait_failure(ec));
    }
    packet out;
    if (!finish(c, *p.get(), out)) continue;
    // Windows drops what is queued on a closed port; its waiters fail.
    if (p.get()->closed.load(std::memory_order_acquire)) continue;
    *lpNumberOfBytesTransferred = out.bytes;
    *lpCompletionKey = out.key;
    *lpOverlapped = out.overlapped;
    if (out.status != STATUS_SUCCESS) return fail_win32(win32_from_ntstatus(out.status));
    return TRUE;
  }
}

BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE CompletionPort,
                                        LPOVERLAPPED_ENTRY lpCompletionPortEntries, ULONG ulCount,
                                        PULONG ulNumEntriesRemoved, DWORD dwMilliseconds,
                                        BOOL /*fAlertable: no APCs here*/) {
  if (lpCompletionPortEntries == nullptr || ulNumEntriesRemoved == nullptr || ulCount == 0) {
    return fail_win32(ERROR_INVALID_PARAMETER);
  }
  *ulNumEntriesRemoved = 0;
  port_ref p(CompletionPort);
  if (!p) return fail_win32(ERROR_INVALID_HANDLE);
  constexpr ULONG batch = 64;
  proact::completion got[batch];
  const auto start = clock::now();
  for (;;) {
    std::size_t count = 0;
    const std::size_t want = ulCount < batch ? ulCount : batch;
    if (auto ec = p.get()->port->wait_many({got, want}, count, remaining(dwMilliseconds, start))) {
      return fail_win32(wait_failure(ec));
    }
    ULONG n = 0;
    for (std::size_t i = 0; i < count; ++i) {
      packet out;
      if (!finish(got[i], *p.get(), out)) continue;
      OVERLAPPED_ENTRY& e = lpCompletionPortEntries[n++];
      e.lpCompletionKey = out.key;
      e.lpOverlapped = out.overlapped;
      e.Internal = out.status;
      e.dwNumberOfBytesTransferred = out.bytes;
    }
    if (p.get()->closed.load(std::memory_order_acquire)) continue;
    if (n == 0) continue;
    *ulNumEntriesRemoved = n;
    return TRUE;
  }
}

BOOL WINAPI PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred,
                                       ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped) {
  port_ref p(CompletionPort);
  if (!p) return fail_win32(ERROR_INVALID_HANDLE);
  op_record* r = take_record(op_kind::post, lpOverlapped, dwCompletionKey, nullptr, nullptr);
  if (r == nullptr) return fail_win32(ERROR_NOT_ENOUGH_MEMORY);
  r->posted_bytes = dwNumberOfBytesTransferred;
  if (auto ec = p.get()->port->post(0, 0, r)) {
    give_back(r);
    return fail_win32(ec == proact::errc::port_closed ? ERROR_INVALID_HANDLE
                                                      : ERROR_NOT_ENOUGH_MEMORY);
  }
  return TRUE;
}

BOOL WINAPI CloseHandle(HANDLE hObject) {
  if (find_socket(reinterpret_cast<UINT_PTR>(hObject)) != nullptr) {
    return closesocket(reinterpret_cast<UINT_PTR>(hObject)) == 0 ? TRUE
                                                                 : fail_win32(ERROR_INVALID_HANDLE);
  }
  if (close_waitable_handle(hObject) || close_file(hObject)) return TRUE;
  port_object* p = nullptr;
  if (!free_port_slot(hObject, p)) return fail_win32(ERROR_INVALID_HANDLE);
  // Waiters wake with ERROR_ABANDONED_WAIT_0; what is still queued is dropped
  // by the threads that dequeue it (their operations still finish).
  p->closed.store(true, std::memory_order_release);
  (void)p->port->close();
  release_port(p);
  return TRUE;
}

BOOL WINAPI GetOverlappedResult(HANDLE /*hFile*/, LPOVERLAPPED lpOverlapped,
                                LPDWORD lpNumberOfBytesTransferred, BOOL bWait) {
  if (lpOverlapped == nullptr || lpNumberOfBytesTransferred == nullptr) {
    return fail_win32(ERROR_INVALID_PARAMETER);
  }
  DWORD status = read_status(lpOverlapped);
  if (status == STATUS_PENDING && bWait) {
    // The result arrives when some thread dequeues the packet, which may
    // need this thread's place on the port; there is no event to wait on,
    // so the call polls for it.
    const proact::blocking_scope blocked;
    while (status == STATUS_PENDING) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      status = read_status(lpOverlapped);
    }
  }
  if (status == STATUS_PENDING) return fail_win32(ERROR_IO_INCOMPLETE);
  *lpNumberOfBytesTransferred = static_cast<DWORD>(lpOverlapped->InternalHigh);
  if (status != STATUS_SUCCESS) return fail_win32(win32_from_ntstatus(status));
  return TRUE;
}
