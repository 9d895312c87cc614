#include "fixture.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

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
    case proact::errc::file_exists:
      return "file_exists";
    case proact::errc::operation_not_supported:
      return "operation_not_supported";
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

}  // namespace proact_test
