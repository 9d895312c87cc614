// tls_pingpong/asio: Asio's ssl::stream over tcp::socket, on the same
// OpenSSL, certificate, trust and host-name check as proact's
// (tls_proact.cpp), written as peer_asio.cpp's ping-pong: async_read and
// async_write of whole messages, run_one() to drive. The handshakes and one
// round happen before timing.
#include <asio.hpp>
#include <asio/ssl.hpp>

#include <memory>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"
#include "tls_files.hpp"

namespace {

using asio::ip::tcp;
using bench::fail;
using work_guard = asio::executor_work_guard<asio::io_context::executor_type>;
using tls_socket = asio::ssl::stream<tcp::socket>;

struct tls_conn {
  tls_conn(asio::io_context& ioc, asio::ssl::context& client_ctx, asio::ssl::context& server_ctx)
      : client(ioc, client_ctx), server(ioc, server_ctx) {}
  tls_socket client, server;
  char* client_buf = nullptr;
  char* server_buf = nullptr;
};

class tls_pingpong_session {
 public:
  tls_pingpong_session(benchmark::State& state, std::size_t size) : state_(state), size_(size) {}

  bool setup(int conns) {
    const bench::tls_files& files = bench::bench_tls_files();
    if (bench::fail_if(state_, !files.error.empty(), files.error)) return false;
    std::error_code ec;
    server_ctx_.use_certificate_chain_file(files.cert, ec);
    if (!ec) server_ctx_.use_private_key_file(files.key, asio::ssl::context::pem, ec);
    if (!ec) client_ctx_.load_verify_file(files.cert, ec);
    if (!ec) client_ctx_.set_verify_mode(asio::ssl::verify_peer, ec);
    if (!ec)
      client_ctx_.set_verify_callback(asio::ssl::host_name_verification(bench::kTlsHost), ec);
    if (fail(state_, "ssl::context", ec)) return false;

    const auto n = static_cast<std::size_t>(conns);
    tcp::acceptor acceptor(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto address = acceptor.local_endpoint();
    ping_.assign(size_, 'x');
    bufs_.resize(2 * n * size_);
    conns_.reserve(n);
    std::size_t shaken = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto& c = *conns_.emplace_back(std::make_unique<tls_conn>(ioc_, client_ctx_, server_ctx_));
      c.client.lowest_layer().connect(address, ec);
      if (!ec) acceptor.accept(c.server.lowest_layer(), ec);
      if (!ec) c.client.lowest_layer().set_option(tcp::no_delay(true), ec);
      if (!ec) c.server.lowest_layer().set_option(tcp::no_delay(true), ec);
      if (fail(state_, "connect/accept", ec)) return false;
      if (SSL_set_tlsext_host_name(c.client.native_handle(), bench::kTlsHost) != 1) {
        return !bench::fail_if(state_, true, "SNI");
      }
      c.client_buf = &bufs_[2 * i * size_];
      c.server_buf = &bufs_[(2 * i + 1) * size_];
      const auto count = [this, &shaken](std::error_code e) {
        if (e) error_ = e;
        ++shaken;
      };
      c.server.async_handshake(asio::ssl::stream_base::server, count);
      c.client.async_handshake(asio::ssl::stream_base::client, count);
    }
    if (!run_until([&] { return shaken == 2 * n; })) return false;
    for (auto& c : conns_) serve(*c);
    // One round before timing: the sessions' buffers reach their size.
    return round();
  }

  bool round() {
    done_ = 0;
    sending_ = conns_.size();
    for (auto& p : conns_) {
      auto& c = *p;
      asio::async_read(c.client, asio::buffer(c.client_buf, size_),
                       [this](std::error_code ec, std::size_t) {
                         if (ec) error_ = ec;
                         ++done_;
                       });
      asio::async_write(c.client, asio::buffer(ping_.data(), size_),
                        [this](std::error_code ec, std::size_t) {
                          if (ec) error_ = ec;
                          --sending_;
                        });
    }
    return run_until([this] { return done_ == conns_.size() && sending_ == 0; });
  }

 private:
  template <class Done>
  bool run_until(Done&& done) {
    while (!done()) {
      if (ioc_.run_one() == 0) return !fail(state_, "run_one", asio::error::shut_down);
      if (error_) return !fail(state_, "handler", error_);
    }
    return true;
  }

  // The server end: read a whole message, write it back, again.
  void serve(tls_conn& c) {
    asio::async_read(c.server, asio::buffer(c.server_buf, size_),
                     [this, &c](std::error_code ec, std::size_t) {
                       if (ec) {
                         if (ec != asio::error::operation_aborted) error_ = ec;
                         return;
                       }
                       asio::async_write(c.server, asio::buffer(c.server_buf, size_),
                                         [this, &c](std::error_code wec, std::size_t) {
                                           if (wec) {
                                             error_ = wec;
                                             return;
                                           }
                                           serve(c);
                                         });
                     });
  }

  benchmark::State& state_;
  std::size_t size_;
  asio::ssl::context server_ctx_{asio::ssl::context::tls_server};
  asio::ssl::context client_ctx_{asio::ssl::context::tls_client};
  asio::io_context ioc_{1};
  work_guard guard_{ioc_.get_executor()};
  std::vector<char> ping_, bufs_;
  std::vector<std::unique_ptr<tls_conn>> conns_;
  std::size_t done_ = 0, sending_ = 0;
  std::error_code error_;
};

void tls_pingpong(benchmark::State& state, int conns, std::size_t size) {
  tls_pingpong_session session(state, size);
  if (!session.setup(conns)) return;
  bench::drive(state, {conns, 4 * static_cast<std::int64_t>(conns), 0, conns == 1},
               [&] { return session.round(); });
}

}  // namespace

namespace bench {

void register_tls_asio() {
  add_tls_pingpong_grid("asio", tls_pingpong);
}

}  // namespace bench
