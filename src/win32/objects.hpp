// The layer's kernel objects: ports and sockets behind HANDLE/SOCKET values,
// and the table that turns a value back into its object.
//
// A value is (slot index + 1) * 4, as small and aligned as Windows' own
// handle values. Slots live in chunks that are never freed, so a lookup
// needs no lock: a stale or forged value finds a free slot (or another
// object of the wrong kind) and is refused, as Windows refuses it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "proact/endpoint.hpp"
#include "proact/file.hpp"
#include "proact/port.hpp"
#include "proact/socket.hpp"
#include "proact/udp.hpp"
#include "proact/win32.h"

namespace proact::win32 {

// A completion port. Its shell is never freed (a closed port keeps these few
// bytes); the proact::port inside is destroyed when the last reference goes:
// the handle's own, one per thread inside a call on it, one per socket
// associated with it.
struct port_object {
  std::optional<proact::port> port;
  std::atomic<int> refs{1};
  std::atomic<bool> closed{false};
  port_object* next_shell = nullptr;  // the list of every shell (objects.cpp)
};

// Takes a reference on the port behind a HANDLE; empty if the value is not
// an open port. Releases it on destruction.
class port_ref {
 public:
  port_ref() noexcept = default;
  explicit port_ref(HANDLE h) noexcept;
  port_ref(const port_ref&) = delete;
  port_ref& operator=(const port_ref&) = delete;
  ~port_ref();
  explicit operator bool() const noexcept { return port_ != nullptr; }
  port_object* get() const noexcept { return port_; }

 private:
  port_object* port_ = nullptr;
};
void release_port(port_object* p) noexcept;

// A socket created with WSASocket/socket. Winsock decides what a TCP socket
// is by what is done with it (listen, AcceptEx target, ConnectEx); proact has
// one type per role, so the proact handle is opened when the role is known.
// A UDP socket has one role from the start.
enum class socket_role : std::uint8_t { unopened, listener, stream, datagram };

// Unanswered keep-alive probes before the connection is dropped: Windows
// (Vista and later) sends 10 and does not let them be changed
// (SIO_KEEPALIVE_VALS).
inline constexpr int keep_alive_probes = 10;

struct socket_object {
  std::mutex mutex;    // bind, listen, associate, connect setup, close
  UINT_PTR value = 0;  // its SOCKET
  std::atomic<socket_role> role{socket_role::unopened};
  int family = AF_INET;  // the Windows value
  int type = SOCK_STREAM;
  proact::endpoint bound;  // bind() before the role is known
  proact::tcp_socket stream;
  proact::tcp_listener listener;
  proact::udp_socket udp;
  port_object* port = nullptr;  // the associated port (holds a reference)
  ULONG_PTR key = 0;
  bool key_set = false;  // false while associated only by AcceptEx (initial data)
  // Options set before the handle exists, applied when it opens (and kept
  // for getsockopt).
  bool no_delay = false;
  int linger_seconds = -1;  // SO_LINGER (-1: none)
  bool keep_alive = false;
  // SIO_KEEPALIVE_VALS's times, in seconds (-1: the system's until it is called)
  int keep_alive_idle = -1;
  int keep_alive_interval = -1;
  bool reuse_address = false;
  int send_buffer = -1;     // SO_SNDBUF (-1: the system's)
  int receive_buffer = -1;  // SO_RCVBUF (-1: the system's)
  // When its connection was made or accepted (steady clock, in ns since its
  // epoch); 0 while not connected. getsockopt(SO_CONNECT_TIME).
  std::atomic<std::int64_t> connected_at{0};
  std::atomic<bool> accept_target{false};  // the sAcceptSocket of a pending AcceptEx
  std::atomic<bool> connecting{false};     // a ConnectEx's connect step is pending
  // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS (applied when the handle is associated)
  std::atomic<bool> skip_on_success{false};
  bool close_deferred = false;  // closesocket while accept_target
  // A listener that a blocking accept associated with the layer's own port
  // (blocking_accept.cpp): it cannot be associated with another one.
  bool on_layer_port = false;
  std::atomic<bool> send_shut{false};  // shutdown(SD_SEND): send fails with WSAESHUTDOWN
  std::atomic<bool> recv_shut{false};  // shutdown(SD_RECEIVE): recv fails with WSAESHUTDOWN
  // Blocking connect/send/recv in progress on the native descriptor
  // (blocking.cpp); closesocket sets `closing`, wakes them and waits for
  // them to leave before it closes the descriptor.
  std::atomic<int> blocking_calls{0};
  std::atomic<bool> closing{false};

  proact::handle* active() noexcept {
    switch (role.load(std::memory_order_acquire)) {
      case socket_role::listener:
        return &listener;
      case socket_role::stream:
        return &stream;
      case socket_role::datagram:
        return &udp;
      default:
        return nullptr;
    }
  }
};

// A file from CreateFileA/W, opened for overlapped positional I/O.
struct file_object {
  std::mutex mutex;    // associate, close
  UINT_PTR value = 0;  // its HANDLE
  proact::file file;
  port_object* port = nullptr;  // the associated port (holds a reference)
  ULONG_PTR key = 0;
  std::atomic<bool> skip_on_success{false};
};

// What WaitForSingleObject/WaitForMultipleObjects wait on (waits.cpp): a
// thread, signaled once it has ended, an event, a semaphore or a mutex
// (waits.hpp has the last two). The fields are guarded by the waits' lock.
struct waitable_object {
  enum class type : std::uint8_t { thread, event, semaphore, mutex };
  explicit waitable_object(type t) noexcept : kind(t) {}
  waitable_object(const waitable_object&) = delete;
  waitable_object& operator=(const waitable_object&) = delete;
  virtual ~waitable_object() = default;

  const type kind;
  bool signaled = false;     // a thread or an event
  bool manual_reset = true;  // false: the wait it satisfies resets it (auto-reset event)
  int refs = 1;              // the handle's, and one per holder (a running thread, a waiter)
};

// New objects; INVALID_SOCKET / nullptr (last error set) when out of slots.
SOCKET new_socket(int family, int type);
HANDLE new_port(port_object* p);
HANDLE new_waitable_handle(waitable_object* w);
// A slot for a file (its file_object to open), or nullptr (last error set).
file_object* new_file();
file_object* find_file(HANDLE h) noexcept;
// Frees the slot of a closed file.
void free_file(file_object* f) noexcept;
// The thread or event behind a handle, or nullptr. Callers hold the waits'
// lock.
waitable_object* find_waitable(HANDLE h) noexcept;
bool free_waitable_slot(HANDLE h, waitable_object*& w) noexcept;
// The socket behind a value, or nullptr (no error set).
socket_object* find_socket(UINT_PTR value) noexcept;
// Frees the slot of a closed socket / port handle.
void free_socket(socket_object* s) noexcept;
bool free_port_slot(HANDLE h, port_object*& p) noexcept;

// Opens the proact handle for the socket's role, binds it to `bound` when
// set, applies pending options, associates it with the socket's port.
// Caller holds s.mutex.
std::error_code open_as_stream(socket_object& s);
// Applies the options set while the socket had no handle to h, now open.
void apply_pending_options(socket_object& s, proact::handle& h) noexcept;
// Its connection is made or accepted now (SO_CONNECT_TIME counts from here).
void mark_connected(socket_object& s) noexcept;
// Before a connect (ConnectEx, connect) on `s`: a stream whose ConnectEx
// failed goes back to "role not known" (its descriptor cannot connect
// again), as Windows lets the application try again on the same socket.
// Returns WSAEALREADY while a connect is in progress, WSAEISCONN once
// connected, 0 otherwise. Caller holds s.mutex.
int reopen_after_failed_connect(socket_object& s) noexcept;
std::error_code associate_with_port(socket_object& s, proact::handle& h);

// CloseHandle of a thread or event handle (waits.cpp); false if `h` is not
// one.
bool close_waitable_handle(HANDLE h) noexcept;

// Closes everything the socket holds. Caller holds s.mutex.
void close_socket_locked(socket_object& s) noexcept;

}  // namespace proact::win32
