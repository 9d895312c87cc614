#include "linux/file_pool.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "common/op_access.hpp"
#include "linux/completion_engine.hpp"
#include "linux/linux_handle.hpp"
#include "proact/error.hpp"

namespace proact::detail {
namespace {

// A job's state, in the operation's backend storage.
struct pool_job {
  operation* next;
  pooled_file* file;
};

pool_job& job_of(operation& op) noexcept {
  return op_access::backend<pool_job>(op);
}

}  // namespace

file_pool::file_pool(completion_engine& engine, unsigned threads) noexcept
    : engine_(engine), max_threads_(threads == 0 ? 1 : threads) {}

file_pool::~file_pool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool file_pool::read_if_cached(const pooled_file& f, operation& op, std::size_t& bytes) noexcept {
  // Not on kernels or file systems without RWF_NOWAIT; remembered process-wide.
  static std::atomic<bool> unsupported{false};
  if (unsupported.load(std::memory_order_relaxed)) return false;
  const buffer b = op_access::buffers(op)[0];
  if (b.size == 0) return false;
  iovec v{b.data, b.size};
  ssize_t n;
  do n = ::preadv2(f.fd, &v, 1, static_cast<off_t>(op_access::offset(op)), RWF_NOWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
    unsupported.store(true, std::memory_order_relaxed);
    return false;
  }
  // Only a whole buffer is certain: a short count may be the end of the file
  // or only the cached part, and 0 may be the end; the pool's pread says.
  if (n != static_cast<ssize_t>(b.size)) return false;
  bytes = static_cast<std::size_t>(n);
  return true;
}

void file_pool::submit(pooled_file& f, operation& op) noexcept {
  pool_job& job = op_access::construct_backend<pool_job>(op);
  job.next = nullptr;
  job.file = &f;
  bool start_thread = false;
  {
    std::lock_guard lock(mutex_);
    if (tail_ != nullptr)
      job_of(*tail_).next = &op;
    else
      head_ = &op;
    tail_ = &op;
    start_thread = idle_threads_ == 0 && threads_.size() < max_threads_;
    if (start_thread) {
      // Started here, once per thread, never on the steady-state path.
      try {
        threads_.emplace_back([this] { run(); });
      } catch (...) {  // no thread: the ones running will get to it
        start_thread = false;
      }
    }
  }
  if (!start_thread) work_.notify_one();
}

operation* file_pool::pop_locked() noexcept {
  operation* op = head_;
  if (op != nullptr) {
    head_ = job_of(*op).next;
    if (head_ == nullptr) tail_ = nullptr;
  }
  return op;
}

std::size_t file_pool::cancel(pooled_file& f, operation* op, completion_batch& out) noexcept {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  operation* prev = nullptr;
  for (operation* it = head_; it != nullptr;) {
    operation* next = job_of(*it).next;
    if (job_of(*it).file == &f && (op == nullptr || it == op)) {
      if (prev != nullptr)
        job_of(*prev).next = next;
      else
        head_ = next;
      if (tail_ == it) tail_ = prev;
      out.push(completion_for(*it, 0, aborted()));
      ++n;
    } else {
      prev = it;
    }
    it = next;
  }
  return n;
}

void file_pool::close(pooled_file& f) noexcept {
  std::lock_guard lock(mutex_);
  if (f.running == 0) {
    ::close(f.fd);
  } else {
    f.close_when_idle = true;  // a pread/pwrite still uses the descriptor
  }
}

bool file_pool::busy(const pooled_file& f) const noexcept {
  std::lock_guard lock(mutex_);
  return f.running != 0;
}

void file_pool::drain(completion_batch& out) noexcept {
  std::unique_lock lock(mutex_);
  while (operation* op = pop_locked()) out.push(completion_for(*op, 0, aborted()));
  idle_.wait(lock, [this] { return running_ == 0; });
}

void file_pool::run() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    operation* op = pop_locked();
    if (op == nullptr) {
      if (stop_) return;
      ++idle_threads_;
      work_.wait(lock, [this] { return stop_ || head_ != nullptr; });
      --idle_threads_;
      continue;
    }
    pooled_file& f = *job_of(*op).file;
    ++f.running;
    ++running_;
    const int fd = f.fd;
    lock.unlock();
    execute(*op, fd);  // delivers the completion
    lock.lock();
    --running_;
    if (--f.running == 0 && f.close_when_idle) ::close(f.fd);
    idle_.notify_all();
  }
}

void file_pool::execute(operation& op, int fd) noexcept {
  if (op_access::kind(op) == op_kind::flush) {
    const int rc = op_access::flush_data_only(op) ? ::fdatasync(fd) : ::fsync(fd);
    const completion c = completion_for(op, 0, rc == 0 ? std::error_code{} : native_error(errno));
    engine_.deliver(std::span<const completion>(&c, 1));
    return;
  }
  const buffer b = op_access::buffers(op)[0];
  const auto offset = static_cast<off_t>(op_access::offset(op));
  std::size_t done = 0;
  std::error_code ec;
  if (op_access::kind(op) == op_kind::read_at) {
    ssize_t n;
    do n = ::pread(fd, b.data, b.size, offset);
    while (n < 0 && errno == EINTR);
    if (n < 0)
      ec = native_error(errno);
    else if (n == 0 && b.size != 0)
      ec = make_error_code(error::eof);  // at or past the end of the file
    else
      done = static_cast<std::size_t>(n);
  } else {
    // A write completes whole (or fails with what went).
    while (done < b.size) {
      const ssize_t n = ::pwrite(fd, static_cast<const char*>(b.data) + done, b.size - done,
                                 offset + static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        ec = native_error(errno);
        break;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  const completion c = completion_for(op, done, ec);
  engine_.deliver(std::span<const completion>(&c, 1));
}

}  // namespace proact::detail
