#include "fixture.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "platform.hpp"

namespace proact_test {

namespace {
std::atomic<proact::backend_kind> g_backend{proact::backend_kind::automatic};
}  // namespace

proact::backend_kind backend_under_test() noexcept {
  return g_backend.load();
}
void set_backend_under_test(proact::backend_kind kind) noexcept {
  g_backend.store(kind);
}

proact::port_options options(unsigned concurrency) noexcept {
  proact::port_options o;
  o.backend = backend_under_test();
  o.concurrency = concurrency;
  return o;
}

// ---- error codes -----------------------------------------------------------

std::string describe(const std::error_code& ec) {
  if (!ec) return "success";
  std::ostringstream out;
  out << ec.category().name() << ':' << ec.value() << " (" << ec.message() << ')';
  return out.str();
}

const char* name_of(proact::errc e) noexcept {
  switch (e) {
    case proact::errc::operation_aborted:
      return "operation_aborted";
    case proact::errc::eof:
      return "eof";
    case proact::errc::connection_reset:
      return "connection_reset";
    case proact::errc::connection_refused:
      return "connection_refused";
    case proact::errc::connection_aborted:
      return "connection_aborted";
    case proact::errc::timed_out:
      return "timed_out";
    case proact::errc::port_closed:
      return "port_closed";
    case proact::errc::not_found:
      return "not_found";
    case proact::errc::already_associated:
      return "already_associated";
    case proact::errc::not_associated:
      return "not_associated";
    case proact::errc::operation_in_progress:
      return "operation_in_progress";
    case proact::errc::invalid_argument:
      return "invalid_argument";
    case proact::errc::message_size:
      return "message_size";
    case proact::errc::address_in_use:
      return "address_in_use";
    case proact::errc::address_not_available:
      return "address_not_available";
    case proact::errc::bad_handle:
      return "bad_handle";
    case proact::errc::network_unreachable:
      return "network_unreachable";
    case proact::errc::host_unreachable:
      return "host_unreachable";
    case proact::errc::not_connected:
      return "not_connected";
    case proact::errc::buffer_too_large:
      return "buffer_too_large";
    case proact::errc::backend_unavailable:
      return "backend_unavailable";
    case proact::errc::no_resources:
      return "no_resources";
    case proact::errc::already_connected:
      return "already_connected";
    case proact::errc::shut_down:
      return "shut_down";
    case proact::errc::not_on_loop:
      return "not_on_loop";
    case proact::errc::host_not_found:
      return "host_not_found";
    case proact::errc::try_again:
      return "try_again";
    case proact::errc::service_not_found:
      return "service_not_found";
    case proact::errc::file_exists:
      return "file_exists";
    case proact::errc::operation_not_supported:
      return "operation_not_supported";
    case proact::errc::tls_handshake_failed:
      return "tls_handshake_failed";
    case proact::errc::tls_verification_failed:
      return "tls_verification_failed";
    case proact::errc::tls_truncated:
      return "tls_truncated";
    case proact::errc::pool_empty:
      return "pool_empty";
  }
  return "?";
}

::testing::AssertionResult succeeded(const std::error_code& ec) {
  if (!ec) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected success, got " << describe(ec);
}

::testing::AssertionResult is(const std::error_code& ec, proact::errc expected) {
  if (ec == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected errc::" << name_of(expected) << ", got " << describe(ec);
}

// ---- waiting ---------------------------------------------------------------

::testing::AssertionResult wait_one(proact::port& p, proact::completion& out, proact::timeout t) {
  const std::error_code ec = p.wait(out, t);
  if (!ec) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "wait(" << t.count() << " ms) returned " << describe(ec) << " instead of a completion";
}

::testing::AssertionResult wait_n(proact::port& p, std::size_t n,
                                  std::vector<proact::completion>& out, proact::timeout t) {
  const auto deadline = clock_type::now() + t;
  for (std::size_t got = 0; got < n; ++got) {
    const auto left = std::chrono::duration_cast<proact::timeout>(deadline - clock_type::now());
    proact::completion c;
    const std::error_code ec = p.wait(c, left.count() > 0 ? left : proact::timeout::zero());
    if (ec) {
      return ::testing::AssertionFailure()
             << "got " << got << " of " << n << " completions, then " << describe(ec);
    }
    out.push_back(c);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult wait_for(proact::port& p,
                                    std::initializer_list<const proact::operation*> ops,
                                    std::vector<proact::completion>& out, proact::timeout t) {
  std::vector<const proact::operation*> missing(ops);
  const auto deadline = clock_type::now() + t;
  while (!missing.empty()) {
    const auto left = std::chrono::duration_cast<proact::timeout>(deadline - clock_type::now());
    proact::completion c;
    const std::error_code ec = p.wait(c, left.count() > 0 ? left : proact::timeout::zero());
    if (ec) {
      return ::testing::AssertionFailure()
             << missing.size() << " of " << ops.size() << " operations still incomplete: wait "
             << "returned " << describe(ec);
    }
    auto it = std::find(missing.begin(), missing.end(), c.op);
    if (it == missing.end()) {
      return ::testing::AssertionFailure()
             << "unexpected completion (op=" << static_cast<const void*>(c.op) << " key=" << c.key
             << " bytes=" << c.bytes << " error=" << describe(c.error) << ")";
    }
    missing.erase(it);
    out.push_back(c);
  }
  return ::testing::AssertionSuccess();
}

proact::completion completion_of(const std::vector<proact::completion>& list,
                                 const proact::operation* op) {
  for (const proact::completion& c : list)
    if (c.op == op) return c;
  return {};
}

::testing::AssertionResult bytes_then_eof(const std::vector<proact::completion>& got,
                                          const proact::operation& first,
                                          const proact::operation& second, std::size_t bytes) {
  if (got.size() != 2 || got[0].op != &first || got[1].op != &second)
    return ::testing::AssertionFailure() << "not the two recvs, in their start order";
  if (got[0].error || got[0].bytes != bytes)
    return ::testing::AssertionFailure() << "the first: " << got[0].bytes << " bytes, "
                                         << describe(got[0].error) << "; expected " << bytes;
  if (got[1].bytes != 0) return ::testing::AssertionFailure() << "the second carried bytes";
  return is(got[1].error, proact::errc::eof);
}

::testing::AssertionResult stays_idle(proact::port& p, proact::timeout t) {
  proact::completion c;
  const std::error_code ec = p.wait(c, t);
  if (ec == proact::errc::timed_out) return ::testing::AssertionSuccess();
  if (ec) return ::testing::AssertionFailure() << "wait returned " << describe(ec);
  return ::testing::AssertionFailure()
         << "unexpected completion: key=" << c.key << " op=" << static_cast<const void*>(c.op)
         << " bytes=" << c.bytes << " error=" << describe(c.error);
}

void busy_spin(std::chrono::microseconds d) {
  const auto until = clock_type::now() + d;
  std::atomic<unsigned> sink{0};
  while (clock_type::now() < until) sink.fetch_add(1, std::memory_order_relaxed);
}

// ---- TCP -------------------------------------------------------------------

::testing::AssertionResult listen_on_loopback(proact::port& p, proact::tcp_listener& listener,
                                              proact::endpoint& address,
                                              proact::address_family family, std::uintptr_t key) {
  if (auto ec = listener.listen(proact::endpoint::loopback(family, 0)))
    return ::testing::AssertionFailure() << "listen: " << describe(ec);
  std::error_code ec;
  address = listener.local_endpoint(ec);
  if (ec) return ::testing::AssertionFailure() << "local_endpoint: " << describe(ec);
  if (address.port() == 0) return ::testing::AssertionFailure() << "listener has port 0";
  if (auto e = p.associate(listener, key))
    return ::testing::AssertionFailure() << "associate listener: " << describe(e);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult closed_loopback_port(proact::address_family family,
                                                proact::endpoint& address) {
  proact::tcp_listener probe;
  if (auto ec = probe.listen(proact::endpoint::loopback(family, 0)))
    return ::testing::AssertionFailure() << "listen: " << describe(ec);
  std::error_code ec;
  address = probe.local_endpoint(ec);
  if (ec) return ::testing::AssertionFailure() << "local_endpoint: " << describe(ec);
  if (auto e = probe.close()) return ::testing::AssertionFailure() << "close: " << describe(e);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult connect_pair(proact::port& p, tcp_pair& pair,
                                        proact::address_family family, std::uintptr_t client,
                                        std::uintptr_t server) {
  proact::tcp_listener listener;
  proact::endpoint address;
  if (auto r = listen_on_loopback(p, listener, address, family); !r) return r;

  proact::operation accept_op;
  proact::operation connect_op;
  proact::endpoint peer_address;
  if (auto ec = listener.accept(accept_op, pair.server, &peer_address))
    return ::testing::AssertionFailure() << "accept: " << describe(ec);
  if (auto ec = pair.client.open(family))
    return ::testing::AssertionFailure() << "open: " << describe(ec);
  if (auto ec = p.associate(pair.client, client))
    return ::testing::AssertionFailure() << "associate client: " << describe(ec);
  if (auto ec = pair.client.connect(connect_op, address))
    return ::testing::AssertionFailure() << "connect: " << describe(ec);

  bool accepted = false;
  bool connected = false;
  for (int i = 0; i < 2; ++i) {
    proact::completion c;
    if (auto r = wait_one(p, c); !r) return r;
    if (c.op == &accept_op && !accepted) {
      if (c.error)
        return ::testing::AssertionFailure() << "accept completed with " << describe(c.error);
      accepted = true;
    } else if (c.op == &connect_op && !connected) {
      if (c.error)
        return ::testing::AssertionFailure() << "connect completed with " << describe(c.error);
      connected = true;
    } else {
      return ::testing::AssertionFailure() << "unexpected completion while connecting";
    }
  }
  if (!pair.server.is_open()) return ::testing::AssertionFailure() << "accepted socket not open";
  if (auto ec = p.associate(pair.server, server))
    return ::testing::AssertionFailure() << "associate server: " << describe(ec);
  return ::testing::AssertionSuccess();
}

bool ipv6_loopback_available(std::string& why) {
  proact::tcp_listener probe;
  if (auto ec = probe.listen(proact::endpoint::loopback(proact::address_family::ipv6, 0))) {
    why = "this machine cannot listen on [::1]: " + describe(ec);
    return false;
  }
  return true;
}

::testing::AssertionResult send_all(proact::port& p, proact::tcp_socket& s, const void* data,
                                    std::size_t size) {
  proact::operation op;
  if (auto ec = s.send(op, proact::const_buffer(data, size)))
    return ::testing::AssertionFailure() << "send: " << describe(ec);
  proact::completion c;
  if (auto r = wait_one(p, c); !r) return r;
  if (c.op != &op) return ::testing::AssertionFailure() << "a different completion arrived";
  if (c.error) return ::testing::AssertionFailure() << "send completed with " << describe(c.error);
  if (c.bytes != size)
    return ::testing::AssertionFailure() << "send completed with " << c.bytes << " of " << size;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult recv_exactly(proact::port& p, proact::tcp_socket& s, void* data,
                                        std::size_t size) {
  auto* bytes = static_cast<unsigned char*>(data);
  std::size_t got = 0;
  proact::operation op;
  while (got < size) {
    if (auto ec = s.recv(op, proact::buffer{bytes + got, size - got}))
      return ::testing::AssertionFailure() << "recv: " << describe(ec);
    proact::completion c;
    if (auto r = wait_one(p, c); !r) return r << " (after " << got << " of " << size << " bytes)";
    if (c.op != &op) return ::testing::AssertionFailure() << "a different completion arrived";
    if (c.error)
      return ::testing::AssertionFailure()
             << "recv completed with " << describe(c.error) << " after " << got << " bytes";
    if (c.bytes == 0 || c.bytes > size - got)
      return ::testing::AssertionFailure() << "recv completed with " << c.bytes << " bytes";
    got += c.bytes;
  }
  return ::testing::AssertionSuccess();
}

std::vector<unsigned char> pattern(std::size_t size, unsigned seed) {
  std::vector<unsigned char> v(size);
  for (std::size_t i = 0; i < size; ++i) v[i] = pattern_byte(i, seed);
  return v;
}

std::size_t first_mismatch(const unsigned char* data, std::size_t size, std::size_t offset,
                           unsigned seed) {
  for (std::size_t i = 0; i < size; ++i)
    if (data[i] != pattern_byte(offset + i, seed)) return i;
  return size;
}

// ---- fixtures --------------------------------------------------------------

namespace {
std::string& backend_unavailable_reason() {
  static std::string reason;
  return reason;
}
}  // namespace

void set_backend_unavailable(std::string reason) {
  backend_unavailable_reason() = std::move(reason);
}

void BackendTest::SetUp() {
  if (!backend_unavailable_reason().empty()) GTEST_SKIP() << backend_unavailable_reason();
}

void PortTest::SetUp() {
  BackendTest::SetUp();
  if (IsSkipped()) return;
  ASSERT_OK(port_.open(options()));
}

void PairTest::SetUp() {
  PortTest::SetUp();
  if (HasFatalFailure() || IsSkipped()) return;
  ASSERT_TRUE(connect_pair(port_, pair_));
}

std::size_t stress_operation_count() {
  const std::string value = environment_variable("PROACT_STRESS_OPERATIONS");
  if (!value.empty()) {
    const long long n = std::atoll(value.c_str());
    if (n > 0) return static_cast<std::size_t>(n);
  }
  // Wine is ~30x slower than native I/O, but 100,000 still takes ~5 s there.
  return 100000;
}

// ---- temporary files ---------------------------------------------------------

temp_directory::temp_directory() : path_(create_temp_directory(why_)) {}

temp_directory::~temp_directory() {
  if (path_.empty()) return;
  for (const std::string& f : files_) remove_file(f);
  if (!remove_directory(path_))
    std::printf("[   WARN   ] could not remove the temporary directory %s\n", path_.c_str());
}

std::string temp_directory::path(std::string_view name) {
  std::string p = path_ + "/" + std::string(name);
  files_.push_back(p);
  return p;
}

void FileTest::SetUp() {
  PortTest::SetUp();
  if (HasFatalFailure() || IsSkipped()) return;
  ASSERT_TRUE(dir_.ok()) << "no temporary directory: " << dir_.why();
}

::testing::AssertionResult FileTest::open_associated(proact::file& f, std::string_view name,
                                                     proact::file_mode mode, std::uintptr_t key) {
  const std::string path = dir_.path(name);
  if (auto ec = f.open(path, mode))
    return ::testing::AssertionFailure() << "open " << path << ": " << describe(ec);
  if (auto ec = port_.associate(f, key))
    return ::testing::AssertionFailure() << "associate " << path << ": " << describe(ec);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult FileTest::create_file(std::string_view name, const void* content,
                                                 std::size_t size) {
  proact::file f;
  using proact::file_mode;
  if (auto r = open_associated(f, name, file_mode::write | file_mode::create | file_mode::truncate);
      !r)
    return r;
  if (size != 0) {
    if (auto r = write_at_and_wait(port_, f, 0, content, size); !r) return r;
  }
  if (auto ec = f.close()) return ::testing::AssertionFailure() << "close: " << describe(ec);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult write_at_and_wait(proact::port& p, proact::file& f, std::uint64_t offset,
                                             const void* data, std::size_t size) {
  proact::operation op;
  if (auto ec = f.write_at(op, offset, proact::const_buffer(data, size)))
    return ::testing::AssertionFailure() << "write_at(" << offset << "): " << describe(ec);
  proact::completion c;
  if (auto r = wait_one(p, c); !r) return r << " (write_at " << offset << ")";
  if (c.op != &op) return ::testing::AssertionFailure() << "a different completion arrived";
  if (c.error)
    return ::testing::AssertionFailure()
           << "write_at(" << offset << ") completed with " << describe(c.error);
  if (c.bytes != size)
    return ::testing::AssertionFailure()
           << "write_at(" << offset << ") wrote " << c.bytes << " of " << size;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult read_at_and_wait(proact::port& p, proact::file& f, std::uint64_t offset,
                                            void* data, std::size_t size, proact::completion& out) {
  proact::operation op;
  if (auto ec = f.read_at(op, offset, proact::buffer{data, size}))
    return ::testing::AssertionFailure() << "read_at(" << offset << "): " << describe(ec);
  if (auto r = wait_one(p, out); !r) return r << " (read_at " << offset << ")";
  if (out.op != &op) return ::testing::AssertionFailure() << "a different completion arrived";
  return ::testing::AssertionSuccess();
}

// ---- UDP -------------------------------------------------------------------------

::testing::AssertionResult open_udp_on_loopback(proact::port& p, proact::udp_socket& s,
                                                proact::endpoint& address,
                                                proact::address_family family, std::uintptr_t key) {
  if (auto ec = s.open(family)) return ::testing::AssertionFailure() << "open: " << describe(ec);
  if (auto ec = s.bind(proact::endpoint::loopback(family, 0)))
    return ::testing::AssertionFailure() << "bind: " << describe(ec);
  std::error_code ec;
  address = s.local_endpoint(ec);
  if (ec) return ::testing::AssertionFailure() << "local_endpoint: " << describe(ec);
  if (address.port() == 0) return ::testing::AssertionFailure() << "UDP socket has port 0";
  if (auto e = p.associate(s, key))
    return ::testing::AssertionFailure() << "associate: " << describe(e);
  return ::testing::AssertionSuccess();
}

// ---- TCP across two ports ---------------------------------------------------------

::testing::AssertionResult connect_split_pair(proact::port& client_port, proact::port& server_port,
                                              tcp_pair& pair, std::uintptr_t client,
                                              std::uintptr_t server,
                                              proact::address_family family) {
  proact::tcp_listener listener;
  proact::endpoint address;
  if (auto r = listen_on_loopback(server_port, listener, address, family); !r) return r;
  proact::operation accept_op;
  if (auto ec = listener.accept(accept_op, pair.server))
    return ::testing::AssertionFailure() << "accept: " << describe(ec);
  if (auto ec = pair.client.open(family))
    return ::testing::AssertionFailure() << "open: " << describe(ec);
  if (auto ec = client_port.associate(pair.client, client))
    return ::testing::AssertionFailure() << "associate client: " << describe(ec);
  proact::operation connect_op;
  if (auto ec = pair.client.connect(connect_op, address))
    return ::testing::AssertionFailure() << "connect: " << describe(ec);
  proact::completion c;
  if (auto r = wait_one(client_port, c); !r) return r << " (connect)";
  if (c.op != &connect_op)
    return ::testing::AssertionFailure() << "another completion arrived instead of the connect's";
  if (c.error)
    return ::testing::AssertionFailure() << "connect completed with " << describe(c.error);
  if (auto r = wait_one(server_port, c); !r) return r << " (accept)";
  if (c.op != &accept_op)
    return ::testing::AssertionFailure() << "another completion arrived instead of the accept's";
  if (c.error)
    return ::testing::AssertionFailure() << "accept completed with " << describe(c.error);
  if (auto ec = server_port.associate(pair.server, server))
    return ::testing::AssertionFailure() << "associate server: " << describe(ec);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult recv_until_eof(proact::port& p, proact::tcp_socket& s,
                                          std::vector<unsigned char>& out, proact::timeout t) {
  const auto deadline = clock_type::now() + t;
  std::vector<unsigned char> chunk(std::size_t{256} * 1024);
  proact::operation op;
  for (;;) {
    if (auto ec = s.recv(op, proact::buffer{chunk.data(), chunk.size()}))
      return ::testing::AssertionFailure() << "recv: " << describe(ec);
    const auto left = std::chrono::duration_cast<proact::timeout>(deadline - clock_type::now());
    proact::completion c;
    if (auto r = wait_one(p, c, left.count() > 0 ? left : proact::timeout::zero()); !r)
      return r << " (after " << out.size() << " bytes)";
    if (c.op != &op) return ::testing::AssertionFailure() << "a different completion arrived";
    if (c.error == proact::errc::eof) {
      if (c.bytes != 0) return ::testing::AssertionFailure() << "eof with " << c.bytes << " bytes";
      return ::testing::AssertionSuccess();
    }
    if (c.error)
      return ::testing::AssertionFailure()
             << "recv completed with " << describe(c.error) << " after " << out.size() << " bytes";
    if (c.bytes == 0) return ::testing::AssertionFailure() << "0 bytes without eof";
    out.insert(out.end(), chunk.data(), chunk.data() + c.bytes);
  }
}

// ---- progress while another port is driven ------------------------------------------

waiter_thread::waiter_thread(proact::port& p, std::size_t n, proact::timeout t)
    : thread_([this, &p, n, t] {
        if (auto r = wait_n(p, n, got_, t); !r) failure_ = r.message();
      }) {}

waiter_thread::~waiter_thread() {
  if (thread_.joinable()) thread_.join();
}

::testing::AssertionResult waiter_thread::join(std::vector<proact::completion>& out) {
  thread_.join();
  out = got_;
  if (!failure_.empty()) return ::testing::AssertionFailure() << failure_;
  return ::testing::AssertionSuccess();
}

// ---- a connect that stays pending --------------------------------------------------

bool full_listener::open(proact::address_family family, std::string& why) {
  if (auto ec = port_.open(options())) {
    why = "port: " + describe(ec);
    return false;
  }
  if (auto ec = listener_.listen(proact::endpoint::loopback(family, 0), 0)) {
    why = "listen with backlog 0: " + describe(ec);
    return false;
  }
  std::error_code ec;
  address_ = listener_.local_endpoint(ec);
  if (ec) {
    why = "local_endpoint: " + describe(ec);
    return false;
  }
  // Connect until one stays pending: the accept queue is then full.
  constexpr std::size_t most = 16;
  fillers_.reserve(most);
  for (std::size_t i = 0; i < most; ++i) {
    proact::tcp_socket& s = fillers_.emplace_back();
    proact::operation op;
    if ((ec = s.open(family)) || (ec = port_.associate(s, i)) || (ec = s.connect(op, address_))) {
      why = "filler connect: " + describe(ec);
      return false;
    }
    proact::completion c;
    ec = port_.wait(c, proact::timeout{300});
    if (ec == proact::errc::timed_out) {
      // Pending: the queue is full. Withdraw this one.
      (void)s.close();
      ec = port_.wait(c, must_happen_within);
      if (ec) {
        why = "the pending filler connect did not complete on close: " + describe(ec);
        return false;
      }
      fillers_.pop_back();
      return true;
    }
    if (ec || c.error) {
      why = "a connect to a listener with backlog 0 failed (" + describe(ec ? ec : c.error) +
            ") instead of staying pending";
      return false;
    }
  }
  why = std::to_string(most) +
        " connects to a listener with backlog 0 all completed: its accept queue never fills here";
  return false;
}

bool connect_stays_pending(proact::port& p, proact::tcp_socket& s, proact::operation& op,
                           const proact::endpoint& target, std::string& why) {
  if (auto ec = s.connect(op, target)) {
    why = "connect refused at start: " + describe(ec);
    return false;
  }
  proact::completion c;
  const std::error_code ec = p.wait(c, proact::timeout{200});
  if (ec == proact::errc::timed_out) return true;
  why = ec ? "wait: " + describe(ec) : "the connect completed at once with " + describe(c.error);
  return false;
}

}  // namespace proact_test
