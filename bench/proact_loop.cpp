// proact's event loop (proact::loop), on each Linux backend:
// proact-loop-epoll, proact-loop-io_uring. The same workloads as the raw port
// (bench/proact_port.cpp) where the loop adds something to measure: posted
// callables run by poll(), and timers scheduled and fired through the port.
// One thread: the benchmark thread posts or arms, then runs the loop.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"
#include "proact/proact.hpp"

namespace {

using bench::drive;
using bench::fail;

std::unique_ptr<proact::loop> make_loop(benchmark::State& state, proact::backend_kind backend) {
  proact::loop_options o;
  o.backend = backend;
  o.concurrency = 1;
  o.threads = 1;
  try {
    return std::make_unique<proact::loop>(o);
  } catch (const std::system_error& e) {
    (void)fail(state, "loop", e.code());
    return nullptr;
  }
}

// post + poll: the loop's analogue of Asio's post + run_one.
void post_poll(benchmark::State& state, proact::backend_kind backend, int batch) {
  auto lp = make_loop(state, backend);
  if (!lp) return;
  long ran = 0;
  drive(state, {batch, batch}, [&] {
    for (int i = 0; i < batch; ++i) {
      if (fail(state, "post", lp->post([&ran] { ++ran; }))) return false;
    }
    const long before = ran;
    while (ran - before < batch) lp->poll();
    return true;
  });
}

// Schedules kTimers timers at scrambled offsets and runs the loop until all
// fired (the peers' timers workload).
void timers(benchmark::State& state, proact::backend_kind backend) {
  auto lp = make_loop(state, backend);
  if (!lp) return;
  std::vector<std::unique_ptr<proact::timer>> all;
  all.reserve(bench::kTimers);
  for (int i = 0; i < bench::kTimers; ++i) all.push_back(std::make_unique<proact::timer>(*lp));
  int fired = 0;
  std::error_code error;
  drive(state, {bench::kTimers, bench::kTimers}, [&] {
    fired = 0;
    const auto base = proact::timer::clock::now();
    for (int i = 0; i < bench::kTimers; ++i) {
      const auto deadline = base + std::chrono::microseconds(bench::timer_offset_us(i));
      const std::error_code ec =
          all[static_cast<std::size_t>(i)]->start_at(deadline, [&](std::error_code e) {
            if (e) error = e;
            ++fired;
          });
      if (fail(state, "timer", ec)) return false;
    }
    while (fired < bench::kTimers) {
      if (lp->poll() == 0) std::this_thread::yield();
    }
    return !fail(state, "timer", error);
  });
  all.clear();  // before the loop
}

bool backend_available(proact::backend_kind backend) {
  proact::port probe;
  return !probe.open({backend, 1});
}

}  // namespace

namespace bench {

void register_proact_loop() {
  for (const auto backend : {proact::backend_kind::epoll, proact::backend_kind::io_uring}) {
    const std::string impl = "proact-loop-" + std::string(proact::to_string(backend));
    if (!backend_available(backend)) {
      std::fprintf(stderr, "proact_bench: %s: the backend does not open here; skipped\n",
                   impl.c_str());
      continue;
    }
    add("post_wait", impl, {{"threads", 1}},
        [backend](benchmark::State& s) { post_poll(s, backend, 1); });
    add("post_wait_many", impl, {{"batch", kPostBatch}},
        [backend](benchmark::State& s) { post_poll(s, backend, kPostBatch); });
    add(
        "timers", impl, {{"n", kTimers}}, [backend](benchmark::State& s) { timers(s, backend); },
        kind::once);
  }
}

}  // namespace bench
