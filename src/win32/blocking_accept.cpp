// The blocking accept: accept, WSAAccept.
//
// proact accepts through an operation on an associated listener. A
// listener that no application port has (the classic shape: a main thread
// in a WSAAccept loop, the accepted sockets associated with the port) is
// associated with the layer's own port, one per process, made on first use;
// one thread of the layer waits on it and hands each completion to the
// thread blocked in the call. closesocket of the listener completes the
// accept (operation_aborted), which releases the caller: nothing of the
// listener is touched after that, as its slot may be reused already.
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

#include "objects.hpp"
#include "proact/error.hpp"
#include "proact/port.hpp"
#include "sockaddr.hpp"
#include "status.hpp"

using namespace proact::win32;

namespace {

// One blocked call: its operation, where the connection goes, and the
// handshake with the layer's thread.
struct accept_call : proact::operation {
  proact::tcp_socket peer;
  proact::endpoint peer_address;
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::error_code error;

  void complete(const std::error_code& ec) {
    std::lock_guard lock(mutex);
    error = ec;
    done = true;
    // Under the lock: the caller destroys this as soon as it sees `done`.
    done_cv.notify_one();
  }
  std::error_code wait() {
    const proact::blocking_scope blocked;  // another thread may take this one's place on its port
    std::unique_lock lock(mutex);
    done_cv.wait(lock, [this] { return done; });
    return error;
  }
};

// The layer's port and its thread, for the life of the process (never
// destroyed: the thread waits on it until the process ends).
proact::port* layer_port() {
  static proact::port* const port = []() -> proact::port* {
    auto* p = new (std::nothrow) proact::port;
    if (p == nullptr) return nullptr;
    if (p->open({proact::backend_kind::automatic, 1})) {
      delete p;
      return nullptr;
    }
    try {
      std::thread([p] {
        proact::completion c;
        for (;;) {
          if (const std::error_code ec = p->wait(c)) {
            if (ec == proact::errc::port_closed) return;
            continue;
          }
          if (c.op != nullptr) static_cast<accept_call*>(c.op)->complete(c.error);
        }
      }).detach();
    } catch (...) {
      delete p;
      return nullptr;
    }
    return p;
  }();
  return port;
}

int address_size(int family) noexcept {
  return family == AF_INET6 ? static_cast<int>(sizeof(sockaddr_in6))
                            : static_cast<int>(sizeof(sockaddr_in));
}

SOCKET refused(int wsa_error) noexcept {
  WSASetLastError(wsa_error);
  return INVALID_SOCKET;
}

// Starts the accept of `call` on the listener `s`; the Winsock error of a
// refusal, or 0.
int start_accept(SOCKET s, accept_call& call) {
  socket_object* so = find_socket(s);
  if (so == nullptr) return WSAENOTSOCK;
  std::lock_guard lock(so->mutex);
  switch (so->role.load(std::memory_order_acquire)) {
    case socket_role::listener:
      break;
    case socket_role::datagram:
      return WSAEOPNOTSUPP;
    default:
      return WSAEINVAL;  // "listen was not invoked prior to accept"
  }
  // Associated with the application's port (for AcceptEx): its completions
  // go to the application's threads, none to this call.
  if (so->port != nullptr) return WSAEINVAL;
  if (!so->on_layer_port) {
    proact::port* port = layer_port();
    if (port == nullptr) return WSAENOBUFS;
    if (auto ec = port->associate(so->listener, 0)) return wsa_from(ec);
    so->on_layer_port = true;
  }
  if (auto ec = so->listener.accept(call, call.peer, &call.peer_address)) return wsa_from(ec);
  // SetFileCompletionNotificationModes on the listener: it may be done now.
  if (call.completed_at_start()) call.complete(call.result().error);
  return 0;
}

// WSAAccept's condition function, on the accepted connection (no
// SO_CONDITIONAL_ACCEPT here: the handshake is done). Its verdict.
int ask_condition(LPCONDITIONPROC condition, DWORD_PTR data, accept_call& call,
                  const sockaddr_storage& peer, int peer_length) {
  WSABUF caller_id{static_cast<ULONG>(peer_length),
                   const_cast<CHAR*>(reinterpret_cast<const CHAR*>(&peer))};
  sockaddr_storage local{};
  WSABUF callee_id{0, reinterpret_cast<CHAR*>(&local)};
  std::error_code ec;
  const proact::endpoint here = call.peer.local_endpoint(ec);
  if (!ec) callee_id.len = static_cast<ULONG>(sockaddr_from(here, &local, sizeof local));
  // No connect data in TCP: both empty (the function may write the callee's
  // length).
  WSABUF caller_data{0, nullptr};
  WSABUF callee_data{0, nullptr};
  GROUP group = 0;
  return condition(&caller_id, &caller_data, nullptr, nullptr, &callee_id, &callee_data, &group,
                   data);
}

}  // namespace

SOCKET WSAAPI WSAAccept(SOCKET s, struct sockaddr* addr, LPINT addrlen,
                        LPCONDITIONPROC lpfnCondition, DWORD_PTR dwCallbackData) {
  int family = AF_INET;
  if (socket_object* so = find_socket(s)) family = so->family;
  // Checked before waiting, so that no connection is taken and lost.
  if (addr != nullptr && (addrlen == nullptr || *addrlen < address_size(family))) {
    return refused(WSAEFAULT);
  }
  accept_call call;
  if (const int refusal = start_accept(s, call)) return refused(refusal);
  if (const std::error_code ec = call.wait()) {
    // The listener closed under the call, as Windows reports a blocking call
    // ended by closesocket.
    if (ec == proact::errc::operation_aborted) return refused(WSAEINTR);
    return refused(wsa_from(ec));
  }
  sockaddr_storage peer{};
  const int peer_length = sockaddr_from(call.peer_address, &peer, sizeof peer);
  if (lpfnCondition != nullptr) {
    const int verdict = ask_condition(lpfnCondition, dwCallbackData, call, peer, peer_length);
    if (verdict != CF_ACCEPT) {
      (void)call.peer.close();
      // CF_DEFER needs SO_CONDITIONAL_ACCEPT, which is not given here.
      return refused(verdict == CF_REJECT ? WSAECONNREFUSED : WSAEINVAL);
    }
  }
  const SOCKET accepted = new_socket(family, SOCK_STREAM);
  if (accepted == INVALID_SOCKET) return INVALID_SOCKET;  // the connection closes with `call`
  socket_object* so = find_socket(accepted);
  {
    std::lock_guard lock(so->mutex);
    so->stream = std::move(call.peer);
    so->role.store(socket_role::stream, std::memory_order_release);
    mark_connected(*so);
  }
  if (addr != nullptr) {
    std::memcpy(addr, &peer, static_cast<std::size_t>(peer_length));
    *addrlen = peer_length;
  }
  return accepted;
}

SOCKET WSAAPI accept(SOCKET s, struct sockaddr* addr, int* addrlen) {
  return WSAAccept(s, addr, addrlen, nullptr, 0);
}
