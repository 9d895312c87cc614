// op_fifo: a FIFO of operations linked through the `next` field of the
// backend's per-operation state `State`, so queuing allocates nothing. The
// Linux backends keep one per direction per socket: operations wait there in
// start order, which is what keeps per-socket order (contract item 3).
#pragma once

#include "common/op_access.hpp"
#include "proact/operation.hpp"

namespace proact::detail {

template <class State>
class op_fifo {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  operation* front() const noexcept { return head_; }

  void push(operation& op) noexcept {
    link(op) = nullptr;
    if (tail_ != nullptr)
      link(*tail_) = &op;
    else
      head_ = &op;
    tail_ = &op;
  }

  operation* pop() noexcept {
    operation* op = head_;
    if (op != nullptr) {
      head_ = link(*op);
      if (head_ == nullptr) tail_ = nullptr;
    }
    return op;
  }

  // Unlinks `op` wherever it is; false if it is not queued here.
  bool remove(operation& op) noexcept {
    operation* prev = nullptr;
    for (operation* it = head_; it != nullptr; prev = it, it = link(*it)) {
      if (it != &op) continue;
      if (prev != nullptr)
        link(*prev) = link(op);
      else
        head_ = link(op);
      if (tail_ == &op) tail_ = prev;
      return true;
    }
    return false;
  }

  bool contains(const operation& op) const noexcept {
    for (operation* it = head_; it != nullptr; it = link(*it))
      if (it == &op) return true;
    return false;
  }

  // Calls f(operation&) on each, front to back; f may unlink the one it gets.
  template <class F>
  void for_each(F&& f) const noexcept {
    for (operation* it = head_; it != nullptr;) {
      operation* next = link(*it);
      f(*it);
      it = next;
    }
  }

 private:
  static operation*& link(operation& op) noexcept { return op_access::backend<State>(op).next; }

  operation* head_ = nullptr;
  operation* tail_ = nullptr;
};

}  // namespace proact::detail
