// Signals on POSIX: a handler installed with sigaction writes the signal's
// number into a pipe (the self-pipe), and a thread of ours reads it and
// reports it. Chosen over signalfd, which only sees a signal that every
// thread of the process blocks: the application's other threads (and
// libraries' threads) do not block them, and a signal delivered to one of
// those would take its default action. The handler does nothing but one
// write(), which is async-signal-safe.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <thread>

#include "common/sys_signal.hpp"
#include "proact/error.hpp"

namespace proact::detail::sys {
namespace {

constexpr int max_signal = 32;

std::mutex catch_mutex;  // guards the state below (not the atomics)
int catch_count[max_signal] = {};
struct sigaction previous_action[max_signal];
int total_caught = 0;
int pipe_read = -1;
std::thread watcher;
// Read by the handler: the pipe's write end, and how many handlers are
// between reading it and writing to it (release waits for them).
std::atomic<int> pipe_write{-1};
std::atomic<int> handlers_running{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

extern "C" void on_signal(int signal) {
  const int saved_errno = errno;
  handlers_running.fetch_add(1);
  const int fd = pipe_write.load();
  if (fd >= 0) {
    const auto byte = static_cast<unsigned char>(signal);
    // A full pipe drops the byte: the reader is that far behind anyway.
    [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
  }
  handlers_running.fetch_sub(1);
  errno = saved_errno;
}

void watch(int fd, signal_sink sink) {
  // Signals go to the application's threads, not to this one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  unsigned char bytes[64];
  for (;;) {
    const ssize_t n = ::read(fd, bytes, sizeof bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the write end closed: release_signal() stops us
    for (ssize_t i = 0; i < n; ++i) sink(bytes[i]);
  }
}

// Opens the pipe and starts the watcher; under catch_mutex.
std::error_code start_watching(signal_sink sink) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {errno, native_category()};
  // The handler must never block; the reader does.
  if (::fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return {e, native_category()};
  }
  try {
    watcher = std::thread(watch, fds[0], sink);
  } catch (const std::system_error& e) {
    ::close(fds[0]);
    ::close(fds[1]);
    return e.code();
  }
  pipe_read = fds[0];
  pipe_write.store(fds[1]);
  return {};
}

void stop_watching() {
  const int fd = pipe_write.exchange(-1);
  // A handler that read the old descriptor finishes its write first.
  while (handlers_running.load() != 0) std::this_thread::yield();
  ::close(fd);
  watcher.join();  // it drains what was written, then sees the end
  ::close(pipe_read);
  pipe_read = -1;
}

}  // namespace

std::error_code catch_signal(int signal, signal_sink sink) {
  if (signal <= 0 || signal >= max_signal) return make_error_code(error::invalid_argument);
  std::lock_guard lock(catch_mutex);
  if (total_caught == 0)
    if (std::error_code ec = start_watching(sink)) return ec;
  if (catch_count[signal] == 0) {
    struct sigaction action {};
    action.sa_handler = &on_signal;
    sigfillset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (::sigaction(signal, &action, &previous_action[signal]) != 0) {
      const int e = errno;
      if (total_caught == 0) stop_watching();
      return {e, native_category()};
    }
  }
  ++catch_count[signal];
  ++total_caught;
  return {};
}

void release_signal(int signal) noexcept {
  if (signal <= 0 || signal >= max_signal) return;
  std::lock_guard lock(catch_mutex);
  if (catch_count[signal] == 0) return;
  if (--catch_count[signal] == 0) ::sigaction(signal, &previous_action[signal], nullptr);
  if (--total_caught == 0) stop_watching();
}

}  // namespace proact::detail::sys
