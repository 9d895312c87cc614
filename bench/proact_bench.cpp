// proact_bench: proact's backends side by side with the hand-written floor
// (epoll, io_uring), Asio and libuv, on the same workloads in the same run.
// The workloads and the shared harness are in harness.hpp; each
// implementation is one file (impls.hpp lists them). bench/report.py turns
// the JSON output into tables, a chart and the targets' PASS/MISS.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "harness.hpp"
#include "impls.hpp"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::raise_fd_limit();
  bench::choose_bench_cpu();

  bench::register_proact_port();
  bench::register_proact_loop();
  bench::register_floor_epoll();
#if defined(BENCH_HAVE_URING)
  bench::register_floor_uring();
#else
  std::fprintf(stderr, "proact_bench: floor-io_uring: built without liburing; skipped\n");
#endif
#if defined(BENCH_HAVE_ASIO)
  bench::register_asio();
#else
  std::fprintf(stderr, "proact_bench: asio: built without asio.hpp (libasio-dev); skipped\n");
#endif
#if defined(BENCH_HAVE_LIBUV)
  bench::register_libuv();
#else
  std::fprintf(stderr, "proact_bench: libuv: built without libuv (libuv1-dev); skipped\n");
#endif
#if defined(BENCH_HAVE_TLS)
  bench::register_tls_proact();
#else
  std::fprintf(stderr, "proact_bench: tls_pingpong: built without TLS (libssl-dev); skipped\n");
#endif
#if defined(BENCH_HAVE_TLS) && defined(BENCH_HAVE_ASIO)
  bench::register_tls_asio();
#endif
  bench::register_all();

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
