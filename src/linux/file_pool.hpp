// file_pool: regular files are not pollable, so the epoll backend runs their
// reads, writes and flushes on a small bounded pool of threads that deliver
// completions to the port. A thread waiting on the port never does file I/O
// itself.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "proact/operation.hpp"

namespace proact::detail {

class completion_batch;
class completion_engine;

// A file as the pool sees it (guarded by the pool's mutex).
struct pooled_file {
  int fd = -1;
  unsigned running = 0;          // jobs of this file executing now
  bool close_when_idle = false;  // close fd once `running` drops to 0
};

class file_pool {
 public:
  file_pool(completion_engine& engine, unsigned threads) noexcept;
  file_pool(const file_pool&) = delete;
  file_pool& operator=(const file_pool&) = delete;
  ~file_pool();

  // A read_at whose bytes are all in the page cache, done now without
  // blocking (preadv2 with RWF_NOWAIT): true with its outcome, or false if
  // it would have to wait for the disk (then submit() it).
  static bool read_if_cached(const pooled_file& f, operation& op, std::size_t& bytes) noexcept;
  // Queues a read_at, write_at or flush of `f`; it completes through the engine.
  void submit(pooled_file& f, operation& op) noexcept;
  // Aborts `op` (or, if null, every job of `f`) while still queued; a job
  // already running completes normally. Returns how many were aborted.
  std::size_t cancel(pooled_file& f, operation* op, completion_batch& out) noexcept;
  // Closes f's descriptor now, or after its running jobs.
  void close(pooled_file& f) noexcept;
  // Whether a job of `f` still runs (its state must not be freed yet).
  bool busy(const pooled_file& f) const noexcept;
  // Aborts every queued job and waits for the running ones (port close).
  void drain(completion_batch& out) noexcept;

 private:
  void run() noexcept;
  void execute(operation& op, int fd) noexcept;
  operation* pop_locked() noexcept;

  completion_engine& engine_;
  const unsigned max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable work_;  // a job was queued, or stop
  std::condition_variable idle_;  // a job finished
  operation* head_ = nullptr;     // FIFO of queued jobs
  operation* tail_ = nullptr;
  unsigned running_ = 0;
  unsigned idle_threads_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;  // started on demand, up to max_threads_
};

}  // namespace proact::detail
