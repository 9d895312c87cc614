// post_node: the node that carries a callable given to loop::post(),
// loop::dispatch() or strand::post(). Nodes are recycled (see
// src/common/post_node_pool.cpp), so a steady stream of posts allocates
// nothing, even when one thread posts and another runs the callables.
#pragma once

#include <cstddef>
#include <system_error>
#include <utility>

#include "proact/detail/handler_storage.hpp"
#include "proact/detail/loop_node.hpp"
#include "proact/export.hpp"

namespace proact::detail {

class PROACT_API post_node final : public loop_node {
 public:
  using callable = handler_storage<void(), 64>;

  template <class F>
  static post_node* make(F&& f) {
    post_node* n = acquire();
    n->unbind();
    n->fn_.emplace(std::forward<F>(f));
    return n;
  }
  // A thread entering/leaving loop::run() or poll() (nestable): only then
  // does it keep a cache of nodes.
  static void enter_loop_thread() noexcept;
  static void leave_loop_thread() noexcept;
  // Frees a node whose callable will not run (its post failed).
  static void discard(post_node* n) noexcept {
    n->fn_.reset();
    recycle(n);
  }

 private:
  post_node() noexcept : loop_node(&run) {}
  static void run(loop_node& self, std::size_t, std::error_code) {
    auto& n = static_cast<post_node&>(self);
    // The node goes back to the pool even if the callable throws.
    struct recycler {
      post_node* node;
      ~recycler() {
        node->fn_.reset();
        recycle(node);
      }
    } guard{&n};
    n.fn_();
  }
  static post_node* acquire();
  static void recycle(post_node* n) noexcept;

  friend struct post_node_pool;
  callable fn_;
  post_node* free_next_ = nullptr;
};

}  // namespace proact::detail
