// timer_service: the armed timers of one loop, in a binary heap ordered by
// deadline, and the thread that turns each expiry into a packet on the
// loop's port. Started by the loop on first use; shut down by loop::stop(),
// which aborts every armed timer through the port before the port closes.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "proact/timer.hpp"

namespace proact::detail {

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
  // ~timer(): takes t out of the heap without a completion.
  void forget(timer& t) noexcept;
  // After a repeating timer's handler: arms the next expiry, or (cancelled,
  // or the loop stopping) delivers the final operation_aborted.
  void rearm(timer& t);
  // Marks a repeating timer's handler as running (cancel() then stops it).
  void begin_handler(timer& t);

  // Aborts every armed timer through the port and stops the thread; later
  // arm() calls fail. The port must still be open.
  void shutdown();

 private:
  static constexpr std::size_t not_in_heap = static_cast<std::size_t>(-1);

  void run();
  void push(timer& t);
  void remove(timer& t);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, timer* t);
  void post_locked(timer& t, std::error_code ec);

  loop& loop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<timer*> heap_;
  bool shut_down_ = false;
  std::thread thread_;
};

}  // namespace proact::detail
