// What the backend does differently when it runs under Wine.
//
// Wine carries out pending socket I/O in the thread that started it (as an
// APC to that thread). If the thread exits after Wine queued that APC and
// before it ran, the operation completes with STATUS_ALERTED and is never
// performed. Windows does not tie I/O on a handle associated with a
// completion port to the thread that started it, and proact's contract says
// operations belong to the port. So under Wine every start call is made by
// one backend thread that lives as long as the port.
#pragma once

#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

namespace proact::detail {

// True when ntdll exports wine_get_version.
bool running_under_wine() noexcept;

class start_thread {
 public:
  using task = std::error_code (*)(void* context) noexcept;

  start_thread();  // throws std::system_error if the thread cannot start
  start_thread(const start_thread&) = delete;
  start_thread& operator=(const start_thread&) = delete;
  ~start_thread();  // finishes queued tasks, then joins

  // Runs task(context) on the start thread and returns its result.
  std::error_code run(task fn, void* context) noexcept;

 private:
  struct request {
    task fn;
    void* context;
    std::error_code result;
    bool done = false;
    request* next = nullptr;
  };

  void loop() noexcept;

  std::mutex lock_;
  std::condition_variable work_;  // a request was queued, or stop_
  std::condition_variable done_;  // a request finished
  request* head_ = nullptr;
  request* tail_ = nullptr;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace proact::detail
