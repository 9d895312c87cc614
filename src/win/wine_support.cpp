#include "wine_support.hpp"

#include <windows.h>

namespace proact::detail {

bool running_under_wine() noexcept {
  static const bool wine = [] {
    const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
  }();
  return wine;
}

start_thread::start_thread() : thread_([this] { loop(); }) {}

start_thread::~start_thread() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

std::error_code start_thread::run(task fn, void* context) noexcept {
  request r{fn, context, {}};
  std::unique_lock<std::mutex> guard(lock_);
  if (tail_ != nullptr)
    tail_->next = &r;
  else
    head_ = &r;
  tail_ = &r;
  work_.notify_one();
  done_.wait(guard, [&] { return r.done; });
  return r.result;
}

void start_thread::loop() noexcept {
  std::unique_lock<std::mutex> guard(lock_);
  for (;;) {
    work_.wait(guard, [&] { return stop_ || head_ != nullptr; });
    if (head_ == nullptr) return;  // stop_, and nothing left to run
    request* r = head_;
    head_ = r->next;
    if (head_ == nullptr) tail_ = nullptr;
    guard.unlock();
    r->result = r->fn(r->context);
    guard.lock();
    r->done = true;
    done_.notify_all();
  }
}

}  // namespace proact::detail
