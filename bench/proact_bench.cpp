// proact_bench: the first Google Benchmark of the port API.
//
//   post_wait/<backend>        post one packet, wait for it: one thread
//   post_wait_many/<backend>/N post N packets, dequeue them with wait_many
//   tcp_pingpong/<backend>/N   one loopback TCP connection, N-byte messages,
//                              one thread driving both ends through the port
//
// Every benchmark runs once per backend that opens on this machine (main()
// probes them), so a new backend is one more entry in kBackends. Each reports
// items_per_second (packets, or round trips) and allocs/op: heap allocations
// per operation started (post, recv or send) during the timed loop.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "alloc_counter.hpp"
#include "proact/proact.hpp"

namespace {

constexpr std::array kBackends = {proact::backend_kind::epoll, proact::backend_kind::io_uring};

// Counts the allocations of the timed loop: construct right before it, call
// report() right after.
class alloc_meter {
 public:
  alloc_meter() noexcept : start_(proact_bench::allocation_count()) {}
  void report(benchmark::State& state, std::uint64_t operations) const {
    const auto allocations = proact_bench::allocation_count() - start_;
    state.counters["allocs/op"] =
        operations == 0 ? 0.0 : static_cast<double>(allocations) / static_cast<double>(operations);
  }

 private:
  std::uint64_t start_;
};

bool fail(benchmark::State& state, const char* what, std::error_code ec) {
  if (!ec) return false;
  const std::string message = std::string(what) + ": " + ec.message();
  state.SkipWithError(message.c_str());
  return true;
}

bool open_port(benchmark::State& state, proact::port& port, proact::backend_kind backend) {
  // concurrency 1: a single thread waits, as in every benchmark here.
  return !fail(state, "port.open", port.open({backend, 1}));
}

void post_wait(benchmark::State& state, proact::backend_kind backend) {
  proact::operation op;
  proact::port port;
  if (!open_port(state, port, backend)) return;
  proact::completion c;
  std::uint64_t operations = 0;
  const alloc_meter meter;
  for (auto _ : state) {
    if (fail(state, "post", port.post(1, 64, &op))) break;
    if (fail(state, "wait", port.wait(c))) break;
    benchmark::DoNotOptimize(c);
    ++operations;
  }
  meter.report(state, operations);
  state.SetItemsProcessed(static_cast<std::int64_t>(operations));
}

void post_wait_many(benchmark::State& state, proact::backend_kind backend) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::vector<proact::operation> ops(batch);
  std::vector<proact::completion> out(batch);
  proact::port port;
  if (!open_port(state, port, backend)) return;
  std::uint64_t operations = 0;
  const alloc_meter meter;
  for (auto _ : state) {
    for (auto& op : ops) {
      if (fail(state, "post", port.post(1, 64, &op))) return;
    }
    for (std::size_t got = 0; got < batch;) {
      std::size_t count = 0;
      if (fail(state, "wait_many", port.wait_many(std::span(out).first(batch - got), count))) {
        return;
      }
      got += count;
    }
    benchmark::DoNotOptimize(out.data());
    operations += batch;
  }
  meter.report(state, operations);
  state.SetItemsProcessed(static_cast<std::int64_t>(operations));
}

// One round trip: the client sends a message, the server receives all of it
// and sends it back, the client receives all of it. Receives loop over short
// reads, as a real protocol would.
void tcp_pingpong(benchmark::State& state, proact::backend_kind backend) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<char> ping(size, 'x'), server_buf(size), client_buf(size);
  // Operations outlive the handles and the port (declared first, destroyed
  // last), so an early return with operations pending is safe.
  proact::operation accept_op, connect_op, client_send, client_recv, server_send, server_recv;
  proact::port port;
  if (!open_port(state, port, backend)) return;

  proact::tcp_listener listener;
  proact::tcp_socket client, server;
  std::error_code ec;
  if (fail(state, "listen",
           listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0))) ||
      fail(state, "associate", port.associate(listener, 0))) {
    return;
  }
  const auto address = listener.local_endpoint(ec);
  if (fail(state, "local_endpoint", ec) || fail(state, "open", client.open(address.family())) ||
      fail(state, "associate", port.associate(client, 1)) ||
      fail(state, "accept", listener.accept(accept_op, server)) ||
      fail(state, "connect", client.connect(connect_op, address))) {
    return;
  }
  proact::completion c;
  for (int connected = 0; connected < 2; ++connected) {
    if (fail(state, "wait", port.wait(c)) || fail(state, "accept/connect", c.error)) return;
  }
  if (fail(state, "associate", port.associate(server, 2)) ||
      fail(state, "no_delay", client.set_no_delay(true)) ||
      fail(state, "no_delay", server.set_no_delay(true))) {
    return;
  }

  std::uint64_t operations = 0;
  const alloc_meter meter;
  for (auto _ : state) {
    std::size_t server_got = 0, client_got = 0;
    bool client_sent = false, server_sent = false;
    operations += 3;
    if (fail(state, "recv",
             server.recv(server_recv, proact::make_buffer(server_buf.data(), size))) ||
        fail(state, "recv",
             client.recv(client_recv, proact::make_buffer(client_buf.data(), size))) ||
        fail(state, "send", client.send(client_send, proact::make_buffer(ping.data(), size)))) {
      return;
    }
    while (!(client_sent && server_sent && client_got == size)) {
      if (fail(state, "wait", port.wait(c)) || fail(state, "completion", c.error)) return;
      if (c.op == &server_recv) {
        server_got += c.bytes;
        ++operations;
        ec = server_got < size
                 ? server.recv(server_recv, proact::make_buffer(server_buf.data() + server_got,
                                                                size - server_got))
                 : server.send(server_send, proact::make_buffer(server_buf.data(), size));
        if (fail(state, "server recv/send", ec)) return;
      } else if (c.op == &client_recv) {
        client_got += c.bytes;
        if (client_got < size) {
          ++operations;
          ec = client.recv(client_recv,
                           proact::make_buffer(client_buf.data() + client_got, size - client_got));
          if (fail(state, "client recv", ec)) return;
        }
      } else if (c.op == &client_send) {
        client_sent = true;
      } else if (c.op == &server_send) {
        server_sent = true;
      }
    }
  }
  meter.report(state, operations);
  // Items are round trips.
  state.SetItemsProcessed(state.iterations());
}

bool backend_available(proact::backend_kind backend) {
  proact::port probe;
  return !probe.open({backend, 1});
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  for (const auto backend : kBackends) {
    const std::string name(proact::to_string(backend));
    if (!backend_available(backend)) {
      std::fprintf(stderr, "proact_bench: backend %s is not available here; skipped\n",
                   name.c_str());
      continue;
    }
    benchmark::RegisterBenchmark(("post_wait/" + name).c_str(), post_wait, backend)->UseRealTime();
    benchmark::RegisterBenchmark(("post_wait_many/" + name).c_str(), post_wait_many, backend)
        ->Arg(64)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("tcp_pingpong/" + name).c_str(), tcp_pingpong, backend)
        ->Arg(64)
        ->UseRealTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
