#include "winsock.hpp"

#include <atomic>
#include <mutex>

#include "proact/error.hpp"

namespace proact::detail::winsock {

std::error_code startup() noexcept {
  // A function-local static: thread-safe, once. Never paired with WSACleanup:
  // sockets may live until process exit.
  static const int result = [] {
    WSADATA data{};
    return WSAStartup(MAKEWORD(2, 2), &data);
  }();
  return result == 0 ? std::error_code{} : native_error(result);
}

std::error_code last_error() noexcept {
  return native_error(WSAGetLastError());
}

int native_family(address_family family) noexcept {
  return family == address_family::ipv6 ? AF_INET6 : AF_INET;
}

namespace {

template <class Fn>
bool load_function(SOCKET s, GUID guid, Fn& out) noexcept {
  DWORD bytes = 0;
  return WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &out, sizeof(out),
                  &bytes, nullptr, nullptr) == 0 &&
         out != nullptr;
}

struct extension_slot {
  std::atomic<bool> ready{false};
  extensions functions;
};

}  // namespace

const extensions* load_extensions(SOCKET probe, address_family family,
                                  std::error_code& ec) noexcept {
  static extension_slot slots[2];
  static std::mutex load_lock;
  extension_slot& slot = slots[family == address_family::ipv6 ? 1 : 0];
  if (slot.ready.load(std::memory_order_acquire)) return &slot.functions;

  std::lock_guard<std::mutex> guard(load_lock);
  if (!slot.ready.load(std::memory_order_relaxed)) {
    extensions loaded;
    if (!load_function(probe, WSAID_ACCEPTEX, loaded.accept_ex) ||
        !load_function(probe, WSAID_CONNECTEX, loaded.connect_ex) ||
        !load_function(probe, WSAID_GETACCEPTEXSOCKADDRS, loaded.get_accept_ex_sockaddrs) ||
        !load_function(probe, WSAID_TRANSMITFILE, loaded.transmit_file)) {
      ec = last_error();
      return nullptr;
    }
    slot.functions = loaded;
    slot.ready.store(true, std::memory_order_release);
  }
  return &slot.functions;
}

}  // namespace proact::detail::winsock
