// The recycling of post_node. Threads running a loop keep a cache of nodes,
// refilled from and spilled to a shared pool in batches (one lock per batch);
// other threads take and return single nodes under the pool's lock. The
// cache is emptied when a thread leaves its outermost run(), so nodes never
// stay with a thread that exits. (A thread_local with a destructor would do
// it at thread exit, but MinGW-w64's emulated TLS frees such objects' storage
// before running their destructors.)
#include <cstddef>
#include <mutex>

#include "common/word_mutex.hpp"
#include "proact/detail/post_node.hpp"

namespace proact::detail {

namespace {
constexpr std::size_t cache_limit = 256;  // nodes a loop thread keeps
constexpr std::size_t batch = 64;         // nodes moved to/from the pool at once
}  // namespace

struct post_node_pool {
  struct shared {
    word_mutex mutex;
    post_node* head = nullptr;
  };
  static shared& pool() {
    static shared* p = new shared;  // never destroyed: threads may outlive statics
    return *p;
  }

  // Trivially destructible on purpose (see the top of the file).
  struct cache {
    post_node* head;
    std::size_t count;
    unsigned depth;  // nested run()/poll() calls on this thread
  };
  static cache& local() {
    thread_local cache c{nullptr, 0, 0};
    return c;
  }

  // Moves up to n nodes of c to the shared pool.
  static void spill(cache& c, std::size_t n) {
    if (c.head == nullptr || n == 0) return;
    post_node* first = c.head;
    post_node* last = c.head;
    std::size_t moved = 1;
    while (moved < n && last->free_next_ != nullptr) {
      last = last->free_next_;
      ++moved;
    }
    c.head = last->free_next_;
    c.count -= moved;
    shared& s = pool();
    std::lock_guard lock(s.mutex);
    last->free_next_ = s.head;
    s.head = first;
  }
  static void refill(cache& c) {
    shared& s = pool();
    std::lock_guard lock(s.mutex);
    while (c.count < batch && s.head != nullptr) {
      post_node* n = s.head;
      s.head = n->free_next_;
      n->free_next_ = c.head;
      c.head = n;
      ++c.count;
    }
  }

  static post_node* acquire() {
    cache& c = local();
    post_node* n = nullptr;
    if (c.depth > 0) {
      if (c.head == nullptr) refill(c);
      n = c.head;
      if (n != nullptr) {
        c.head = n->free_next_;
        --c.count;
      }
    } else {
      shared& s = pool();
      std::lock_guard lock(s.mutex);
      n = s.head;
      if (n != nullptr) s.head = n->free_next_;
    }
    if (n == nullptr) return new post_node;
    n->free_next_ = nullptr;
    return n;
  }
  static void recycle(post_node* n) noexcept {
    cache& c = local();
    if (c.depth > 0) {
      n->free_next_ = c.head;
      c.head = n;
      if (++c.count > cache_limit) spill(c, batch);
      return;
    }
    shared& s = pool();
    std::lock_guard lock(s.mutex);
    n->free_next_ = s.head;
    s.head = n;
  }
};

post_node* post_node::acquire() {
  return post_node_pool::acquire();
}
void post_node::recycle(post_node* n) noexcept {
  post_node_pool::recycle(n);
}
void post_node::enter_loop_thread() noexcept {
  ++post_node_pool::local().depth;
}
void post_node::leave_loop_thread() noexcept {
  post_node_pool::cache& c = post_node_pool::local();
  if (--c.depth == 0) post_node_pool::spill(c, c.count);
}

}  // namespace proact::detail
