#include "operations.hpp"

#include "platform.hpp"

namespace proact_test {

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
  std::vector<unsigned char> chunk(256 * 1024);
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
