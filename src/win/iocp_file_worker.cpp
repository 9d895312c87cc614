#include "iocp_file_worker.hpp"

#include "common/op_access.hpp"
#include "iocp_backend.hpp"
#include "iocp_io.hpp"

namespace proact::detail {

// ---- the backend's side ------------------------------------------------------

std::error_code iocp_backend::start_flush(iocp_handle& h, operation& op, iocp_op& s) noexcept {
  if (h.kind != handle_kind::file) {
    unpromise(h);
    return make_error_code(error::invalid_argument);
  }
  track(h, op, s);  // close and cancel find it in the handle's list
  if (!file_worker_.submit(s)) {
    untrack(h, op, s);
    unpromise(h);
    return native_error(ERROR_NOT_ENOUGH_MEMORY);
  }
  return {};
}

bool iocp_backend::withdraw_job(iocp_handle& h, iocp_op& s) noexcept {
  if (op_access::kind(*op_access::from_backend(&s)) != op_kind::flush) return false;
  if (!file_worker_.withdraw(s)) return false;  // running, or its packet is on its way
  post_job_result(h, s, ERROR_OPERATION_ABORTED);
  return true;
}

// A failed post leaves the port without resources; the packet is lost with
// it, as any other posted result would be.
void iocp_backend::post_job_result(iocp_handle& h, iocp_op& s, int code) noexcept {
  (void)post_result(h, s, code, 0);
}

// ---- the worker threads --------------------------------------------------------

iocp_file_worker::iocp_file_worker(iocp_backend& backend, unsigned threads) noexcept
    : backend_(backend), max_threads_(threads == 0 ? 1 : threads) {}

iocp_file_worker::~iocp_file_worker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool iocp_file_worker::submit(iocp_op& s) noexcept {
  s.next_job = nullptr;
  bool notify = true;
  {
    std::lock_guard lock(mutex_);
    if (idle_threads_ == 0 && threads_.size() < max_threads_) {
      // Started here, once per thread, never on the steady-state path.
      try {
        threads_.emplace_back([this] { run(); });
        notify = false;
      } catch (...) {
        if (threads_.empty()) return false;  // nobody would ever run it
      }
    }
    if (tail_ != nullptr)
      tail_->next_job = &s;
    else
      head_ = &s;
    tail_ = &s;
  }
  if (notify) work_.notify_one();
  return true;
}

bool iocp_file_worker::withdraw(iocp_op& s) noexcept {
  std::lock_guard lock(mutex_);
  iocp_op* prev = nullptr;
  for (iocp_op* it = head_; it != nullptr; prev = it, it = it->next_job) {
    if (it != &s) continue;
    if (prev != nullptr)
      prev->next_job = it->next_job;
    else
      head_ = it->next_job;
    if (tail_ == it) tail_ = prev;
    return true;
  }
  return false;
}

void iocp_file_worker::run() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    iocp_op* s = head_;
    if (s == nullptr) {
      if (stop_) return;
      ++idle_threads_;
      work_.wait(lock, [this] { return stop_ || head_ != nullptr; });
      --idle_threads_;
      continue;
    }
    head_ = s->next_job;
    if (head_ == nullptr) tail_ = nullptr;
    lock.unlock();
    execute(*s);  // posts its packet: nothing of *s may be touched after
    lock.lock();
  }
}

void iocp_file_worker::execute(iocp_op& s) noexcept {
  iocp_handle& h = *s.handle;
  int code = ERROR_OPERATION_ABORTED;
  // Inside the gate the handle stays open (close_handle waits for us);
  // outside, it was closed by us while the request was on its way here.
  if (h.gate.enter()) {
    // Windows flushes data and metadata together: flush_mode::data is the
    // same request.
    code = FlushFileBuffers(h.native()) ? 0 : static_cast<int>(GetLastError());
    h.gate.leave();
  }
  backend_.post_job_result(h, s, code);
}

}  // namespace proact::detail
