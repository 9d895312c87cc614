// loop: an event loop on a completion port, the io_context analogue.
//
//   proact::loop lp;                        // its own port; threads from options
//   lp.associate(socket);                   // completions of socket reach lp
//   lp.post([] { ... });                    // runs on a loop thread
//   lp.spawn(session(lp, std::move(s)));    // a coroutine (see task.hpp)
//   lp.start();                             // worker threads run the loop...
//   lp.run();                               // ...or run it on your own threads
//   lp.stop();                              // cancel, drain, return from run()
//
// A callback (or coroutine) that throws calls std::terminate: the loop
// cannot know what the exception means for the rest of its work.
//
// Everything the loop runs is a completion dequeued from its port: I/O of
// handles associated with it, posted callables and timer expiries, so the
// port's concurrency value governs all of it. The contract (docs/semantics.md,
// "The loop") in short:
//  - each started operation, posted callable and armed timer completes exactly
//    once, also when the loop stops;
//  - stop() cancels every pending operation and timer of the loop (they
//    complete with errc::operation_aborted) and refuses new work with
//    errc::port_closed; run() returns on every thread once all of it ran;
//  - destroying the loop stops it, joins its worker threads and runs what is
//    left on the destroying thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stop_token>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "proact/detail/handler_storage.hpp"
#include "proact/detail/loop_node.hpp"
#include "proact/detail/op_deadline.hpp"
#include "proact/detail/post_node.hpp"
#include "proact/error.hpp"
#include "proact/export.hpp"
#include "proact/handle.hpp"
#include "proact/port.hpp"

namespace proact {

template <class T>
class task;

namespace detail {
class timer_service;
class promise_base;
class loop_service;
struct loop_services;
struct spawn_record;
class tls_stream_state;
// The loop's heap of timers and deadlines.
timer_service& timers_of(loop& l) noexcept;
}  // namespace detail

struct loop_options {
  backend_kind backend = backend_kind::automatic;
  // Most threads running callbacks at once (the port's concurrency value);
  // 0 = number of processors.
  unsigned concurrency = 0;
  // Worker threads start() launches; 0 = twice the concurrency value, the
  // completion-port guidance, so a callback that blocks leaves others running
  // (on IOCP by itself, on epoll and io_uring inside a proact::blocking_scope).
  unsigned threads = 0;
  // Most completions one thread dequeues at once (1..64); 0 = 16 when the
  // concurrency value is 1, else 1: a batch runs on one thread, so with
  // several threads allowed to run it would hold back work they could do.
  unsigned batch = 0;
};

// An operation whose completion calls a handler on the loop:
//   handler(std::size_t bytes, std::error_code ec)
// Set the handler once and start the operation as often as needed: nothing
// is allocated per start. The handle must be associated with a loop.
class callback_op : public detail::loop_node {
 public:
  callback_op() noexcept : loop_node(&finish) {}
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, callback_op>>>
  explicit callback_op(F&& handler) : loop_node(&finish) {
    handler_.emplace(std::forward<F>(handler));
  }
  ~callback_op() = default;

  // Replaces the handler; not while the operation is in flight.
  template <class F>
  void set_handler(F&& handler) {
    handler_.emplace(std::forward<F>(handler));
  }
  // Runs the handler through `s` (nullptr: no strand), so it never runs at
  // the same time as other work of that strand.
  void bind(strand* s) noexcept;

  // Starts the operation with start(*this), e.g.
  //   op.start_with_timeout(lp, sock, 30s, [&](proact::operation& o) { return sock.recv(o, b); });
  // and cancels it if it has not completed by then: the handler then gets
  // errc::timed_out (a cancel() or close() still gives operation_aborted).
  // `h` is the handle the operation is started on; `l` the loop it is on.
  template <class Start>
  [[nodiscard]] std::error_code start_with_deadline(loop& l, handle& h,
                                                    std::chrono::steady_clock::time_point at,
                                                    Start&& start) {
    if (at <= std::chrono::steady_clock::now()) return make_error_code(error::timed_out);
    auto run = [this, &start]() -> std::error_code {
      return start(static_cast<operation&>(*this));
    };
    return deadline_.start(l, at, h, *this, &invoke<decltype(run)>, &run);
  }
  template <class Start>
  [[nodiscard]] std::error_code start_with_timeout(loop& l, handle& h,
                                                   std::chrono::steady_clock::duration after,
                                                   Start&& start) {
    return start_with_deadline(l, h, std::chrono::steady_clock::now() + after,
                               std::forward<Start>(start));
  }
  // The same for an operation of a stream layered over a handle (tls_stream):
  // `s` is what the operation is started on, and cancels it with s.cancel(op).
  template <class Stream, class Start>
  requires(!std::is_base_of_v<handle, Stream>) [[nodiscard]] std::error_code
      start_with_deadline(loop& l, Stream& s, std::chrono::steady_clock::time_point at,
                          Start&& start) {
    if (at <= std::chrono::steady_clock::now()) return make_error_code(error::timed_out);
    auto run = [this, &start]() -> std::error_code {
      return start(static_cast<operation&>(*this));
    };
    return deadline_.start(l, at, &s, &cancel_on<Stream>, *this, &invoke<decltype(run)>, &run);
  }
  template <class Stream, class Start>
  requires(!std::is_base_of_v<handle, Stream>) [[nodiscard]] std::error_code
      start_with_timeout(loop& l, Stream& s, std::chrono::steady_clock::duration after,
                         Start&& start) {
    return start_with_deadline(l, s, std::chrono::steady_clock::now() + after,
                               std::forward<Start>(start));
  }

 private:
  template <class F>
  static std::error_code invoke(void* f) {
    return (*static_cast<F*>(f))();
  }
  template <class Stream>
  static std::error_code cancel_on(void* s, operation& op) {
    return static_cast<Stream*>(s)->cancel(op);
  }
  static void finish(loop_node& self, std::size_t bytes, std::error_code ec) {
    auto& me = static_cast<callback_op&>(self);
    me.deadline_.conclude(ec);
    me.handler_(bytes, ec);
  }
  detail::handler_storage<void(std::size_t, std::error_code), 48> handler_;
  detail::op_deadline deadline_;
};

class PROACT_API loop {
 public:
  // Opens the loop's port; throws std::system_error if that fails.
  loop();
  explicit loop(const loop_options& options);
  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;
  // stop(), then joins the worker threads, waits for other threads to leave
  // run(), and runs what is left here. Not from a thread running this loop.
  ~loop();

  // Ties an open handle to the loop: its operations complete here, and its
  // awaitable operations (co_await socket.recv(buf)) resume coroutines here.
  [[nodiscard]] std::error_code associate(handle& h);

  // Runs f() on a loop thread. errc::port_closed once the loop is stopped
  // (f is destroyed without running).
  template <class F>
  [[nodiscard]] std::error_code post(F&& f) {
    detail::post_node* n = detail::post_node::make(std::forward<F>(f));
    std::error_code ec = post_node(*n);
    if (ec) detail::post_node::discard(n);
    return ec;
  }
  // Runs f() at once if this thread is running this loop, else posts it.
  template <class F>
  [[nodiscard]] std::error_code dispatch(F&& f) {
    if (running_in_this_thread()) {
      f();
      return {};
    }
    return post(std::forward<F>(f));
  }

  // Starts a coroutine on a loop thread and lets it run to its end. Its
  // awaited operations are cancelled (errc::operation_aborted) when `stop`
  // is requested or the loop stops. An exception escaping it calls
  // std::terminate, as for std::thread: handle errors inside. Returns
  // errc::port_closed (the coroutine is destroyed unstarted) once stopped.
  [[nodiscard]] std::error_code spawn(task<void> t, std::stop_token stop = {});
  // Any other task: its value is dropped (proact::spawn keeps it).
  template <class T>
  [[nodiscard]] std::error_code spawn(task<T> t, std::stop_token stop = {});

  // Launches options.threads worker threads that run() the loop.
  [[nodiscard]] std::error_code start();
  // Runs completions on this thread until the loop is stopped and drained.
  void run();
  // Runs one completion, waiting for it if need be; returns 1, or 0 once the
  // loop is stopped and drained.
  std::size_t run_one();
  // Runs the completions that are ready, without blocking; returns how many.
  std::size_t poll();
  // Runs at most one ready completion, without blocking; returns how many.
  std::size_t poll_one();
  // Cancels everything pending and refuses new work; run() returns on every
  // thread once the cancelled work completed. Safe from any thread, also a
  // callback. Idempotent; a stopped loop cannot be restarted.
  void stop();
  // Waits for the worker threads started by start() (after stop()).
  void join();

  // The loop's port, to share with raw-port code: handles associated with
  // port.associate(h, key) and packets from port.post(key, ...) complete on
  // the loop, which hands each completion whose key is not its own to
  // foreign(const proact::completion&) on a loop thread (a completion's
  // operation is the caller's again). Call it once, before any such work;
  // any key but detail::loop_io_key and detail::loop_result_key. Awaiting an
  // operation of such a handle fails with errc::not_on_loop.
  template <class F>
  proact::port& share_port(F&& foreign) {
    foreign_.emplace(std::forward<F>(foreign));
    return port_;
  }

  bool stopped() const noexcept { return stopping_.load(std::memory_order_acquire); }
  bool running_in_this_thread() const noexcept;
  backend_kind backend() const noexcept { return port_.backend(); }
  unsigned concurrency() const noexcept { return port_.concurrency(); }
  unsigned threads() const noexcept { return threads_; }

  // Awaitable: resumes the coroutine on a loop thread, after the work queued
  // before it (a yield). Gives errc::port_closed once the loop stopped.
  struct schedule_awaitable;
  schedule_awaitable schedule() noexcept;

 private:
  friend class buffer_pool;
  friend class strand;
  friend class timer;
  friend class detail::timer_service;
  friend class detail::promise_base;
  friend detail::timer_service& detail::timers_of(loop& l) noexcept;
  friend struct schedule_awaitable;
  friend struct detail::loop_services;
  friend class detail::tls_stream_state;

  std::error_code post_node(detail::loop_node& n);
  // Queues n to finish with (bytes, ec) through the port.
  std::error_code post_result(detail::loop_node& n, std::size_t bytes, std::error_code ec);
  void dispatch_completion(const completion& c);
  // Runs n's finish function, through its strand if it has one.
  void dispatch_node(detail::loop_node& n, std::size_t bytes, std::error_code ec);
  std::size_t run_batch(std::size_t capacity, timeout t, bool& closed);
  detail::timer_service& timers();
  void spawn_finished(detail::spawn_record& r) noexcept;
  void spawn_unlink(detail::spawn_record& r) noexcept;

  proact::port port_;
  detail::handler_storage<void(const completion&), 48> foreign_;  // see share_port()
  unsigned threads_ = 0;
  unsigned batch_ = 16;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
  std::atomic<unsigned> runners_{0};         // threads inside run()/poll()
  std::mutex mutex_;                         // guards the fields below
  detail::spawn_record* spawned_ = nullptr;  // coroutines still running
  std::unique_ptr<detail::timer_service> timers_;
  std::once_flag timers_once_;
  // Services started on first use (name resolution, signals), each under the
  // address of its type's id; stop() shuts them down, ~loop() closes them.
  std::vector<std::pair<const void*, std::shared_ptr<detail::loop_service>>> services_;
};

// strand: serializes callbacks. Work bound to one strand (callback_op::bind,
// strand::post, strand::dispatch) never runs on two threads at once, and
// posted work runs in the order it was posted; different strands run in
// parallel on the loop's workers. The strand must outlive its queued work.
class PROACT_API strand {
 public:
  explicit strand(loop& l) noexcept : loop_(l), drain_(*this) {}
  strand(const strand&) = delete;
  strand& operator=(const strand&) = delete;

  // Runs f() on a loop thread, after the strand's work posted before it.
  // errc::port_closed once the loop is stopped.
  template <class F>
  [[nodiscard]] std::error_code post(F&& f) {
    if (loop_.stopped()) return make_error_code(error::port_closed);
    detail::post_node* n = detail::post_node::make(std::forward<F>(f));
    bind_node(*n);
    enqueue(*n);
    return {};
  }
  // Runs f() at once if this thread is inside this strand, else posts it.
  template <class F>
  [[nodiscard]] std::error_code dispatch(F&& f) {
    if (running_in_this_thread()) {
      f();
      return {};
    }
    return post(std::forward<F>(f));
  }
  bool running_in_this_thread() const noexcept;
  loop& get_loop() const noexcept { return loop_; }

 private:
  friend class loop;
  friend class callback_op;

  // Continues draining the queue from a fresh loop dispatch, so one busy
  // strand does not keep a worker forever.
  class PROACT_API drain_node final : public detail::loop_node {
   public:
    explicit drain_node(strand& s) noexcept : loop_node(&run), owner_(s) {}

   private:
    static void run(loop_node& self, std::size_t, std::error_code);
    strand& owner_;
  };

  void bind_node(detail::loop_node& n) noexcept { n.strand_ = this; }
  // Called by the loop with a completed node bound to this strand.
  void deliver(detail::loop_node& n, std::size_t bytes, std::error_code ec);
  void drain();
  // Queues posted work in order; schedules a drain if the strand is idle.
  void enqueue(detail::loop_node& n);

  loop& loop_;
  drain_node drain_;
  std::mutex mutex_;
  detail::loop_node* head_ = nullptr;
  detail::loop_node* tail_ = nullptr;
  bool running_ = false;  // a thread is inside the strand (or drain_ is queued)
};

inline void callback_op::bind(strand* s) noexcept {
  strand_ = s;
}

}  // namespace proact
