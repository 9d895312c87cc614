// HTTPS: the same conversation as plain.cpp over a proact::tls_stream.
// Where the library has no TLS engine, open() says so.
#pragma once

#include <memory>
#include <string>

#include "proact/proact.hpp"
#include "server.hpp"

namespace http {

class https {
 public:
  https();
  https(const https&) = delete;
  https& operator=(const https&) = delete;
  ~https();

  // Loads the certificate chain (leaf first) and its private key, PEM.
  // False, with the reason in `why`, if they cannot be used.
  bool open(const std::string& certificate_file, const std::string& key_file, std::string& why);

  // The handshake must complete within the header timeout; then requests
  // are answered as over plain TCP. `s` is connected and associated with
  // srv.lp.
  proact::task<void> serve(proact::tcp_socket s, server& srv);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace http
