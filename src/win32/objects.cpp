#include "objects.hpp"

#include <chrono>
#include <new>
#include <vector>

#include "native_socket.hpp"
#include "status.hpp"

namespace proact::win32 {
namespace {

enum class slot_kind : std::uint8_t { free, port, socket, waitable, file };

struct slot {
  std::atomic<slot_kind> kind{slot_kind::free};
  std::atomic<port_object*> port{nullptr};
  std::atomic<waitable_object*> waitable{nullptr};
  socket_object socket;
  file_object file;
};

constexpr std::uint32_t chunk_slots = 1024;
constexpr std::uint32_t max_chunks = 1024;  // a million handles

std::atomic<slot*> chunks[max_chunks];
std::mutex table_mutex;  // creating and freeing handles, never lookups
std::vector<std::uint32_t> free_slots;
std::uint32_t used_chunks = 0;
// Every port shell ever made (they are never freed; see port_object), linked
// through a plain global so that they stay reachable to the end.
port_object* port_shells = nullptr;

UINT_PTR value_of(std::uint32_t index) noexcept {
  return (UINT_PTR{index} + 1) * 4;
}

slot* find(UINT_PTR value) noexcept {
  if (value == 0 || value % 4 != 0) return nullptr;
  const UINT_PTR index = value / 4 - 1;
  if (index >= UINT_PTR{chunk_slots} * max_chunks) return nullptr;
  slot* chunk = chunks[index / chunk_slots].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : &chunk[index % chunk_slots];
}

// A free slot's index, or false when the table is full.
bool allocate(std::uint32_t& index) {
  std::lock_guard lock(table_mutex);
  if (free_slots.empty()) {
    if (used_chunks == max_chunks) return false;
    auto* chunk = new (std::nothrow) slot[chunk_slots];
    if (chunk == nullptr) return false;
    chunks[used_chunks].store(chunk, std::memory_order_release);
    // Handed out lowest first.
    for (std::uint32_t i = chunk_slots; i-- > 0;)
      free_slots.push_back(used_chunks * chunk_slots + i);
    ++used_chunks;
  }
  index = free_slots.back();
  free_slots.pop_back();
  return true;
}

void release_index(UINT_PTR value) {
  std::lock_guard lock(table_mutex);
  free_slots.push_back(static_cast<std::uint32_t>(value / 4 - 1));
}

}  // namespace

port_ref::port_ref(HANDLE h) noexcept {
  slot* s = find(reinterpret_cast<UINT_PTR>(h));
  if (s == nullptr || s->kind.load(std::memory_order_acquire) != slot_kind::port) return;
  port_object* p = s->port.load(std::memory_order_acquire);
  if (p == nullptr) return;
  // Port shells are never freed, so the count can be touched even if the
  // handle is being closed right now; a closed port is refused.
  p->refs.fetch_add(1, std::memory_order_acq_rel);
  if (p->closed.load(std::memory_order_acquire) || s->port.load(std::memory_order_acquire) != p) {
    release_port(p);
    return;
  }
  port_ = p;
}

port_ref::~port_ref() {
  if (port_ != nullptr) release_port(port_);
}

void release_port(port_object* p) noexcept {
  if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) p->port.reset();
}

SOCKET new_socket(int family, int type) {
  std::uint32_t index = 0;
  if (!allocate(index)) {
    WSASetLastError(WSAEMFILE);
    return INVALID_SOCKET;
  }
  slot* s = find(value_of(index));
  socket_object& so = s->socket;
  so.value = value_of(index);
  so.family = family;
  so.type = type;
  so.bound = proact::endpoint{};
  so.port = nullptr;
  so.key = 0;
  so.key_set = false;
  so.no_delay = false;
  so.linger_seconds = -1;
  so.keep_alive = false;
  so.reuse_address = false;
  so.send_buffer = -1;
  so.receive_buffer = -1;
  so.connected_at.store(0, std::memory_order_relaxed);
  so.close_deferred = false;
  so.connecting.store(false, std::memory_order_relaxed);
  so.on_layer_port = false;
  so.send_shut.store(false, std::memory_order_relaxed);
  so.recv_shut.store(false, std::memory_order_relaxed);
  so.closing.store(false, std::memory_order_relaxed);
  so.skip_on_success.store(false, std::memory_order_relaxed);
  so.role.store(socket_role::unopened, std::memory_order_release);
  s->kind.store(slot_kind::socket, std::memory_order_release);
  return value_of(index);
}

HANDLE new_port(port_object* p) {
  std::uint32_t index = 0;
  if (!allocate(index)) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  {
    std::lock_guard lock(table_mutex);
    p->next_shell = port_shells;
    port_shells = p;
  }
  slot* s = find(value_of(index));
  s->port.store(p, std::memory_order_release);
  s->kind.store(slot_kind::port, std::memory_order_release);
  return reinterpret_cast<HANDLE>(value_of(index));  // NOLINT(performance-no-int-to-ptr)
}

HANDLE new_waitable_handle(waitable_object* w) {
  std::uint32_t index = 0;
  if (!allocate(index)) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  slot* s = find(value_of(index));
  s->waitable.store(w, std::memory_order_release);
  s->kind.store(slot_kind::waitable, std::memory_order_release);
  return reinterpret_cast<HANDLE>(value_of(index));  // NOLINT(performance-no-int-to-ptr)
}

waitable_object* find_waitable(HANDLE h) noexcept {
  slot* s = find(reinterpret_cast<UINT_PTR>(h));
  if (s == nullptr || s->kind.load(std::memory_order_acquire) != slot_kind::waitable)
    return nullptr;
  return s->waitable.load(std::memory_order_acquire);
}

bool free_waitable_slot(HANDLE h, waitable_object*& w) noexcept {
  slot* s = find(reinterpret_cast<UINT_PTR>(h));
  if (s == nullptr || s->kind.load(std::memory_order_acquire) != slot_kind::waitable) return false;
  w = s->waitable.exchange(nullptr, std::memory_order_acq_rel);
  if (w == nullptr) return false;
  s->kind.store(slot_kind::free, std::memory_order_release);
  release_index(reinterpret_cast<UINT_PTR>(h));
  return true;
}

file_object* new_file() {
  std::uint32_t index = 0;
  if (!allocate(index)) {
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
  slot* s = find(value_of(index));
  s->file.value = value_of(index);
  s->file.port = nullptr;
  s->file.key = 0;
  s->file.skip_on_success.store(false, std::memory_order_relaxed);
  s->kind.store(slot_kind::file, std::memory_order_release);
  return &s->file;
}

file_object* find_file(HANDLE h) noexcept {
  slot* s = find(reinterpret_cast<UINT_PTR>(h));
  if (s == nullptr || s->kind.load(std::memory_order_acquire) != slot_kind::file) return nullptr;
  return &s->file;
}

void free_file(file_object* f) noexcept {
  slot* s = find(f->value);
  s->kind.store(slot_kind::free, std::memory_order_release);
  release_index(f->value);
}

socket_object* find_socket(UINT_PTR value) noexcept {
  slot* s = find(value);
  if (s == nullptr || s->kind.load(std::memory_order_acquire) != slot_kind::socket) return nullptr;
  return &s->socket;
}

void free_socket(socket_object* so) noexcept {
  slot* s = find(so->value);
  s->kind.store(slot_kind::free, std::memory_order_release);
  release_index(so->value);
}

bool free_port_slot(HANDLE h, port_object*& p) noexcept {
  slot* s = find(reinterpret_cast<UINT_PTR>(h));
  if (s == nullptr || s->kind.load(std::memory_order_acquire) != slot_kind::port) return false;
  p = s->port.exchange(nullptr, std::memory_order_acq_rel);
  if (p == nullptr) return false;
  s->kind.store(slot_kind::free, std::memory_order_release);
  release_index(reinterpret_cast<UINT_PTR>(h));
  return true;
}

std::error_code associate_with_port(socket_object& s, proact::handle& h) {
  if (s.port == nullptr || h.is_associated()) return {};
  if (auto ec = s.port->port->associate(h, 0)) return ec;
  if (s.skip_on_success.load(std::memory_order_acquire)) return h.skip_completion_on_success();
  return {};
}

std::error_code open_as_stream(socket_object& s) {
  const auto family = s.family == AF_INET6 ? address_family::ipv6 : address_family::ipv4;
  if (auto ec = s.stream.open(family)) return ec;
  if (!s.bound.empty()) {
    if (auto ec = s.stream.bind(s.bound)) {
      (void)s.stream.close();
      return ec;
    }
  }
  apply_pending_options(s, s.stream);
  if (auto ec = associate_with_port(s, s.stream)) {
    (void)s.stream.close();
    return ec;
  }
  s.role.store(socket_role::stream, std::memory_order_release);
  return {};
}

void apply_pending_options(socket_object& s, proact::handle& h) noexcept {
  const int fd = h.native_handle();
  if (s.no_delay && &h == &s.stream) (void)s.stream.set_no_delay(true);
  if (s.linger_seconds >= 0) set_linger(fd, s.linger_seconds);
  if (s.keep_alive) (void)set_keep_alive(fd, true);
  if (s.keep_alive_idle > 0) {
    (void)set_keep_alive_times(fd, s.keep_alive_idle, s.keep_alive_interval, keep_alive_probes);
  }
  if (s.send_buffer >= 0) (void)set_buffer_size(fd, true, s.send_buffer);
  if (s.receive_buffer >= 0) (void)set_buffer_size(fd, false, s.receive_buffer);
}

void mark_connected(socket_object& s) noexcept {
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  s.connected_at.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(),
                       std::memory_order_release);
}

int reopen_after_failed_connect(socket_object& s) noexcept {
  if (s.role.load(std::memory_order_acquire) != socket_role::stream) return 0;
  if (s.connected_at.load(std::memory_order_acquire) != 0) return WSAEISCONN;
  if (s.connecting.load(std::memory_order_acquire) ||
      s.blocking_calls.load(std::memory_order_acquire) > 0) {
    return WSAEALREADY;
  }
  (void)s.stream.close();
  s.role.store(socket_role::unopened, std::memory_order_release);
  return 0;
}

void close_socket_locked(socket_object& s) noexcept {
  s.connected_at.store(0, std::memory_order_release);
  (void)s.stream.close();
  (void)s.listener.close();
  (void)s.udp.close();
  s.role.store(socket_role::unopened, std::memory_order_release);
  s.on_layer_port = false;
  if (s.port != nullptr) {
    release_port(s.port);
    s.port = nullptr;
  }
}

}  // namespace proact::win32
