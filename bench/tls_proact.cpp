// tls_pingpong/proact-loop-<backend>: proact's tls_stream over tcp_socket on
// each Linux backend, through the loop, callback_op handlers as in
// proact_loop.cpp's ping-pong. The same certificate, trust and host-name
// check as Asio's (tls_asio.cpp); the handshakes and one round happen before
// timing.
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "harness.hpp"
#include "impls.hpp"
#include "proact/proact.hpp"
#include "proact/tls.hpp"
#include "proact_common.hpp"
#include "tls_files.hpp"

namespace {

using bench::fail;
using proact::make_buffer;

void note(std::error_code& error, std::error_code ec) {
  if (ec && !error) error = ec;
}

struct tls_conn {
  std::unique_ptr<proact::tls_stream> client, server;
  proact::callback_op client_send, client_recv, server_send, server_recv;
  std::size_t client_got = 0, server_got = 0;
};

class tls_pingpong_session {
 public:
  tls_pingpong_session(benchmark::State& state, std::size_t conns, std::size_t size)
      : state_(state), bufs_(conns, size), conns_(conns), pairs_(conns) {}

  ~tls_pingpong_session() {
    // The streams go before the loop stops: closing them completes their
    // pending receives (aborted) while the handlers' state still exists.
    for (auto& c : conns_) {
      c.client.reset();
      c.server.reset();
    }
    lp_.reset();
  }

  bool setup(proact::backend_kind backend) {
    const bench::tls_files& files = bench::bench_tls_files();
    if (bench::fail_if(state_, !files.error.empty(), files.error)) return false;
    proact::tls_options server_options;
    server_options.role = proact::tls_role::server;
    server_options.certificate_file = files.cert;
    server_options.private_key_file = files.key;
    server_options.verify_peer = false;
    proact::tls_options client_options;
    client_options.ca_file = files.cert;
    if (fail(state_, "tls_context", server_ctx_.open(server_options)) ||
        fail(state_, "tls_context", client_ctx_.open(client_options))) {
      return false;
    }
    proact::loop_options o;
    o.backend = backend;
    o.concurrency = 1;
    o.threads = 1;
    try {
      lp_ = std::make_unique<proact::loop>(o);
    } catch (const std::system_error& e) {
      (void)fail(state_, "loop", e.code());
      return false;
    }
    int done = 0;
    proact::callback_op accept_op([&](std::size_t, std::error_code ec) {
      note(error_, ec);
      ++done;
    });
    proact::callback_op connect_op([&](std::size_t, std::error_code ec) {
      note(error_, ec);
      ++done;
    });
    const auto associate = [this](proact::handle& h, std::uintptr_t) { return lp_->associate(h); };
    proact::tcp_listener listener;
    proact::endpoint address;
    if (!bench::listen_loopback(state_, listener, address, associate) ||
        !bench::connect_pairs(state_, listener, address, accept_op, connect_op, pairs_, associate,
                              [&] {
                                const int target = done + 2;
                                return run_until([&] { return done >= target; });
                              })) {
      return false;
    }
    // The handshakes, all at once, before timing.
    int shaken = 0;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      auto& c = conns_[i];
      c.client = std::make_unique<proact::tls_stream>(*lp_, pairs_[i].client, client_ctx_);
      c.server = std::make_unique<proact::tls_stream>(*lp_, pairs_[i].server, server_ctx_);
      const auto count = [&](std::size_t, std::error_code ec) {
        note(error_, ec);
        ++shaken;
      };
      c.client_recv.set_handler(count);
      c.server_recv.set_handler(count);
      if (fail(state_, "set_host_name", c.client->set_host_name(bench::kTlsHost)) ||
          fail(state_, "handshake", c.server->handshake(c.server_recv)) ||
          fail(state_, "handshake", c.client->handshake(c.client_recv))) {
        return false;
      }
    }
    if (!run_until([&] { return shaken == 2 * static_cast<int>(conns_.size()); })) return false;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      set_handlers(i);
      if (fail(state_, "recv", server_recv(i))) return false;
    }
    // One round before timing: the sessions' buffers reach their size.
    return round();
  }

  bool round() {
    done_ = 0;
    sending_ = conns_.size();
    const std::size_t size = bufs_.size();
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      auto& c = conns_[i];
      c.client_got = 0;
      if (fail(state_, "recv", c.client->recv(c.client_recv, make_buffer(bufs_.client(i), size))) ||
          fail(state_, "send", c.client->send(c.client_send, bufs_.ping()))) {
        return false;
      }
    }
    return run_until([this] { return done_ == conns_.size() && sending_ == 0; });
  }

 private:
  template <class Done>
  bool run_until(Done&& done) {
    while (!done()) {
      if (lp_->run_one() == 0)
        return !fail(state_, "run_one", make_error_code(proact::error::port_closed));
      if (error_) break;
    }
    return !fail(state_, "handler", error_);
  }

  // The server reads a whole message and sends it back, again and again;
  // the client's end counts what came back.
  void set_handlers(std::size_t i) {
    auto& c = conns_[i];
    c.server_recv.set_handler([this, i](std::size_t bytes, std::error_code ec) {
      if (ec) {
        if (ec != proact::errc::operation_aborted) note(error_, ec);  // the end
        return;
      }
      auto& cc = conns_[i];
      cc.server_got += bytes;
      const std::size_t size = bufs_.size();
      char* buf = bufs_.server(i);
      note(error_, cc.server_got < size
                       ? cc.server->recv(cc.server_recv,
                                         make_buffer(buf + cc.server_got, size - cc.server_got))
                       : cc.server->send(cc.server_send, make_buffer(buf, size)));
    });
    c.server_send.set_handler([this, i](std::size_t, std::error_code ec) {
      if (ec) return note(error_, ec);
      conns_[i].server_got = 0;
      note(error_, server_recv(i));
    });
    c.client_recv.set_handler([this, i](std::size_t bytes, std::error_code ec) {
      if (ec) return note(error_, ec);
      auto& cc = conns_[i];
      cc.client_got += bytes;
      const std::size_t size = bufs_.size();
      if (cc.client_got < size) {
        note(error_, cc.client->recv(cc.client_recv, make_buffer(bufs_.client(i) + cc.client_got,
                                                                 size - cc.client_got)));
      } else {
        ++done_;
      }
    });
    c.client_send.set_handler([this](std::size_t, std::error_code ec) {
      note(error_, ec);
      --sending_;
    });
  }
  std::error_code server_recv(std::size_t i) {
    return conns_[i].server->recv(conns_[i].server_recv,
                                  make_buffer(bufs_.server(i), bufs_.size()));
  }

  benchmark::State& state_;
  proact::tls_context server_ctx_, client_ctx_;
  bench::pingpong_buffers bufs_;
  std::vector<tls_conn> conns_;
  std::vector<bench::tcp_pair> pairs_;
  std::size_t done_ = 0, sending_ = 0;
  std::error_code error_;
  std::unique_ptr<proact::loop> lp_;
};

void tls_pingpong(benchmark::State& state, proact::backend_kind backend, int conns,
                  std::size_t size) {
  tls_pingpong_session session(state, static_cast<std::size_t>(conns), size);
  if (!session.setup(backend)) return;
  bench::drive(state, bench::pingpong_spec(conns), [&] { return session.round(); });
}

}  // namespace

namespace bench {

void register_tls_proact() {
  for (const auto backend : kProactBackends) {
    const std::string impl = proact_impl_name("proact-loop-", backend);
    if (impl.empty()) continue;
    add_tls_pingpong_grid(impl, [backend](benchmark::State& s, int conns, std::size_t size) {
      tls_pingpong(s, backend, conns, size);
    });
  }
}

}  // namespace bench
