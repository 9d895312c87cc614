#include "common/blocking_pool.hpp"

#include <system_error>
#include <utility>

namespace proact::detail {

bool blocking_pool::submit(std::function<void()> job) {
  std::lock_guard threads_lock(threads_mutex_);
  std::unique_lock lock(state_->mutex);
  if (state_->closed) return false;
  state_->queue.push_back(std::move(job));
  if (state_->idle >= state_->queue.size() || state_->alive >= max_threads_) {
    state_->work.notify_one();
    return true;
  }
  ++state_->alive;
  lock.unlock();
  try {
    threads_.emplace_back([s = state_] { run(s); });
    return true;
  } catch (const std::system_error&) {
    lock.lock();
    --state_->alive;
    if (state_->alive != 0) {  // a running thread takes it
      state_->work.notify_one();
      return true;
    }
    state_->queue.pop_back();
    return false;
  }
}

void blocking_pool::run(const std::shared_ptr<state>& s) {
  std::unique_lock lock(s->mutex);
  for (;;) {
    ++s->idle;
    s->work.wait(lock, [&] { return !s->queue.empty() || s->closed; });
    --s->idle;
    if (s->queue.empty()) break;  // closed
    std::function<void()> job = std::move(s->queue.front());
    s->queue.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // what it holds goes before the pool may be seen idle
    lock.lock();
  }
  --s->alive;
  s->exited.notify_all();
}

void blocking_pool::close(std::chrono::milliseconds grace) noexcept {
  std::lock_guard threads_lock(threads_mutex_);
  std::deque<std::function<void()>> left;
  bool all_ended = false;
  {
    std::unique_lock lock(state_->mutex);
    state_->closed = true;
    left.swap(state_->queue);
    state_->work.notify_all();
    all_ended = state_->exited.wait_for(lock, grace, [&] { return state_->alive == 0; });
  }
  for (auto& job : left) job();
  for (std::thread& t : threads_) {
    if (all_ended && t.get_id() != std::this_thread::get_id()) {
      t.join();
    } else {
      t.detach();  // still inside a blocking call: it ends on its own
    }
  }
  threads_.clear();
}

}  // namespace proact::detail
