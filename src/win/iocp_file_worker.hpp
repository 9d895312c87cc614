// iocp_file_worker: blocking file requests for the IOCP backend. Windows has
// no overlapped form of FlushFileBuffers, so a flush runs on a small bounded
// pool of threads (started on demand) that posts its result to the port as
// a packet of the operation. A thread waiting on the port never blocks in a
// flush, and a flush still queued can be cancelled.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace proact::detail {

class iocp_backend;
struct iocp_op;

class iocp_file_worker {
 public:
  iocp_file_worker(iocp_backend& backend, unsigned threads) noexcept;
  iocp_file_worker(const iocp_file_worker&) = delete;
  iocp_file_worker& operator=(const iocp_file_worker&) = delete;
  ~iocp_file_worker();  // abandons nothing: the port is drained by then

  // Queues the request of `s` (its handle's lock held); false if no thread
  // exists to run it and none could be started.
  bool submit(iocp_op& s) noexcept;
  // Removes `s` if it is still queued (true); a running request is not.
  bool withdraw(iocp_op& s) noexcept;

 private:
  void run() noexcept;
  void execute(iocp_op& s) noexcept;

  iocp_backend& backend_;
  const unsigned max_threads_;
  std::mutex mutex_;
  std::condition_variable work_;  // a request was queued, or stop_
  iocp_op* head_ = nullptr;       // FIFO of queued requests (iocp_op::next_job)
  iocp_op* tail_ = nullptr;
  unsigned idle_threads_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace proact::detail
