// timer_service: the armed timers and operation deadlines of one loop, in a
// binary heap ordered by deadline, expired by the loop's own threads in their
// wait on the port: a thread about to wait takes the watch (one thread at a
// time) and waits no longer than the nearest deadline; when it returns it
// cancels the operations whose deadline passed and takes the timers that
// expired. There is no timer thread. loop::stop() aborts every armed timer
// through the port before the port closes.
//
// Where an expiry runs:
//  - one thread runs the loop (the benchmarked case, and most programs): the
//    expired timers go to a ready list (an array in deadline order) that the
//    same thread runs from, no packet, no syscall, up to the batch size per
//    run_batch() (one for run_one()), before it waits again;
//  - several threads run it, or the timer is bound to a strand: the expiry
//    is a packet posted to the port, so that it runs under the port's
//    concurrency value (and through the strand) like I/O.
//
// A thread that arms a timer (or a deadline) earlier than the watch's wait
// will end, or with no watch while another thread is inside run(), posts one
// wake packet (a node of the service, never seen by callers) so that a
// waiting thread takes the watch with the new deadline. So does a watching
// thread that leaves its wait with work while other threads run the loop,
// so that a long handler of its does not hold back the others' deadlines.
// Nobody running the loop means nobody expires: a timer whose deadline passed
// then behaves as expired (its cancel() finds the expiry queued), and an
// operation's deadline cancels it at the next wait, before its completion is
// seen, so the outcome is one of those the contract allows.
//
// A timer is not itself the packet that carries its expiry through the port:
// the service posts one of its own packets that points back at the timer, and
// ~timer() clears that pointer under the service's lock, so a timer may be
// destroyed while its packet is queued (or while it is in the ready list,
// which it then leaves). Arming sets a packet aside (a count in the pool,
// which grows by chunks of raw storage), so that posting never allocates or
// fails; a timer keeps its packet or its reservation until destroyed, so
// steady state allocates nothing, and a packet is built only when first
// posted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "proact/detail/loop_node.hpp"
#include "proact/detail/timer_entry.hpp"
#include "proact/port.hpp"
#include "proact/timer.hpp"

namespace proact::detail {

// The packet that carries a timer's expiry or cancellation through the port
// (or the ready list).
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

// The wake packet: posted to get a waiting thread to take the watch.
class timer_wake final : public loop_node {
 public:
  timer_wake() noexcept : loop_node(&finish) {}

 private:
  static void finish(loop_node&, std::size_t, std::error_code) {}
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

// A thread's hold on the watch, from before_wait() to after_wait().
struct timer_watch {
  std::uint64_t generation = 0;  // 0: not watching
  bool watching() const noexcept { return generation != 0; }
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
  // repeating timer whose handler is running. not_found otherwise. A timer
  // whose deadline passed is expired first (nobody ran the loop since).
  std::error_code cancel(timer& t);
  // ~timer(): takes t out of the heap, drops its queued packet, and waits for
  // calls of its handler on other threads to return.
  void destroy(timer& t) noexcept;
  // A timer packet was dequeued: calls the handler unless the timer is gone,
  // then re-arms a repeating timer.
  void deliver(timer_packet& p, std::error_code ec);

  // Deadlines of operations: an entry is expired (its expire function called
  // under the lock) once its deadline passed, unless removed first.
  // Runs start(arm) with the heap locked and adds e if it set `arm`: the
  // deadline of an operation that start() started. Without a deadline after
  // shutdown (the port's close aborts the operation).
  template <class Start>
  std::error_code start_with_deadline(timer_entry& e, Start&& start) {
    std::lock_guard lock(mutex_);
    bool arm = false;
    std::error_code ec = start(arm);
    if (arm && !shut_down_) push(e);
    return ec;
  }
  // Takes e out of the heap if it is still there. Once this returned, e's
  // expire function is not running and will not run.
  void remove_if_armed(timer_entry& e) noexcept;

  // Aborts every armed timer through the port and drops the deadlines (the
  // port's close aborts their operations); later arm() and add() calls fail.
  // The port must still be open.
  void shutdown();

  // --- the loop's threads, around each wait on the port ---
  // Runs up to `budget` timers from the ready list on this thread; how many.
  std::size_t run_ready(std::size_t budget);
  // Takes the watch if nobody holds it for a deadline as near as the
  // nearest one, and returns t shortened to that deadline (zero if passed).
  timeout before_wait(timeout t, timer_watch& w);
  // Gives the watch back and expires what is due: deadlines cancel their
  // operations here, timers go to the ready list (one thread runs the loop)
  // or to the port. `work`: the wait returned completions for this thread
  // to run, so another thread must watch meanwhile (if several run the
  // loop). Only a thread that took the watch calls it.
  void after_wait(timer_watch& w, bool work);
  // The wake packet (skipped by the loop: it is no completion of a caller's).
  bool is_wake(const operation* op) const noexcept { return op == &wake_; }
  void woken() noexcept { wake_queued_.store(false, std::memory_order_release); }

  // An entry reached its deadline (it is out of the heap): t's expiry.
  void expire_timer(timer& t);

 private:
  struct slot {
    timer_entry::clock::time_point deadline;  // a copy, so that sifting stays in the array
    timer_entry* entry;
  };
  // Raw room for one packet: built when first taken.
  struct packet_storage {
    alignas(timer_packet) unsigned char bytes[sizeof(timer_packet)];
  };
  struct chunk {
    std::unique_ptr<packet_storage[]> storage;
    std::size_t size;
  };

  // Calls t's handler with ec (with the lock held on entry and on return),
  // then re-arms a repeating timer or makes its final call.
  void run_calls(timer* t, std::error_code ec, std::unique_lock<std::mutex>& lock);
  // Also wakes a waiting thread if nobody will wake by e's deadline.
  void push(timer_entry& e);
  void remove(timer_entry& e);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, const slot& s);
  bool mostly_due(timer_entry::clock::time_point now) const noexcept;
  void expire_in_bulk(timer_entry::clock::time_point now);
  void post_wake_locked() noexcept;
  // Room for `more` in the ready list, if memory allows.
  void reserve_ready(std::size_t more) noexcept;
  // False (t is not listed) if the list cannot grow.
  bool list_ready(timer& t) noexcept;
  void unlist_ready(timer& t) noexcept;
  // Queues t's packet; false (nothing queued) once the port is closed.
  bool post_locked(timer& t, std::error_code ec);
  // The packet pool: reserve() sets one aside (false: out of memory),
  // take_reserved() hands it out, recycle() returns one.
  bool reserve();
  timer_packet& take_reserved() noexcept;
  void recycle(timer_packet& p) noexcept;
  // After a repeating call: the next expiry, or the final aborted packet.
  // Returns true when the final call must run here (the port is closed).
  bool rearm_locked(timer& t);

  loop& loop_;
  std::mutex mutex_;
  std::condition_variable calls_done_;  // a handler call ended (~timer waits)
  std::vector<slot> heap_;
  std::atomic<bool> armed_{false};  // heap_ is not empty (read without the lock)
  // The watch: a thread waits on the port until watch_until_ at most.
  std::uint64_t watch_generation_ = 0;  // of the current watch; 0: none
  timer_entry::clock::time_point watch_until_{};
  bool to_ready_ = false;  // expire_timer() lists instead of posting
  // The ready list: expired timers in deadline order, to run on the loop's
  // thread. An array rather than links through the timers, so that running
  // them can prefetch the (scattered) timers ahead; a destroyed timer leaves
  // a null. It grows to the largest burst and stays.
  std::unique_ptr<timer*[]> ready_list_;
  std::size_t ready_capacity_ = 0;
  std::size_t ready_size_ = 0;
  std::size_t ready_next_ = 0;      // the next to run
  std::atomic<bool> ready_{false};  // ready_next_ < ready_size_
  timer_wake wake_;
  std::atomic<bool> wake_queued_{false};
  std::uint64_t next_generation_ = 0;
  // The packet pool.
  std::vector<chunk> chunks_;
  std::size_t capacity_ = 0;     // packets that fit in the chunks
  std::size_t built_ = 0;        // packets built, in order: chunk by chunk
  std::size_t fresh_chunk_ = 0;  // where the next one is built
  std::size_t fresh_used_ = 0;
  std::size_t next_chunk_ = 64;  // packets in the next chunk (doubling)
  timer_packet* free_packets_ = nullptr;
  std::size_t free_count_ = 0;
  // Set aside for timers: free_count_ + capacity_ - built_ >= reserved_.
  std::size_t reserved_ = 0;
  bool shut_down_ = false;
};

}  // namespace proact::detail
