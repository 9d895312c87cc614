// loop: run(), stop() and the bookkeeping that makes stop and destruction
// drain everything exactly once.
#include "proact/loop.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>
#include <type_traits>

#include "common/loop_services.hpp"
#include "common/timer_service.hpp"
#include "proact/error.hpp"
#include "proact/task.hpp"

namespace proact {

namespace {

// The loop this thread is running (run() or poll()), for dispatch().
thread_local const loop* current_loop = nullptr;

constexpr unsigned max_batch = 64;

}  // namespace

loop::loop() : loop(loop_options{}) {}

loop::loop(const loop_options& options) {
  if (std::error_code ec = port_.open(port_options{options.backend, options.concurrency}))
    throw std::system_error(ec, "proact::loop: cannot open its port");
  threads_ = options.threads != 0 ? options.threads : 2 * port_.concurrency();
  const unsigned automatic_batch = port_.concurrency() == 1 ? 16 : 1;
  batch_ = std::clamp(options.batch != 0 ? options.batch : automatic_batch, 1U, max_batch);
  timers_ = std::make_unique<detail::timer_service>(*this);
}

loop::~loop() {
  stop();
  join();
  // Other threads still inside run() leave it promptly now. Polled rather
  // than notified: a runner's last access to the loop is its decrement, so
  // the loop may be destroyed the moment the count reaches zero.
  while (runners_.load(std::memory_order_acquire) != 0)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  // Nobody may have run the loop: what stop() cancelled is still queued.
  run();
  // A coroutine still suspended now waits for something that is not the
  // loop's (its operations all completed); destroy its frame.
  for (;;) {
    detail::spawn_record* r = nullptr;
    {
      std::lock_guard lock(mutex_);
      r = spawned_;
      if (r == nullptr) break;
      spawned_ = r->next;
      if (spawned_ != nullptr) spawned_->prev = nullptr;
    }
    r->owner = nullptr;
    r->frame.destroy();
  }
  std::vector<std::pair<const void*, std::shared_ptr<detail::loop_service>>> services;
  {
    std::lock_guard lock(mutex_);
    services.swap(services_);
  }
  for (auto& entry : services) entry.second->close();
  services.clear();
  timers_.reset();
}

std::error_code loop::associate(handle& h) {
  return port_.associate(h, detail::loop_io_key);
}

std::error_code loop::post_node(detail::loop_node& n) {
  n.result_bytes_ = 0;
  n.result_error_ = {};
  return port_.post(detail::loop_result_key, 0, &n);
}

std::error_code loop::post_result(detail::loop_node& n, std::size_t bytes, std::error_code ec) {
  n.result_bytes_ = bytes;
  n.result_error_ = ec;
  return port_.post(detail::loop_result_key, bytes, &n);
}

void loop::dispatch_completion(const completion& c) {
  if (c.key != detail::loop_io_key && c.key != detail::loop_result_key) {
    // Raw-port work on the shared port (share_port() set the handler).
    if (foreign_) foreign_(c);
    return;
  }
  auto* n = static_cast<detail::loop_node*>(c.op);
  if (n == nullptr) return;
  std::size_t bytes = c.bytes;
  std::error_code ec = c.error;
  if (c.key == detail::loop_result_key) {
    bytes = n->result_bytes_;
    ec = n->result_error_;
  }
  dispatch_node(*n, bytes, ec);
}

void loop::dispatch_node(detail::loop_node& n, std::size_t bytes, std::error_code ec) {
  if (n.strand_ != nullptr) {
    n.strand_->deliver(n, bytes, ec);
  } else {
    n.finish_(n, bytes, ec);
  }
}

namespace {
// Marks this thread as running `l` for as long as it is inside run()/poll().
class runner_scope {
 public:
  runner_scope(const loop& l, std::atomic<unsigned>& runners)
      : previous_(current_loop), runners_(runners) {
    current_loop = &l;
    detail::post_node::enter_loop_thread();
    // Sequentially consistent: see timer_service::before_wait().
    runners_.fetch_add(1);
  }
  runner_scope(const runner_scope&) = delete;
  runner_scope& operator=(const runner_scope&) = delete;
  ~runner_scope() {
    current_loop = previous_;
    detail::post_node::leave_loop_thread();
    runners_.fetch_sub(1, std::memory_order_release);  // the last access to the loop
  }

 private:
  const loop* previous_;
  std::atomic<unsigned>& runners_;
};
}  // namespace

std::size_t loop::run_batch(std::size_t capacity, timeout t, bool& closed) {
  // Timers that expired at an earlier wait run first, without waiting.
  if (const std::size_t n = timers_->run_ready(capacity); n != 0) return n;
  // Left uninitialized: constructing 64 completions (their error_codes) per
  // call would cost more than running a posted callable.
  union slot {
    slot() noexcept {}  // NOLINT(modernize-use-equals-default): must not initialize
    completion value;
  };
  static_assert(std::is_trivially_destructible_v<completion>);
  slot batch[max_batch];
  std::size_t count = 0;
  // The wait ends by the nearest deadline if this thread watches the timers.
  detail::timer_watch watch;
  const timeout wait_for = timers_->before_wait(t, watch);
  std::error_code ec = port_.wait_many(std::span(&batch[0].value, capacity), count, wait_for);
  if (ec) count = 0;
  if (watch.watching()) {
    // Leaving with work (not only the wake) hands the watch on.
    bool work = false;
    for (std::size_t i = 0; i < count && !work; ++i)
      work = batch[i].value.key != detail::loop_result_key || !timers_->is_wake(batch[i].value.op);
    timers_->after_wait(watch, work);
  }
  if (ec && ec != make_error_code(error::timed_out) && ec != errc::timed_out) {
    // port_closed: stopped and drained, once the expired timers ran.
    // Anything else cannot be waited out either.
    const std::size_t n = timers_->run_ready(capacity);
    closed = n == 0;
    return n;
  }
  std::size_t ran = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const completion& c = batch[i].value;
    if (c.key == detail::loop_result_key && timers_->is_wake(c.op)) {
      timers_->woken();  // no completion of anyone's: the watch changes hands
      continue;
    }
    dispatch_completion(c);
    ++ran;
  }
  ran += timers_->run_ready(capacity - ran);
  // Only the wake came: not "nothing ready" for poll() and poll_one(), which
  // stop at 0; look again (at most one wake is queued at a time).
  if (ran == 0 && count != 0) return run_batch(capacity, t, closed);
  return ran;
}

void loop::run() {
  runner_scope scope(*this, runners_);
  bool closed = false;
  while (!closed) run_batch(batch_, infinite, closed);
}

std::size_t loop::run_one() {
  runner_scope scope(*this, runners_);
  bool closed = false;
  std::size_t n = 0;
  while (n == 0 && !closed) n = run_batch(1, infinite, closed);
  return n;
}

std::size_t loop::poll() {
  runner_scope scope(*this, runners_);
  bool closed = false;
  std::size_t total = 0;
  while (!closed) {
    std::size_t n = run_batch(batch_, timeout::zero(), closed);
    if (n == 0) break;
    total += n;
  }
  return total;
}

std::size_t loop::poll_one() {
  runner_scope scope(*this, runners_);
  bool closed = false;
  return run_batch(1, timeout::zero(), closed);
}

bool loop::running_in_this_thread() const noexcept {
  return current_loop == this;
}

std::error_code loop::start() {
  std::lock_guard lock(mutex_);
  if (stopped()) return make_error_code(error::port_closed);
  if (!workers_.empty()) return make_error_code(error::operation_in_progress);
  workers_.reserve(threads_);
  for (unsigned i = 0; i < threads_; ++i) workers_.emplace_back([this] { run(); });
  return {};
}

void loop::stop() {
  if (stopping_.exchange(true, std::memory_order_acq_rel)) return;
  // Timers and services first: their aborts travel through the port, which
  // must be open.
  timers_->shutdown();
  std::vector<std::shared_ptr<detail::loop_service>> services;
  {
    std::lock_guard lock(mutex_);
    for (auto& entry : services_) services.push_back(entry.second);
  }
  for (auto& service : services) service->shutdown();
  // Cancels every pending operation of the loop's handles and wakes run().
  (void)port_.close();
}

void loop::join() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (std::thread& t : workers) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // stop() from a worker: it leaves run() on its own
    } else {
      t.join();
    }
  }
}

detail::timer_service& loop::timers() {
  return *timers_;
}

detail::timer_service& detail::timers_of(loop& l) noexcept {
  return *l.timers_;
}

std::error_code loop::spawn(task<void> t, std::stop_token stop) {
  std::coroutine_handle<detail::task_promise<void>> frame = t.release();
  if (!frame) return make_error_code(error::invalid_argument);
  detail::spawn_record& r = frame.promise().spawn_state(std::move(stop), this);
  {
    std::lock_guard lock(mutex_);
    if (stopped()) {
      frame.destroy();
      return make_error_code(error::port_closed);
    }
    r.owner = this;
    r.frame = frame;
    r.prev = nullptr;
    r.next = spawned_;
    if (spawned_ != nullptr) spawned_->prev = &r;
    spawned_ = &r;
  }
  std::error_code ec = post([frame] { frame.resume(); });
  if (ec) {
    spawn_unlink(r);
    frame.destroy();
  }
  return ec;
}

void loop::spawn_unlink(detail::spawn_record& r) noexcept {
  std::lock_guard lock(mutex_);
  if (r.prev != nullptr) {
    r.prev->next = r.next;
  } else {
    spawned_ = r.next;
  }
  if (r.next != nullptr) r.next->prev = r.prev;
  r.owner = nullptr;
}

void loop::spawn_finished(detail::spawn_record& r) noexcept {
  spawn_unlink(r);
  r.frame.destroy();
}

}  // namespace proact
