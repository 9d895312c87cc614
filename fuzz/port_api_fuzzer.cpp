// libFuzzer target: random sequences of API calls on one port. The input is a
// program: each step starts an operation (recv, send, zero-byte recv,
// recv_from, send_to, read_at, write_at, accept, connect, disconnect, post)
// on one of a few loopback handles with one of a few operation objects, or
// cancels, cancels everything of a handle, closes a handle, shuts down,
// switches a handle to skip-completion-on-success, waits, or closes the port.
// The backend is PROACT_BACKEND's (epoll, io_uring).
//
// After every step the harness checks exactly-once against its own model:
// each operation object is in flight exactly when the model says so (started
// and its completion not yet dequeued); a completion names an operation that
// was in flight, with its handle's key and no more bytes than asked for; a
// start never succeeds on an operation in flight; once wait() says
// port_closed nothing is in flight. At the end the port is closed and must
// drain every operation within a few seconds.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "proact/proact.hpp"

namespace {

[[noreturn]] void violated(const char* what, std::size_t step) {
  std::fprintf(stderr, "port_api_fuzzer: step %zu: %s\n", step, what);
  std::abort();
}

// The input as a stream of small numbers; zeros once it is used up.
class program {
 public:
  program(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  unsigned next() { return at_ < size_ ? data_[at_++] : 0; }
  unsigned next(unsigned n) { return next() % n; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

constexpr std::size_t slot_count = 6;
constexpr std::size_t slot_buffer = 16384;
constexpr std::size_t big_send = 8 << 20;  // more than the socket buffers hold

// The handles every program runs on.
enum handle_id : unsigned {
  tcp_client,
  tcp_server,
  local_a,
  local_b,
  udp_a,
  udp_b,
  data_file,
  listener_id,
  connector_id,
  handle_count
};

struct slot {
  proact::operation op;
  bool in_flight = false;  // the model
  std::uintptr_t key = 0;  // expected key of its completion
  std::size_t requested = 0;
  std::size_t post_bytes = 0;
  bool posted = false;
  std::array<unsigned char, slot_buffer> data{};
  proact::endpoint address;
  proact::tcp_socket peer;  // accept's target
};

struct world {
  proact::port port;
  proact::tcp_listener listener;
  proact::endpoint listen_address;
  proact::tcp_socket client;
  proact::tcp_socket server;
  proact::local_stream a;
  proact::local_stream b;
  proact::udp_socket ua;
  proact::udp_socket ub;
  proact::endpoint ua_address;
  proact::endpoint ub_address;
  proact::file file;
  proact::tcp_socket connector;
  std::array<slot, slot_count> slots;
  std::size_t null_posts = 0;  // in flight
  std::size_t step = 0;
  bool port_closed = false;  // wait() said port_closed

  proact::handle& handle(unsigned id) {
    switch (id) {
      case tcp_client:
        return client;
      case tcp_server:
        return server;
      case local_a:
        return a;
      case local_b:
        return b;
      case udp_a:
        return ua;
      case udp_b:
        return ub;
      case data_file:
        return file;
      case listener_id:
        return listener;
      default:
        return connector;
    }
  }
  proact::stream_handle* stream(unsigned id) {
    switch (id) {
      case tcp_client:
        return &client;
      case tcp_server:
        return &server;
      case local_a:
        return &a;
      case local_b:
        return &b;
      default:
        return nullptr;
    }
  }
};

std::filesystem::path file_path() {
  static const std::filesystem::path path = [] {
    std::error_code ec;
    return std::filesystem::temp_directory_path(ec) /
           ("proact-port-api-fuzzer-" + std::to_string(std::random_device{}()) + ".bin");
  }();
  return path;
}

const unsigned char* big_buffer() {
  static const std::vector<unsigned char> big(big_send, 0x5a);
  return big.data();
}

// Sets up the handles; false if the machine refuses (then the input is
// skipped: nothing to check).
bool build(world& w) {
  if (w.port.open({})) return false;
  const auto v4 = proact::address_family::ipv4;
  std::error_code ec = w.listener.listen(proact::endpoint::loopback(v4, 0));
  if (!ec) w.listen_address = w.listener.local_endpoint(ec);
  if (!ec) ec = w.port.associate(w.listener, listener_id);
  proact::operation accept_op, connect_op;
  if (!ec) ec = w.listener.accept(accept_op, w.server);
  if (!ec) ec = w.client.open(v4);
  if (!ec) ec = w.port.associate(w.client, tcp_client);
  if (!ec) ec = w.client.connect(connect_op, w.listen_address);
  for (int i = 0; i < 2 && !ec; ++i) {
    proact::completion c;
    ec = w.port.wait(c, proact::timeout{5000});
    if (!ec) ec = c.error;
  }
  if (!ec) ec = w.port.associate(w.server, tcp_server);
  if (!ec) ec = proact::local_stream::pair(w.a, w.b);
  if (!ec) ec = w.port.associate(w.a, local_a);
  if (!ec) ec = w.port.associate(w.b, local_b);
  for (auto [s, address, key] :
       {std::tuple{&w.ua, &w.ua_address, udp_a}, std::tuple{&w.ub, &w.ub_address, udp_b}}) {
    if (!ec) ec = s->open(v4);
    if (!ec) ec = s->bind(proact::endpoint::loopback(v4, 0));
    if (!ec) *address = s->local_endpoint(ec);
    if (!ec) ec = w.port.associate(*s, key);
  }
  if (!ec)
    ec = w.file.open(file_path().string(), proact::file_mode::read | proact::file_mode::write |
                                               proact::file_mode::create |
                                               proact::file_mode::truncate);
  if (!ec) ec = w.port.associate(w.file, data_file);
  if (!ec) ec = w.connector.open(v4);
  if (!ec) ec = w.port.associate(w.connector, connector_id);
  if (ec) {
    std::fprintf(stderr, "port_api_fuzzer: setup failed: %s\n", ec.message().c_str());
    std::abort();  // the machine should always allow this; a failure is a finding
  }
  return true;
}

// After every step: the model and the library agree on what is in flight.
void check_model(world& w) {
  for (slot& s : w.slots) {
    if (s.op.in_flight() != s.in_flight)
      violated(s.in_flight ? "an operation the model has in flight is not in flight"
                           : "an operation that was not started (or already dequeued) is in flight",
               w.step);
  }
}

void on_completion(world& w, const proact::completion& c) {
  if (w.port_closed) violated("a completion after wait() said port_closed", w.step);
  if (c.op == nullptr) {
    if (w.null_posts == 0 || c.key != 0xFEED) violated("an unexpected null packet", w.step);
    --w.null_posts;
    return;
  }
  slot* s = nullptr;
  for (slot& candidate : w.slots)
    if (&candidate.op == c.op) s = &candidate;
  if (s == nullptr) violated("a completion for an unknown operation", w.step);
  if (!s->in_flight) violated("a completion of an operation not in flight (twice?)", w.step);
  if (s->op.in_flight()) violated("an operation still in flight after its completion", w.step);
  if (c.key != s->key) violated("a completion with the wrong key", w.step);
  if (s->posted) {
    if (c.bytes != s->post_bytes || c.error) violated("a post not delivered verbatim", w.step);
  } else if (c.bytes > s->requested) {
    violated("a completion with more bytes than asked for", w.step);
  }
  s->in_flight = false;
  // An accepted peer is not needed: closed at once, so the slot can accept again.
  if (s->peer.is_open()) (void)s->peer.close();
}

// Starts with `start`; keeps the model. `key` is the handle's.
template <class Start>
void start(world& w, slot& s, std::uintptr_t key, std::size_t requested, Start&& start_call) {
  const bool was_in_flight = s.in_flight;
  const std::error_code ec = start_call();
  if (was_in_flight) {
    if (!ec) violated("a start succeeded on an operation in flight", w.step);
    return;
  }
  if (ec) {
    if (s.op.in_flight()) violated("a refused start left the operation in flight", w.step);
    return;
  }
  s.key = key;
  s.requested = requested;
  s.posted = false;
  // Skip-completion-on-success: done at start, no packet will come.
  s.in_flight = !s.op.completed_at_start();
}

void step(world& w, program& p) {
  const unsigned command = p.next(16);
  const unsigned id = p.next(handle_count);
  slot& s = w.slots[p.next(slot_count)];
  const std::size_t size = 1 + (p.next() << 6) % slot_buffer;
  proact::buffer buf{s.data.data(), size};
  switch (command) {
    case 0:  // receive (or read_at)
      if (auto* st = w.stream(id)) {
        start(w, s, id, size, [&] { return st->recv(s.op, buf); });
      } else if (id == udp_a || id == udp_b) {
        auto& u = id == udp_a ? w.ua : w.ub;
        start(w, s, id, size, [&] { return u.recv_from(s.op, buf, &s.address); });
      } else if (id == data_file) {
        const std::uint64_t offset = p.next() * 4096u;
        start(w, s, id, size, [&] { return w.file.read_at(s.op, offset, buf); });
      }
      break;
    case 1:  // send (or send_to, write_at); now and then one that cannot finish at once
      if (auto* st = w.stream(id)) {
        const bool big = p.next(8) == 0;
        const proact::const_buffer out =
            big ? proact::const_buffer{big_buffer(), big_send} : proact::const_buffer{buf};
        start(w, s, id, out.size, [&] { return st->send(s.op, out); });
      } else if (id == udp_a || id == udp_b) {
        auto& u = id == udp_a ? w.ua : w.ub;
        s.address = id == udp_a ? w.ub_address : w.ua_address;
        start(w, s, id, size, [&] { return u.send_to(s.op, buf, s.address); });
      } else if (id == data_file) {
        const std::uint64_t offset = p.next() * 4096u;
        start(w, s, id, size, [&] { return w.file.write_at(s.op, offset, buf); });
      }
      break;
    case 2:  // zero-byte receive
      if (auto* st = w.stream(id))
        start(w, s, id, 0, [&] { return st->recv(s.op, proact::buffer{nullptr, 0}); });
      break;
    case 3:
      (void)w.handle(id).cancel(s.op);
      break;
    case 4:
      (void)w.handle(id).cancel();
      break;
    case 5:
      if (p.next(4) == 0) (void)w.handle(id).close();  // rarer: it ends the handle's part
      break;
    case 6:
      if (p.next(2) == 0) {
        if (!w.port.post(0xFEED, 0, nullptr)) ++w.null_posts;
      } else {
        const std::size_t bytes = p.next();
        const bool was_in_flight = s.in_flight;
        const std::error_code ec = w.port.post(0xB0 + id, bytes, &s.op);
        if (was_in_flight && !ec) violated("a post succeeded on an operation in flight", w.step);
        if (!was_in_flight && !ec) {
          s.in_flight = true;
          s.posted = true;
          s.key = 0xB0 + id;
          s.post_bytes = bytes;
        }
      }
      break;
    case 7:
    case 8:
    case 9: {  // wait: poll, a batch, or a short wait
      std::array<proact::completion, 4> got;
      std::size_t count = 0;
      std::error_code ec;
      if (command == 8) {
        ec = w.port.wait_many(got, count, proact::timeout{0});
      } else {
        ec = w.port.wait(got[0], proact::timeout{command == 7 ? 0 : 2});
        count = ec ? 0 : 1;
      }
      if (ec == proact::errc::port_closed) {
        w.port_closed = true;
        if (w.null_posts != 0) violated("port_closed with a null post still queued", w.step);
        for (const slot& other : w.slots)
          if (other.in_flight) violated("port_closed with an operation still in flight", w.step);
      } else if (ec && ec != proact::errc::timed_out) {
        violated("wait failed", w.step);
      }
      for (std::size_t i = 0; i < count; ++i) on_completion(w, got[i]);
      break;
    }
    case 10:  // accept into the slot's own peer
      start(w, s, listener_id, 0, [&] { return w.listener.accept(s.op, s.peer, &s.address); });
      break;
    case 11:  // connect the spare socket to the listener
      start(w, s, connector_id, 0, [&] { return w.connector.connect(s.op, w.listen_address); });
      break;
    case 12:
      if (id == tcp_client || id == tcp_server || id == connector_id) {
        auto& t = id == tcp_client ? w.client : id == tcp_server ? w.server : w.connector;
        start(w, s, id, 0, [&] { return t.disconnect(s.op); });
      }
      break;
    case 13:
      if (id == tcp_client) (void)w.client.shutdown_send();
      if (id == tcp_server) (void)w.server.shutdown_send();
      break;
    case 14:
      (void)w.handle(id).skip_completion_on_success();
      break;
    case 15:
      if (p.next(8) == 0) (void)w.port.close();
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return -1;  // long programs add time, not coverage
  auto w = std::make_unique<world>();
  if (!build(*w)) return 0;
  program p(data, size);
  while (!p.done()) {
    ++w->step;
    step(*w, p);
    check_model(*w);
  }
  // The end: close the port with whatever is in flight; it must all come out.
  ++w->step;
  (void)w->port.close();
  for (;;) {
    proact::completion c;
    const std::error_code ec = w->port.wait(c, proact::timeout{5000});
    if (ec == proact::errc::port_closed) break;
    if (ec == proact::errc::timed_out)
      violated("closing the port did not drain it in 5 s", w->step);
    if (ec) violated("wait failed while draining", w->step);
    on_completion(*w, c);
    check_model(*w);
  }
  for (const slot& s : w->slots)
    if (s.in_flight) violated("port_closed with an operation still in flight", w->step);
  if (w->null_posts != 0) violated("port_closed with a null post still queued", w->step);
  return 0;
}
