// timer_service: the armed timers and operation deadlines of one loop, in a
// binary heap ordered by deadline, and the thread that expires them: a timer's
// expiry becomes a packet on the loop's port, a deadline cancels its
// operation. Started by the loop on first use; shut down by loop::stop(),
// which aborts every armed timer through the port before the port closes.
//
// A timer is not itself the packet that carries its expiry: the service
// posts one of its own packets (recycled, so steady state allocates nothing)
// that points back at the timer. ~timer() clears that pointer under the
// service's lock, so a timer may be destroyed while its packet is queued.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "proact/detail/loop_node.hpp"
#include "proact/detail/timer_entry.hpp"
#include "proact/timer.hpp"

namespace proact::detail {

// The packet that carries a timer's expiry or cancellation through the port.
class timer_packet final : public loop_node {
 public:
  timer_packet() noexcept : loop_node(&finish) {}

 private:
  friend class timer_service;
  static void finish(loop_node& self, std::size_t bytes, std::error_code ec);

  timer_service* service_ = nullptr;
  timer* owner_ = nullptr;  // null once the timer was destroyed
  timer_packet* next_free_ = nullptr;
};

// One running call of a timer's handler, on the calling thread's stack.
struct timer_call {
  std::thread::id thread;
  bool destroyed = false;  // the timer was destroyed by this call's thread
  timer_call* next = nullptr;
};

// Sets the strand of a node the service posts on behalf of a timer.
struct loop_access {
  static void bind(loop_node& n, strand* s) noexcept { n.strand_ = s; }
};

class timer_service {
 public:
  explicit timer_service(loop& owner) : loop_(owner) {}
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;
  ~timer_service();

  // Puts t (its deadline set) into the heap. errc::port_closed after shutdown.
  std::error_code arm(timer& t);
  // cancel(): aborts t through the port if it is in the heap, or stops a
  // repeating timer whose handler is running. not_found otherwise.
  std::error_code cancel(timer& t);
  // ~timer(): takes t out of the heap, drops its queued packet, and waits for
  // calls of its handler on other threads to return.
  void destroy(timer& t) noexcept;
  // A timer packet was dequeued: calls the handler unless the timer is gone,
  // then re-arms a repeating timer.
  void deliver(timer_packet& p, std::error_code ec);

  // Deadlines of operations: e is expired (its expire function called under
  // the lock) once its deadline passed, unless removed first.
  // errc::port_closed after shutdown.
  std::error_code add(timer_entry& e);
  // Runs start(arm) with the heap locked and adds e if it set `arm`: the
  // deadline of an operation that start() started. Without a deadline after
  // shutdown (the port's close aborts the operation).
  template <class Start>
  std::error_code start_with_deadline(timer_entry& e, Start&& start) {
    std::lock_guard lock(mutex_);
    bool arm = false;
    std::error_code ec = start(arm);
    if (arm && !shut_down_) {
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
      push(e);
    }
    return ec;
  }
  // Takes e out of the heap if it is still there. Once this returned, e's
  // expire function is not running and will not run.
  void remove_if_armed(timer_entry& e) noexcept;

  // Aborts every armed timer through the port, drops the deadlines (the port's
  // close aborts their operations) and stops the thread; later arm() and add()
  // calls fail. The port must still be open.
  void shutdown();

  // The timer thread reached t's deadline (t is out of the heap).
  void expire_timer(timer& t);

 private:
  void run();
  void push(timer_entry& e);
  void remove(timer_entry& e);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, timer_entry* e);
  // Queues t's packet; false (nothing queued) once the port is closed.
  bool post_locked(timer& t, std::error_code ec);
  timer_packet* take_packet();
  void recycle(timer_packet& p) noexcept;
  // After a repeating call: the next expiry, or the final aborted packet.
  // Returns true when the final call must run here (the port is closed).
  bool rearm_locked(timer& t);

  loop& loop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable calls_done_;  // a handler call ended (~timer waits)
  std::vector<timer_entry*> heap_;
  std::vector<std::unique_ptr<timer_packet[]>> packet_chunks_;
  timer_packet* free_packets_ = nullptr;
  bool shut_down_ = false;
  std::thread thread_;
};

}  // namespace proact::detail
