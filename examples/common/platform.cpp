#include "platform.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#if !defined(_WIN32)
#include <sys/resource.h>
#endif

namespace examples {

namespace {

std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

extern "C" void on_stop_signal(int signal_number) {
  stop_signal.store(signal_number, std::memory_order_relaxed);
  // Restore the default action, so that a second Ctrl-C ends a server that
  // does not stop.
  std::signal(signal_number, SIG_DFL);
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() noexcept {
  return stop_signal.load(std::memory_order_relaxed) != 0;
}

void wait_for_stop() {
  // A signal handler may do nothing but set the flag; polling it is the
  // portable way to act on it (no self-pipe, no signalfd, no console API).
  while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

#if defined(_WIN32)

unsigned long raise_open_file_limit() {
  return 0;
}

#else

unsigned long raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? static_cast<unsigned long>(-1)
                                         : static_cast<unsigned long>(limit.rlim_cur);
}

#endif

}  // namespace examples
