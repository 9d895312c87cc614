// A long exactly-once stress: several threads drive one port with every
// operation kind at once (TCP recv, send and zero-byte recv, UDP, file
// read_at and write_at, send_file, accept, connect, disconnect, posts), mixed
// with cancel, cancel-all, handle close and port close, in rounds until the
// time is up. Every start that succeeded is counted per kind, every
// completion too; an operation that completes twice, completes without being
// started, or never completes fails the test, as does a byte stream that
// arrives corrupted.
//
//   proact_stress --backend=epoll --seconds=20 [gtest flags]
//
// Each round opens a port, builds its lanes (connected pairs, UDP pairs,
// files, listeners), starts their operations and lets the worker threads run
// them, restarting each on its completion, while the same threads cancel,
// close lanes and post at random. The round ends by closing the port with
// everything still in flight: the workers then drain it until wait() says
// port_closed, and by then every started operation must have completed once.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "proact/proact.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// ---- configuration (from main) -------------------------------------------------

proact::backend_kind backend = proact::backend_kind::automatic;
double run_seconds = 20.0;
unsigned thread_count = 4;

// ---- what is counted -------------------------------------------------------------

enum class kind : std::uint8_t {
  tcp_recv,
  tcp_send,
  zero_byte_recv,
  udp_recv,
  udp_send,
  file_read,
  file_write,
  send_file,
  accept,
  connect,
  disconnect,
  post,
};
constexpr std::size_t kind_count = 12;
constexpr std::array<std::string_view, kind_count> kind_names = {
    "tcp_recv",   "tcp_send",  "zero_byte_recv", "udp_recv", "udp_send",   "file_read",
    "file_write", "send_file", "accept",         "connect",  "disconnect", "post"};

struct kind_counters {
  std::atomic<long> started{0};
  std::atomic<long> completed{0};
  std::atomic<long> succeeded{0};  // completed without an error
  std::atomic<long> aborted{0};    // completed with operation_aborted
};

std::string describe(const std::error_code& ec) {
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value()) + " (" +
         ec.message() + ")";
}

// Byte i of stream (or file) `seed`: what every sender writes and every
// receiver checks.
unsigned char pattern_byte(std::uint64_t i, unsigned seed) noexcept {
  return static_cast<unsigned char>((i * 131 + seed * 7 + (i >> 8)) % 251 + 1);
}

// ---- operations and lanes ----------------------------------------------------------

struct lane;

// One operation slot. Between its completion and its next start it belongs to
// the thread that dequeued it (or, parked, to whoever unparks it).
struct stress_op : proact::operation {
  kind what = kind::post;
  lane* owner = nullptr;
  unsigned role = 0;  // which of the lane's operations it is
  std::uintptr_t key = 0;
  std::atomic<long> starts{0};
  std::atomic<long> completions{0};
  std::atomic<bool> parked{false};
  std::uint64_t offset = 0;   // stream offset, file offset, or post sequence
  std::size_t requested = 0;  // bytes asked for by the start in flight
  std::vector<unsigned char> data;
  proact::endpoint address;  // UDP source
};

enum class lane_type : std::uint8_t { tcp, udp, file, send_file, accept_connect };

// A set of handles and the operations that run on them. Lanes are built and
// destroyed between rounds, when no thread touches them; during a round a
// lane may be closed (its handles close; it stays closed) but never rebuilt.
struct lane {
  lane_type type = lane_type::tcp;
  unsigned index = 0;
  std::atomic<bool> closed{false};
  // tcp / send_file: client -> server and server -> client streams.
  proact::tcp_socket client;
  proact::tcp_socket server;
  // udp: a sends to b and b to a.
  proact::udp_socket udp_a;
  proact::udp_socket udp_b;
  proact::endpoint address_a;
  proact::endpoint address_b;
  // file: one file, read and written at random offsets.
  proact::file file;
  // accept_connect: a listener; clients connect to it, disconnect, connect
  // again; accepted peers are closed at once.
  proact::tcp_listener listener;
  proact::endpoint listen_address;
  std::vector<std::unique_ptr<proact::tcp_socket>> connectors;
  std::vector<std::unique_ptr<proact::tcp_socket>> peers;
  std::vector<std::unique_ptr<stress_op>> ops;
};

constexpr unsigned tcp_lanes = 16;
constexpr unsigned udp_lanes = 4;
constexpr unsigned file_lanes = 4;
constexpr unsigned send_file_lanes = 4;
constexpr unsigned accept_connect_lanes = 3;
constexpr unsigned connectors_per_lane = 4;
constexpr std::size_t max_stream_chunk = 16384;
constexpr std::size_t large_send = 1 << 20;
constexpr std::size_t max_datagram = 1400;
constexpr std::uint64_t file_region = 1 << 20;    // where file lanes read and write
constexpr std::uint64_t source_size = 256 << 10;  // send_file's source file

// The stream seeds: stream 2*lane client -> server, 2*lane+1 server -> client.
unsigned stream_seed(const lane& l, bool from_client) {
  return 2 * l.index + (from_client ? 0 : 1);
}

class stress_run {
 public:
  explicit stress_run(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // One round: build, run for `length`, close the port, drain, check.
  void round(std::chrono::milliseconds length, unsigned round_number);

  const std::array<kind_counters, kind_count>& counters() const { return counters_; }
  long cancels() const { return cancels_.load(); }
  long cancel_alls() const { return cancel_alls_.load(); }
  long lane_closes() const { return lane_closes_.load(); }
  long null_posts() const { return null_posts_completed_.load(); }
  std::uint64_t bytes_verified() const { return bytes_verified_.load(); }
  int failures() const { return failures_.load(); }
  std::string first_failure() const {
    std::lock_guard lock(failure_lock_);
    return first_failure_;
  }

 private:
  // Setting up a round (single-threaded, before the workers start).
  bool build_lanes(unsigned round_number);
  bool build_tcp_pair(lane& l);
  bool build_udp(lane& l);
  bool build_file(lane& l);
  bool build_accept_connect(lane& l);
  stress_op& add_op(lane& l, kind what, unsigned role, std::uintptr_t key);

  // Running.
  void worker(unsigned seed);
  void start(stress_op& op, std::mt19937& random);
  bool issue(stress_op& op, std::mt19937& random, std::error_code& ec);
  void complete(const proact::completion& c, std::mt19937& random);
  void on_tcp(stress_op& op, const proact::completion& c, std::mt19937& random);
  void on_udp(stress_op& op, const proact::completion& c, std::mt19937& random);
  void on_file(stress_op& op, const proact::completion& c, std::mt19937& random);
  void on_accept_connect(stress_op& op, const proact::completion& c, std::mt19937& random);
  void restart_or_park(stress_op& op, std::mt19937& random, unsigned park_one_in);
  void disturb(std::mt19937& random);
  void close_lane(lane& l);
  bool tolerable(const lane& l) const {
    return l.closed.load() || closing_.load(std::memory_order_relaxed);
  }
  void fail(const std::string& what);

  std::filesystem::path dir_;
  proact::port port_;
  std::vector<std::unique_ptr<lane>> lanes_;
  std::vector<stress_op*> all_ops_;
  std::unique_ptr<proact::file> source_;  // send_file's source: source_size bytes of pattern 9999
  std::atomic<bool> closing_{false};

  std::array<kind_counters, kind_count> counters_{};
  std::atomic<long> outstanding_{0};
  std::atomic<long> null_posts_started_{0};
  std::atomic<long> null_posts_completed_{0};
  std::atomic<long> cancels_{0};
  std::atomic<long> cancel_alls_{0};
  std::atomic<long> lane_closes_{0};
  std::atomic<std::uint64_t> bytes_verified_{0};
  std::atomic<int> failures_{0};
  mutable std::mutex failure_lock_;
  std::string first_failure_;
};

constexpr std::uintptr_t null_post_key = 0xABCD;

void stress_run::fail(const std::string& what) {
  if (failures_.fetch_add(1) == 0) {
    std::lock_guard lock(failure_lock_);
    first_failure_ = what;
  }
}

// ---- setup --------------------------------------------------------------------------

stress_op& stress_run::add_op(lane& l, kind what, unsigned role, std::uintptr_t key) {
  auto op = std::make_unique<stress_op>();
  op->what = what;
  op->owner = &l;
  op->role = role;
  op->key = key;
  l.ops.push_back(std::move(op));
  all_ops_.push_back(l.ops.back().get());
  return *l.ops.back();
}

bool stress_run::build_tcp_pair(lane& l) {
  proact::tcp_listener listener;
  proact::endpoint address;
  if (auto ec = listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0))) {
    fail("setup: listen: " + describe(ec));
    return false;
  }
  std::error_code ec;
  address = listener.local_endpoint(ec);
  if (!ec) ec = port_.associate(listener, 0x7E57);
  proact::operation accept_op;
  proact::operation connect_op;
  if (!ec) ec = listener.accept(accept_op, l.server);
  if (!ec) ec = l.client.open(proact::address_family::ipv4);
  if (!ec) ec = port_.associate(l.client, 2 * l.index);
  if (!ec) ec = l.client.connect(connect_op, address);
  if (ec) {
    fail("setup: pair: " + describe(ec));
    return false;
  }
  // Both complete; in either order.
  for (int i = 0; i < 2; ++i) {
    proact::completion c;
    if (auto wait_ec = port_.wait(c, proact::timeout{10000}); wait_ec || c.error) {
      fail("setup: pair: " + describe(wait_ec ? wait_ec : c.error));
      return false;
    }
  }
  if (auto assoc = port_.associate(l.server, 2 * l.index + 1)) {
    fail("setup: associate the accepted socket: " + describe(assoc));
    return false;
  }
  return true;
}

bool stress_run::build_udp(lane& l) {
  for (auto [s, address, key] : {std::tuple{&l.udp_a, &l.address_a, 2 * l.index},
                                 std::tuple{&l.udp_b, &l.address_b, 2 * l.index + 1}}) {
    std::error_code ec = s->open(proact::address_family::ipv4);
    if (!ec) ec = s->bind(proact::endpoint::loopback(proact::address_family::ipv4, 0));
    if (!ec) *address = s->local_endpoint(ec);
    if (!ec) ec = port_.associate(*s, key);
    if (ec) {
      fail("setup: udp: " + describe(ec));
      return false;
    }
  }
  return true;
}

bool stress_run::build_file(lane& l) {
  const auto path = dir_ / ("file" + std::to_string(l.index));
  std::error_code ec =
      l.file.open(path.string(), proact::file_mode::read | proact::file_mode::write |
                                     proact::file_mode::create | proact::file_mode::truncate);
  if (!ec) ec = port_.associate(l.file, 2 * l.index);
  if (ec) fail("setup: file: " + describe(ec));
  return !ec;
}

bool stress_run::build_accept_connect(lane& l) {
  std::error_code ec =
      l.listener.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0));
  if (!ec) l.listen_address = l.listener.local_endpoint(ec);
  if (!ec) ec = port_.associate(l.listener, 2 * l.index + 1);
  for (unsigned i = 0; i < connectors_per_lane && !ec; ++i) {
    l.connectors.push_back(std::make_unique<proact::tcp_socket>());
    l.peers.push_back(std::make_unique<proact::tcp_socket>());
    ec = l.connectors.back()->open(proact::address_family::ipv4);
    if (!ec) ec = port_.associate(*l.connectors.back(), 2 * l.index);
  }
  if (ec) fail("setup: accept/connect: " + describe(ec));
  return !ec;
}

bool stress_run::build_lanes(unsigned round_number) {
  unsigned index = 0;
  auto new_lane = [&](lane_type type) -> lane& {
    lanes_.push_back(std::make_unique<lane>());
    lanes_.back()->type = type;
    lanes_.back()->index = index++;
    return *lanes_.back();
  };
  for (unsigned i = 0; i < tcp_lanes; ++i) {
    lane& l = new_lane(lane_type::tcp);
    if (!build_tcp_pair(l)) return false;
    const std::uintptr_t client = 2 * l.index, server = 2 * l.index + 1;
    add_op(l, kind::tcp_recv, 0, server);  // server receives the client's stream
    add_op(l, kind::tcp_send, 0, client);
    add_op(l, kind::tcp_recv, 1, client);  // and the other way
    add_op(l, kind::tcp_send, 1, server);
    add_op(l, kind::zero_byte_recv, 0, server);
    add_op(l, kind::zero_byte_recv, 1, client);
    add_op(l, kind::post, 0, 0x9000 + l.index);
  }
  for (unsigned i = 0; i < udp_lanes; ++i) {
    lane& l = new_lane(lane_type::udp);
    if (!build_udp(l)) return false;
    const std::uintptr_t a = 2 * l.index, b = 2 * l.index + 1;
    for (unsigned r = 0; r < 2; ++r) {
      add_op(l, kind::udp_send, 0, a);  // a -> b
      add_op(l, kind::udp_recv, 0, b);
      add_op(l, kind::udp_send, 1, b);  // b -> a
      add_op(l, kind::udp_recv, 1, a);
    }
  }
  {
    const auto path = dir_ / ("source" + std::to_string(round_number));
    {
      std::ofstream out(path, std::ios::binary);
      for (std::uint64_t i = 0; i < source_size; ++i)
        out.put(static_cast<char>(pattern_byte(i, 9999)));
      if (!out) {
        fail("setup: cannot write " + path.string());
        return false;
      }
    }
    source_ = std::make_unique<proact::file>();
    if (auto ec = source_->open(path.string(), proact::file_mode::read)) {
      fail("setup: open the send_file source: " + describe(ec));
      return false;
    }
  }
  for (unsigned i = 0; i < file_lanes; ++i) {
    lane& l = new_lane(lane_type::file);
    if (!build_file(l)) return false;
    for (unsigned r = 0; r < 2; ++r) {
      add_op(l, kind::file_write, r, 2 * l.index);
      add_op(l, kind::file_read, r, 2 * l.index);
    }
  }
  for (unsigned i = 0; i < send_file_lanes; ++i) {
    lane& l = new_lane(lane_type::send_file);
    if (!build_tcp_pair(l)) return false;
    add_op(l, kind::send_file, 0, 2 * l.index);     // client sends the file...
    add_op(l, kind::tcp_recv, 0, 2 * l.index + 1);  // ...server checks it
  }
  for (unsigned i = 0; i < accept_connect_lanes; ++i) {
    lane& l = new_lane(lane_type::accept_connect);
    if (!build_accept_connect(l)) return false;
    for (unsigned r = 0; r < connectors_per_lane; ++r) {
      add_op(l, kind::accept, r, 2 * l.index + 1);
      add_op(l, kind::connect, r, 2 * l.index);
      add_op(l, kind::disconnect, r, 2 * l.index);
    }
  }
  return true;
}

// ---- starting ------------------------------------------------------------------------

// Starts one operation of the kind `op` is for; the counters go up before the
// start call, since the completion may be dequeued by another thread before
// the call returns.
void stress_run::start(stress_op& op, std::mt19937& random) {
  auto& counter = counters_[static_cast<std::size_t>(op.what)];
  op.starts.fetch_add(1);
  counter.started.fetch_add(1);
  outstanding_.fetch_add(1);
  std::error_code ec;
  if (issue(op, random, ec)) return;
  op.starts.fetch_sub(1);
  counter.started.fetch_sub(1);
  outstanding_.fetch_sub(1);
  if (op.in_flight())
    fail(std::string(kind_names[static_cast<std::size_t>(op.what)]) +
         ": a refused start left the operation in flight");
  // Refused: expected only once its lane or the port is closed.
  const lane& l = *op.owner;
  const bool expected = (l.closed.load() && ec == proact::errc::bad_handle) ||
                        ec == proact::errc::port_closed ||
                        (closing_.load() && ec == proact::errc::bad_handle);
  if (!expected)
    fail(std::string(kind_names[static_cast<std::size_t>(op.what)]) +
         " refused to start: " + describe(ec));
}

bool stress_run::issue(stress_op& op, std::mt19937& random, std::error_code& ec) {
  lane& l = *op.owner;
  switch (op.what) {
    case kind::tcp_recv: {
      op.requested = 1 + random() % max_stream_chunk;
      op.data.resize(max_stream_chunk);
      proact::tcp_socket& s = op.role == 0 ? l.server : l.client;
      ec = s.recv(op, proact::buffer{op.data.data(), op.requested});
      break;
    }
    case kind::tcp_send: {
      // Now and then a send larger than the socket buffers, which stays
      // pending long enough to be cancelled or closed part-way.
      op.requested = 1 + random() % (random() % 16 == 0 ? large_send : max_stream_chunk);
      op.data.resize(op.requested);
      const unsigned seed = stream_seed(l, op.role == 0);
      for (std::size_t i = 0; i < op.requested; ++i) op.data[i] = pattern_byte(op.offset + i, seed);
      proact::tcp_socket& s = op.role == 0 ? l.client : l.server;
      ec = s.send(op, proact::const_buffer{op.data.data(), op.requested});
      break;
    }
    case kind::zero_byte_recv: {
      proact::tcp_socket& s = op.role == 0 ? l.server : l.client;
      ec = s.recv(op, proact::buffer{nullptr, 0});
      break;
    }
    case kind::udp_send: {
      // Byte 0 names the pattern of the rest, so that a receiver can check
      // a datagram (or the part of it that fit) on its own.
      op.requested = random() % max_datagram;
      op.data.resize(max_datagram);
      const auto seed = static_cast<unsigned char>(random());
      for (std::size_t i = 0; i < op.requested; ++i)
        op.data[i] = i == 0 ? seed : pattern_byte(i, seed);
      proact::udp_socket& s = op.role == 0 ? l.udp_a : l.udp_b;
      ec = s.send_to(op, proact::const_buffer{op.data.data(), op.requested},
                     op.role == 0 ? l.address_b : l.address_a);
      break;
    }
    case kind::udp_recv: {
      op.requested = 1 + random() % (max_datagram + 100);
      op.data.resize(max_datagram + 100);
      proact::udp_socket& s = op.role == 0 ? l.udp_b : l.udp_a;
      ec = s.recv_from(op, proact::buffer{op.data.data(), op.requested}, &op.address);
      break;
    }
    case kind::file_write: {
      // Every write puts the file's own pattern at its offset, so a read
      // sees, at each offset, that pattern or a hole (zeros).
      op.offset = random() % file_region;
      op.requested = 1 + random() % 65536;
      op.data.resize(op.requested);
      for (std::size_t i = 0; i < op.requested; ++i)
        op.data[i] = pattern_byte(op.offset + i, 5000 + l.index);
      ec = l.file.write_at(op, op.offset, proact::const_buffer{op.data.data(), op.requested});
      break;
    }
    case kind::file_read: {
      op.offset = random() % (file_region + 65536);
      op.requested = 1 + random() % 65536;
      op.data.resize(op.requested);
      ec = l.file.read_at(op, op.offset, proact::buffer{op.data.data(), op.requested});
      break;
    }
    case kind::send_file: {
      // The stream is the source file over and over: stream offset k carries
      // file byte k % source_size.
      const std::uint64_t at = op.offset % source_size;
      op.requested = 1 + random() % std::min<std::uint64_t>(source_size - at, 65536);
      ec = l.client.send_file(op, *source_, at, op.requested);
      break;
    }
    case kind::accept:
      ec = l.listener.accept(op, *l.peers[op.role], &op.address);
      break;
    case kind::connect:
      ec = l.connectors[op.role]->connect(op, l.listen_address);
      break;
    case kind::disconnect:
      ec = l.connectors[op.role]->disconnect(op);
      break;
    case kind::post:
      ++op.offset;
      ec = port_.post(op.key, op.offset, &op);
      break;
  }
  return !ec;
}

// Restarts `op`, or (one time in `park_one_in`) leaves it parked for
// disturb() to restart later, so that fast kinds do not crowd out the rest.
void stress_run::restart_or_park(stress_op& op, std::mt19937& random, unsigned park_one_in) {
  if (park_one_in != 0 && random() % park_one_in == 0) {
    op.parked.store(true);
    return;
  }
  start(op, random);
}

// ---- completions ------------------------------------------------------------------------

void stress_run::complete(const proact::completion& c, std::mt19937& random) {
  if (c.op == nullptr) {
    if (c.key != null_post_key) fail("a null post came back with another key");
    null_posts_completed_.fetch_add(1);
    outstanding_.fetch_sub(1);
    return;
  }
  auto& op = *static_cast<stress_op*>(c.op);
  const std::string_view name = kind_names[static_cast<std::size_t>(op.what)];
  auto& counter = counters_[static_cast<std::size_t>(op.what)];
  counter.completed.fetch_add(1);
  if (c.error == proact::errc::operation_aborted) counter.aborted.fetch_add(1);
  if (!c.error) counter.succeeded.fetch_add(1);
  const long completions = op.completions.fetch_add(1) + 1;
  if (completions != op.starts.load())
    fail(std::string(name) + ": completion " + std::to_string(completions) +
         " of an operation started " + std::to_string(op.starts.load()) + " times");
  if (op.in_flight())
    fail(std::string(name) + ": still in flight after its completion was dequeued");
  if (c.key != op.key) fail(std::string(name) + ": completion with the wrong key");

  switch (op.owner->type) {
    case lane_type::tcp:
    case lane_type::send_file:
      on_tcp(op, c, random);
      break;
    case lane_type::udp:
      on_udp(op, c, random);
      break;
    case lane_type::file:
      on_file(op, c, random);
      break;
    case lane_type::accept_connect:
      on_accept_connect(op, c, random);
      break;
  }
  // Last: once it is zero after the port closed, nothing touches the lanes.
  outstanding_.fetch_sub(1);
}

void stress_run::on_tcp(stress_op& op, const proact::completion& c, std::mt19937& random) {
  lane& l = *op.owner;
  const std::string name(kind_names[static_cast<std::size_t>(op.what)]);
  if (op.what == kind::post) {
    if (c.error || c.bytes != op.offset) fail("post not delivered verbatim");
    restart_or_park(op, random, 2);
    return;
  }
  if (op.what == kind::zero_byte_recv) {
    if (c.bytes != 0) fail("zero-byte recv completed with " + std::to_string(c.bytes) + " bytes");
    if (!c.error) {
      restart_or_park(op, random, 2);
    } else if (c.error == proact::errc::operation_aborted) {
      if (!l.closed.load()) start(op, random);
    } else if (!tolerable(l)) {
      fail("zero-byte recv failed on an open lane: " + describe(c.error));
    }
    return;
  }
  const bool sending = op.what == kind::tcp_send || op.what == kind::send_file;
  if (c.bytes > op.requested) fail(name + " completed with more bytes than asked for");
  if (sending) {
    if (!c.error && c.bytes != op.requested) fail(name + " completed partially without an error");
    // Cancelled part-way: exactly c.bytes went, the stream goes on from there.
    op.offset += c.bytes;
    if (!c.error || (c.error == proact::errc::operation_aborted && !l.closed.load()))
      start(op, random);
    else if (c.error != proact::errc::operation_aborted && !tolerable(l))
      fail(name + " failed on an open lane: " + describe(c.error));
    return;
  }
  // A data recv: check the bytes against the sender's pattern.
  if (!c.error) {
    if (c.bytes == 0) {
      fail("recv completed with 0 bytes and no error");
      return;
    }
    for (std::size_t i = 0; i < c.bytes; ++i) {
      const std::uint64_t at = op.offset + i;
      const unsigned char expected = l.type == lane_type::send_file
                                         ? pattern_byte(at % source_size, 9999)
                                         : pattern_byte(at, stream_seed(l, op.role == 0));
      if (op.data[i] != expected) {
        fail("stream of lane " + std::to_string(l.index) + " corrupted at offset " +
             std::to_string(at));
        return;
      }
    }
    op.offset += c.bytes;
    bytes_verified_.fetch_add(c.bytes);
    start(op, random);
  } else if (c.error == proact::errc::operation_aborted) {
    if (c.bytes != 0) fail("an aborted recv reports bytes");
    if (!l.closed.load()) start(op, random);
  } else if (!tolerable(l)) {
    fail("recv failed on an open lane: " + describe(c.error));
  }
}

void stress_run::on_udp(stress_op& op, const proact::completion& c, std::mt19937& random) {
  lane& l = *op.owner;
  if (op.what == kind::udp_send) {
    if (!c.error && c.bytes != op.requested) fail("udp send_to completed partially");
    if (c.error && c.error != proact::errc::operation_aborted && !tolerable(l))
      fail("udp send_to failed on an open lane: " + describe(c.error));
    if (!l.closed.load()) restart_or_park(op, random, 3);
    return;
  }
  // A datagram (or the part of it that fit): byte 0 names the pattern.
  if (!c.error || c.error == proact::errc::message_size) {
    if (c.bytes > op.requested) fail("udp recv_from completed with more bytes than asked for");
    if (c.error && c.bytes != op.requested) fail("a truncated datagram did not fill the buffer");
    for (std::size_t i = 1; i < c.bytes && i < op.requested; ++i) {
      if (op.data[i] != pattern_byte(i, op.data[0])) {
        fail("datagram corrupted at byte " + std::to_string(i));
        break;
      }
    }
    const auto sender = op.role == 0 ? l.address_a : l.address_b;
    if (!(op.address == sender))
      fail("datagram from an unexpected address " + op.address.to_string());
    bytes_verified_.fetch_add(c.bytes);
    start(op, random);
  } else if (c.error == proact::errc::operation_aborted) {
    if (!l.closed.load()) start(op, random);
  } else if (!tolerable(l)) {
    fail("udp recv_from failed on an open lane: " + describe(c.error));
  }
}

void stress_run::on_file(stress_op& op, const proact::completion& c, std::mt19937& random) {
  lane& l = *op.owner;
  if (op.what == kind::file_write) {
    if (!c.error && c.bytes != op.requested) fail("write_at completed partially without an error");
  } else if (!c.error) {
    if (c.bytes == 0 || c.bytes > op.requested)
      fail("read_at: " + std::to_string(c.bytes) + " bytes");
    for (std::size_t i = 0; i < c.bytes && i < op.requested; ++i) {
      const unsigned char b = op.data[i];
      if (b != 0 && b != pattern_byte(op.offset + i, 5000 + l.index)) {
        fail("file of lane " + std::to_string(l.index) + " holds a wrong byte at " +
             std::to_string(op.offset + i));
        break;
      }
    }
    bytes_verified_.fetch_add(c.bytes);
  } else if (c.error == proact::errc::eof) {
    if (c.bytes != 0) fail("read_at at the end completed with bytes and eof");
  }
  if (c.error && c.error != proact::errc::eof && c.error != proact::errc::operation_aborted &&
      !tolerable(l))
    fail(std::string(kind_names[static_cast<std::size_t>(op.what)]) +
         " failed on an open lane: " + describe(c.error));
  if (!l.closed.load()) restart_or_park(op, random, 4);
}

void stress_run::on_accept_connect(stress_op& op, const proact::completion& c,
                                   std::mt19937& random) {
  lane& l = *op.owner;
  proact::tcp_socket& connector = *l.connectors[op.role];
  stress_op& connect_op = *l.ops[3 * op.role + 1];
  stress_op& disconnect_op = *l.ops[3 * op.role + 2];
  switch (op.what) {
    case kind::accept:
      // The accepted peer is closed at once: its client reads eof (or the
      // disconnect finds it gone); then accept again into the same object.
      if (!c.error) {
        if (!l.peers[op.role]->is_open()) fail("accept succeeded but the peer is not open");
        (void)l.peers[op.role]->close();
      } else if (c.error != proact::errc::operation_aborted && !tolerable(l)) {
        fail("accept failed on an open lane: " + describe(c.error));
      }
      if (!l.closed.load()) start(op, random);
      return;
    case kind::connect:
      if (!c.error) {
        start(disconnect_op, random);
        return;
      }
      // A connect that did not complete leaves the socket in no state to
      // reuse: this connector retires for the rest of the round.
      if (c.error != proact::errc::operation_aborted && !tolerable(l))
        fail("connect failed on an open lane: " + describe(c.error));
      (void)connector.close();
      return;
    case kind::disconnect:
      if (!c.error) {
        start(connect_op, random);
        return;
      }
      if (c.error != proact::errc::operation_aborted && !tolerable(l))
        fail("disconnect failed on an open lane: " + describe(c.error));
      (void)connector.close();
      return;
    default:
      fail("an unexpected operation on an accept/connect lane");
  }
}

// ---- disturbances -------------------------------------------------------------------------

void stress_run::close_lane(lane& l) {
  if (l.closed.exchange(true)) return;
  lane_closes_.fetch_add(1);
  auto check = [this](const std::error_code& ec) {
    if (ec && ec != proact::errc::bad_handle) fail("close: " + describe(ec));
  };
  switch (l.type) {
    case lane_type::tcp:
    case lane_type::send_file:
      check(l.client.close());
      check(l.server.close());
      break;
    case lane_type::udp:
      check(l.udp_a.close());
      check(l.udp_b.close());
      break;
    case lane_type::file:
      check(l.file.close());
      break;
    case lane_type::accept_connect:
      // The connectors belong to their operations' handlers (which close a
      // failed one); the lane closes only its listener, so its connects are
      // then refused and its accepts aborted.
      check(l.listener.close());
      break;
  }
}

void stress_run::disturb(std::mt19937& random) {
  const auto dice = random() % 1000;
  lane& l = *lanes_[random() % lanes_.size()];
  if (dice < 40) {
    // Cancel one operation of the lane; it may have completed already, be
    // parked, or belong to a handle that does not run it (not_found).
    stress_op& op = *l.ops[random() % l.ops.size()];
    std::error_code ec;
    switch (l.type) {
      case lane_type::tcp:
      case lane_type::send_file:
        ec = (random() % 2 ? l.client : l.server).cancel(op);
        break;
      case lane_type::udp:
        ec = (random() % 2 ? l.udp_a : l.udp_b).cancel(op);
        break;
      case lane_type::file:
        ec = l.file.cancel(op);
        break;
      case lane_type::accept_connect:
        ec = random() % 2 ? l.listener.cancel(op)
                          : l.connectors[random() % l.connectors.size()]->cancel(op);
        break;
    }
    cancels_.fetch_add(1);
    if (ec && ec != proact::errc::not_found && ec != proact::errc::bad_handle)
      fail("cancel: " + describe(ec));
  } else if (dice < 55) {
    // Cancel everything of one handle.
    std::error_code ec;
    switch (l.type) {
      case lane_type::tcp:
      case lane_type::send_file:
        ec = (random() % 2 ? l.client : l.server).cancel();
        break;
      case lane_type::udp:
        ec = (random() % 2 ? l.udp_a : l.udp_b).cancel();
        break;
      case lane_type::file:
        ec = l.file.cancel();
        break;
      case lane_type::accept_connect:
        ec = random() % 2 ? l.listener.cancel()
                          : l.connectors[random() % l.connectors.size()]->cancel();
        break;
    }
    cancel_alls_.fetch_add(1);
    if (ec && ec != proact::errc::not_found && ec != proact::errc::bad_handle)
      fail("cancel all: " + describe(ec));
  } else if (dice < 85) {
    null_posts_started_.fetch_add(1);
    outstanding_.fetch_add(1);
    if (auto ec = port_.post(null_post_key, 0, nullptr)) {
      null_posts_started_.fetch_sub(1);
      outstanding_.fetch_sub(1);
      if (ec != proact::errc::port_closed) fail("post: " + describe(ec));
    }
  } else if (dice < 300) {
    // Restart a parked operation.
    stress_op& op = *l.ops[random() % l.ops.size()];
    if (op.parked.exchange(false)) start(op, random);
  } else if (dice < 302) {
    // Close a lane, while its operations run; at most a third of them.
    std::size_t closed = 0;
    for (const auto& other : lanes_) closed += other->closed.load() ? 1 : 0;
    if (3 * closed < lanes_.size()) close_lane(l);
  }
}

void stress_run::worker(unsigned seed) {
  std::mt19937 random(seed);
  for (;;) {
    proact::completion c;
    const std::error_code ec = port_.wait(c, proact::timeout{50});
    if (ec == proact::errc::port_closed) return;
    if (!ec)
      complete(c, random);
    else if (ec != proact::errc::timed_out) {
      fail("wait: " + describe(ec));
      return;
    }
    if (!closing_.load(std::memory_order_relaxed)) disturb(random);
  }
}

// ---- a round --------------------------------------------------------------------------------

void stress_run::round(std::chrono::milliseconds length, unsigned round_number) {
  proact::port_options options;
  options.backend = backend;
  if (auto ec = port_.open(options)) {
    fail("open the port: " + describe(ec));
    return;
  }
  closing_.store(false);
  std::mt19937 random(round_number);
  if (build_lanes(round_number)) {
    for (stress_op* op : all_ops_) {
      // A connector starts with its connect; its disconnect follows it.
      if (op->what != kind::disconnect) start(*op, random);
    }
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < thread_count; ++t)
      workers.emplace_back([this, t, round_number] { worker(1000 * round_number + t); });
    std::this_thread::sleep_for(length);
    // The round ends with everything in flight: every operation still
    // pending must complete (aborted) before wait() reports port_closed.
    closing_.store(true);
    if (round_number % 3 == 0) {
      // Sometimes some lanes close at the same moment as the port.
      for (std::size_t i = 0; i < lanes_.size(); i += 5) close_lane(*lanes_[i]);
    }
    if (auto ec = port_.close()) fail("close the port: " + describe(ec));
    for (auto& w : workers) w.join();
    if (const long left = outstanding_.load(); left != 0)
      fail("round " + std::to_string(round_number) + ": " + std::to_string(left) +
           " operations never completed before wait() said port_closed");
  } else {
    (void)port_.close();
  }
  // Handles before the port they belong to; the port then releases.
  lanes_.clear();
  all_ops_.clear();
  source_.reset();
  port_ = proact::port();
}

// ---- the test ---------------------------------------------------------------------------------

std::filesystem::path make_temp_directory() {
  std::error_code ec;
  const auto base = std::filesystem::temp_directory_path(ec);
  std::random_device seed;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto dir = base / ("proact-stress-" + std::to_string(seed()));
    if (std::filesystem::create_directory(dir, ec)) return dir;
  }
  return {};
}

TEST(ExactlyOnceStress, EveryKindMixedWithCancelCloseAndPortClose) {
  {
    proact::port probe;
    proact::port_options options;
    options.backend = backend;
    if (auto ec = probe.open(options); ec == proact::errc::backend_unavailable)
      GTEST_SKIP() << "the backend is not available on this machine: " << describe(ec);
  }
  const auto dir = make_temp_directory();
  ASSERT_FALSE(dir.empty()) << "cannot create a temporary directory";
  stress_run run(dir);
  const auto begin = clock_type::now();
  const auto deadline = begin + std::chrono::duration<double>(run_seconds);
  std::mt19937 random(7);
  unsigned rounds = 0;
  while (clock_type::now() < deadline && run.failures() == 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    const std::chrono::milliseconds length(
        std::min<long long>(500 + random() % 2500, left.count() + 1));
    run.round(length, ++rounds);
  }
  const double elapsed = std::chrono::duration<double>(clock_type::now() - begin).count();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);

  std::printf("[   INFO   ] backend %s, %u threads, %u rounds in %.1f s\n",
              std::string(proact::to_string(backend)).c_str(), thread_count, rounds, elapsed);
  std::printf("[   INFO   ] %-15s %10s %10s %10s %10s\n", "kind", "started", "completed",
              "succeeded", "aborted");
  long total = 0;
  for (std::size_t k = 0; k < kind_count; ++k) {
    const auto& n = run.counters()[k];
    std::printf("[   INFO   ] %-15s %10ld %10ld %10ld %10ld\n", std::string(kind_names[k]).c_str(),
                n.started.load(), n.completed.load(), n.succeeded.load(), n.aborted.load());
    total += n.started.load();
  }
  std::printf(
      "[   INFO   ] %ld operations; %ld cancels, %ld cancel-alls, %ld lane closes, %ld null posts, "
      "%llu bytes verified\n",
      total, run.cancels(), run.cancel_alls(), run.lane_closes(), run.null_posts(),
      static_cast<unsigned long long>(run.bytes_verified()));

  EXPECT_EQ(run.failures(), 0) << "first failure: " << run.first_failure();
  for (std::size_t k = 0; k < kind_count; ++k) {
    const auto& n = run.counters()[k];
    EXPECT_EQ(n.started.load(), n.completed.load()) << kind_names[k] << ": started != completed";
    // Every kind ran and also succeeded: the mix is not all cancellations.
    EXPECT_GT(n.succeeded.load(), 0) << kind_names[k] << " never succeeded";
  }
  EXPECT_GT(run.cancels(), 0);
  EXPECT_GT(run.cancel_alls(), 0);
  EXPECT_GT(run.lane_closes(), 0);
  EXPECT_GT(rounds, 1u) << "port close happens once per round";
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (const char* env = std::getenv("PROACT_BACKEND")) {
    std::error_code ec;
    backend = proact::backend_from_string(env, ec);
  }
  // PROACT_STRESS_SECONDS (./dev test --quick) shortens every run at once.
  if (const char* env = std::getenv("PROACT_STRESS_SECONDS")) run_seconds = std::atof(env);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::error_code ec;
    if (arg.rfind("--backend=", 0) == 0) {
      backend = proact::backend_from_string(arg.substr(10), ec);
    } else if (arg.rfind("--seconds=", 0) == 0) {
      if (std::getenv("PROACT_STRESS_SECONDS") == nullptr)
        run_seconds = std::atof(std::string(arg.substr(10)).c_str());
    } else if (arg.rfind("--threads=", 0) == 0) {
      thread_count = static_cast<unsigned>(std::atoi(std::string(arg.substr(10)).c_str()));
    } else {
      ec = std::make_error_code(std::errc::invalid_argument);
    }
    if (ec || run_seconds <= 0 || thread_count == 0) {
      std::fprintf(stderr,
                   "usage: proact_stress [--backend=epoll|io_uring|iocp] [--seconds=S] "
                   "[--threads=N] [gtest flags]\n");
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
