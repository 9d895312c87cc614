// What proact's two benchmark files share (bench/proact_port.cpp: the raw
// port; bench/proact_loop.cpp: proact::loop): the backends, the set-up of
// loopback sockets, the ping-pong's buffers and the file reads' offsets, so
// that both run exactly the same workloads under the same names.
//
// The set-up helpers take `associate(proact::handle&, std::uintptr_t key)`,
// which ties a handle to the port (with that completion key) or to the loop
// (which ignores the key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "harness.hpp"
#include "proact/proact.hpp"

namespace bench {

// The Linux backends every proact implementation runs on.
inline constexpr proact::backend_kind kProactBackends[] = {proact::backend_kind::epoll,
                                                           proact::backend_kind::io_uring};

// True if a port opens on `backend` here.
inline bool proact_backend_available(proact::backend_kind backend) {
  proact::port probe;
  return !probe.open({backend, 1});
}

// "<prefix><backend>", e.g. "proact-loop-" + epoll; prints why and returns an
// empty string if the backend does not open here.
inline std::string proact_impl_name(std::string_view prefix, proact::backend_kind backend) {
  std::string impl(prefix);
  impl += proact::to_string(backend);
  if (proact_backend_available(backend)) return impl;
  std::fprintf(stderr, "proact_bench: %s: the backend does not open here; skipped\n", impl.c_str());
  return {};
}

// Listens on 127.0.0.1 (ephemeral port), associates the listener (key ~0)
// and gives its address.
template <class Associate>
bool listen_loopback(benchmark::State& state, proact::tcp_listener& listener,
                     proact::endpoint& address, Associate&& associate) {
  std::error_code ec;
  if (fail(state, "listen",
           listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0))) ||
      fail(state, "associate", associate(listener, ~std::uintptr_t{0}))) {
    return false;
  }
  address = listener.local_endpoint(ec);
  return !fail(state, "local_endpoint", ec);
}

// One ping-pong connection: both ends live in the benchmark's process.
struct tcp_pair {
  proact::tcp_socket client, server;
};

// Connects every pair through `listener` (listening at `address`): pair i's
// client is opened and associated with key 2i, accepted with `accept_op`,
// connected with `connect_op`; `wait_both()` waits for those two completions
// (false once it reported a failure); then the server end is associated with
// key 2i+1 and TCP_NODELAY set on both ends.
template <class Associate, class WaitBoth>
bool connect_pairs(benchmark::State& state, proact::tcp_listener& listener,
                   const proact::endpoint& address, proact::operation& accept_op,
                   proact::operation& connect_op, std::span<tcp_pair> pairs, Associate&& associate,
                   WaitBoth&& wait_both) {
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    auto& p = pairs[i];
    if (fail(state, "open", p.client.open(address.family())) ||
        fail(state, "associate", associate(p.client, 2 * i)) ||
        fail(state, "accept", listener.accept(accept_op, p.server)) ||
        fail(state, "connect", p.client.connect(connect_op, address)) || !wait_both() ||
        fail(state, "associate", associate(p.server, 2 * i + 1)) ||
        fail(state, "no_delay", p.client.set_no_delay(true)) ||
        fail(state, "no_delay", p.server.set_no_delay(true))) {
      return false;
    }
  }
  return true;
}

// Two UDP sockets bound to 127.0.0.1 (ephemeral ports), the server's
// associated with key 1 and the client's with key 2; gives the server's
// address.
template <class Associate>
bool open_udp_pair(benchmark::State& state, proact::udp_socket& server, proact::udp_socket& client,
                   proact::endpoint& server_address, Associate&& associate) {
  std::error_code ec;
  const auto loopback = proact::endpoint::loopback(proact::address_family::ipv4, 0);
  if (fail(state, "open", server.open(proact::address_family::ipv4)) ||
      fail(state, "bind", server.bind(loopback)) ||
      fail(state, "open", client.open(proact::address_family::ipv4)) ||
      fail(state, "bind", client.bind(loopback)) ||
      fail(state, "associate", associate(server, 1)) ||
      fail(state, "associate", associate(client, 2))) {
    return false;
  }
  server_address = server.local_endpoint(ec);
  return !fail(state, "local_endpoint", ec);
}

// The ping-pong's messages: one ping (the client sends it), and a server and
// a client buffer for each connection.
class pingpong_buffers {
 public:
  pingpong_buffers(std::size_t conns, std::size_t size)
      : size_(size), ping_(size, 'x'), server_(conns * size), client_(conns * size) {}
  std::size_t size() const noexcept { return size_; }
  proact::const_buffer ping() const noexcept { return {ping_.data(), size_}; }
  char* server(std::size_t conn) noexcept { return &server_[conn * size_]; }
  char* client(std::size_t conn) noexcept { return &client_[conn * size_]; }

 private:
  std::size_t size_;
  std::vector<char> ping_, server_, client_;
};

// The ping-pong's drive(): an item is a round trip on one connection, four
// operations each; latency percentiles for a single connection.
inline drive_spec pingpong_spec(int conns) {
  return {conns, 4 * static_cast<std::int64_t>(conns), 0, conns == 1};
}

// Adds pingpong/<impl>/conns:N/size:S for every N and S of the grid.
template <class Pingpong>
void add_pingpong_grid(std::string_view impl, Pingpong pingpong) {
  for (const int conns : kPingpongConns) {
    for (const std::size_t size : kPingpongSizes) {
      add("pingpong", impl, {{"conns", conns}, {"size", static_cast<long>(size)}},
          [=](benchmark::State& s) { pingpong(s, conns, size); });
    }
  }
}

// The offsets of file_read: random 4 KiB reads (random_offsets()) or 1 MiB
// reads sequentially through the file.
class read_offsets {
 public:
  explicit read_offsets(bool random)
      : random_(random ? &random_offsets() : nullptr),
        size_(random ? kRandomRead : kSequentialRead) {}
  std::size_t size() const noexcept { return size_; }
  std::uint64_t next() noexcept {
    if (random_ != nullptr) {
      offset_ = (*random_)[next_++ % random_->size()];
    } else {
      offset_ = (offset_ + size_) % kFileSize;
    }
    return offset_;
  }

 private:
  const std::vector<std::uint64_t>* random_;
  std::size_t size_;
  std::size_t next_ = 0;
  std::uint64_t offset_ = 0;
};

}  // namespace bench
