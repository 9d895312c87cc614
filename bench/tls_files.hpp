// The TLS ping-pong's certificate: one self-signed P-256 certificate for
// "localhost", made with OpenSSL's API on first use and written as PEM to a
// temporary directory (removed at exit), so that proact's tls_context and
// Asio's ssl::context load the very same files.
#pragma once

#include <string>

namespace bench {

struct tls_files {
  std::string cert;   // PEM certificate (also the clients' trust anchor)
  std::string key;    // PEM private key
  std::string error;  // why there are none (then cert and key are empty)
};

const tls_files& bench_tls_files();

// The name in the certificate, which the clients verify.
inline constexpr const char* kTlsHost = "localhost";

}  // namespace bench
