// blocking_pool: a small, bounded set of threads for calls that block (the
// system resolver), so that the port's waiting threads never do. Threads are
// started on demand up to the bound; jobs beyond it wait in a queue.
//
// close() must not hang on a call that never returns: it joins the threads
// that finish within a grace period and detaches the others. A detached
// thread only touches the pool's shared state (kept alive by the thread
// itself) and whatever its job keeps alive, never the pool's owner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace proact::detail {

class blocking_pool {
 public:
  explicit blocking_pool(unsigned max_threads) noexcept : max_threads_(max_threads) {}
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;
  ~blocking_pool() { close(std::chrono::milliseconds(0)); }

  // Runs job on a pool thread. False once closed, or if no thread could be
  // started and none runs (the job is not kept).
  bool submit(std::function<void()> job);

  // Takes no more jobs. Jobs still queued run on this thread (their owner
  // made them quick to finish, e.g. by deciding their requests); threads
  // that end within `grace` are joined, the rest detached.
  void close(std::chrono::milliseconds grace) noexcept;

 private:
  struct state {
    std::mutex mutex;
    std::condition_variable work;    // a job was queued, or closed
    std::condition_variable exited;  // a thread ended
    std::deque<std::function<void()>> queue;
    unsigned alive = 0;  // threads started and not yet ended
    unsigned idle = 0;   // of those, waiting for a job
    bool closed = false;
  };
  static void run(const std::shared_ptr<state>& s);

  const unsigned max_threads_;
  std::shared_ptr<state> state_ = std::make_shared<state>();
  std::mutex threads_mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace proact::detail
