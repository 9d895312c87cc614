// strand: one thread at a time runs the strand's work; the others queue it.
#include <system_error>

#include "proact/loop.hpp"

namespace proact {

namespace {
// The strand whose work this thread is running, for dispatch().
thread_local const strand* current_strand = nullptr;

// Work drained from one loop dispatch before the rest is re-queued behind
// the loop's other work.
constexpr int drain_limit = 64;
}  // namespace

bool strand::running_in_this_thread() const noexcept {
  return current_strand == this;
}

void strand::deliver(detail::loop_node& n, std::size_t bytes, std::error_code ec) {
  {
    std::lock_guard lock(mutex_);
    if (running_) {
      n.result_bytes_ = bytes;
      n.result_error_ = ec;
      n.next_ = nullptr;
      if (tail_ != nullptr) {
        tail_->next_ = &n;
      } else {
        head_ = &n;
      }
      tail_ = &n;
      return;
    }
    running_ = true;
  }
  const strand* previous = current_strand;
  current_strand = this;
  n.finish_(n, bytes, ec);
  current_strand = previous;
  drain();
}

void strand::enqueue(detail::loop_node& n) {
  {
    std::lock_guard lock(mutex_);
    n.result_bytes_ = 0;
    n.result_error_ = {};
    n.next_ = nullptr;
    if (tail_ != nullptr) {
      tail_->next_ = &n;
    } else {
      head_ = &n;
    }
    tail_ = &n;
    if (running_) return;  // whoever runs the strand will get to it
    running_ = true;
  }
  // Only the thread that set running_ posts the drain node. If the loop
  // stopped meanwhile, run the queue here: nothing queued may be lost.
  if (loop_.post_node(drain_)) drain();
}

void strand::drain() {
  const strand* previous = current_strand;
  current_strand = this;
  bool requeue = true;
  for (int i = 0;; ++i) {
    if (i == drain_limit && requeue) {
      // More work keeps coming: continue from a fresh loop dispatch. If the
      // loop refuses (stopped), keep draining here so nothing is dropped.
      if (!loop_.post_node(drain_)) break;
      requeue = false;
    }
    detail::loop_node* n = nullptr;
    {
      std::lock_guard lock(mutex_);
      n = head_;
      if (n == nullptr) {
        running_ = false;
        break;
      }
      head_ = n->next_;
      if (head_ == nullptr) tail_ = nullptr;
    }
    n->finish_(*n, n->result_bytes_, n->result_error_);
  }
  current_strand = previous;
}

void strand::drain_node::run(loop_node& self, std::size_t, std::error_code) {
  static_cast<drain_node&>(self).owner_.drain();
}

}  // namespace proact
