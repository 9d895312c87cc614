// loop_service: a per-loop facility started on first use (the name resolver,
// the signal service). The loop shuts each one down in stop(), before its
// port closes, so that everything pending completes with
// errc::operation_aborted through the port; ~loop() then closes it (joins its
// threads). A service is shared: a thread of its own that outlives the loop
// (a lookup stuck in the system resolver) keeps it alive, never the loop.
#pragma once

#include <memory>
#include <mutex>

#include "proact/loop.hpp"

namespace proact::detail {

class loop_service {
 public:
  loop_service() = default;
  loop_service(const loop_service&) = delete;
  loop_service& operator=(const loop_service&) = delete;
  virtual ~loop_service() = default;

  // loop::stop(): completes everything pending with operation_aborted (the
  // port is still open) and refuses new work with errc::port_closed.
  virtual void shutdown() noexcept = 0;
  // ~loop(), after shutdown() and the last run: releases threads. The loop
  // is gone once this returns.
  virtual void close() noexcept {}
};

struct loop_services {
  // The loop's service of type T (made with T(loop&) the first time), or
  // null once the loop is stopped.
  template <class T>
  static std::shared_ptr<T> get(loop& l) {
    static constexpr char id = 0;
    std::lock_guard lock(l.mutex_);
    if (l.stopped()) return nullptr;
    for (auto& entry : l.services_)
      if (entry.first == &id) return std::static_pointer_cast<T>(entry.second);
    auto service = std::make_shared<T>(l);
    l.services_.emplace_back(&id, service);
    return service;
  }
  // Queues n on l's port to finish with (bytes, ec); port_closed once closed.
  static std::error_code post(loop& l, loop_node& n, std::size_t bytes, std::error_code ec) {
    return l.post_result(n, bytes, ec);
  }
};

}  // namespace proact::detail
