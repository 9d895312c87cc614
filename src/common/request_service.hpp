// request_service: what the name resolver and the signal service share — a
// request per start (one lookup, one signal wait), whose outcome is decided
// exactly once (by its worker or signal, by cancel(), or by the loop's stop)
// and then travels through the loop's port to a loop thread, where the
// public object's handler runs.
//
// The request is its own heap-allocated packet, apart from the public object
// (resolver, signal_set): that object may be destroyed at any moment — its
// handler is then never called — while the request is still queued in the
// port or held by a worker stuck in a system call. Every field of a request
// is guarded by the service's mutex; it is freed when its last holder (the
// service's pending list or the port, and a worker) lets go.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/loop_services.hpp"
#include "proact/detail/loop_node.hpp"

namespace proact::detail {

class request_service;

class service_request : public loop_node {
 public:
  explicit service_request(void* owner) noexcept : loop_node(&finish), owner_(owner) {}
  service_request(const service_request&) = delete;
  service_request& operator=(const service_request&) = delete;
  virtual ~service_request() = default;

  // Decided: completed, cancelled or aborted. Under the service's lock.
  bool done() const noexcept { return done_; }
  // A worker takes its own reference while it works on the request.
  void hold() noexcept { ++refs_; }

 protected:
  void* owner() const noexcept { return owner_; }
  // Delivered, its owner alive: under the lock, the owner forgets it as its
  // pending request (so that the handler may start the next one)...
  virtual void settle_locked() noexcept = 0;
  // ...then, without the lock, the owner's handler runs with the outcome.
  virtual void call(std::error_code ec) = 0;

 private:
  friend class request_service;
  static void finish(loop_node& self, std::size_t bytes, std::error_code ec);

  request_service* service_ = nullptr;
  void* owner_;  // null once the public object is gone
  bool done_ = false;
  int refs_ = 1;  // the service (pending list, then the port) + workers
  service_request* prev_ = nullptr;
  service_request* next_ = nullptr;
};

class request_service : public loop_service, public std::enable_shared_from_this<request_service> {
 public:
  explicit request_service(loop& l) noexcept : loop_(l) {}

  std::mutex& mutex() noexcept { return mutex_; }

  // Takes r (new, its payload set) as pending. errc::port_closed once the
  // loop stopped: r is then freed. Under the lock.
  std::error_code begin_locked(service_request& r);
  // Decides r's outcome with ec and queues it on the port, if it is still
  // pending; false if it was decided before. Under the lock; `lock` may be
  // released for a moment when the port is closed and the handler runs here.
  bool complete_locked(service_request& r, std::error_code ec, std::unique_lock<std::mutex>& lock);
  // A worker is done with r.
  void release_locked(service_request& r) noexcept;
  // ~resolver, ~signal_set: r (the owner's pending request, or null) will not
  // call its owner; waits for calls of the owner's handler on other threads.
  void abandon(void* owner, service_request* r) noexcept;

  void shutdown() noexcept override;
  bool is_shut_down_locked() const noexcept { return shut_down_; }

 private:
  friend class service_request;
  // A call of an owner's handler that is running now (on that thread's stack).
  struct running_call {
    void* owner;
    std::thread::id thread;
    running_call* next;
  };
  void deliver(service_request& r, std::error_code ec);
  void unlink_locked(service_request& r) noexcept;

  loop& loop_;
  std::mutex mutex_;
  std::condition_variable calls_done_;
  service_request* pending_ = nullptr;  // requests not yet decided
  running_call* calls_ = nullptr;
  bool shut_down_ = false;
};

}  // namespace proact::detail
