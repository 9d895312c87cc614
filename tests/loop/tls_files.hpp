// Certificates for the TLS tests, made once per test run with the `openssl`
// command line in a temporary directory: a CA, a server certificate it signed
// for "localhost" and 127.0.0.1, and an unrelated CA.
#pragma once

#include <string>

namespace proact_test {

struct tls_files {
  std::string error;  // why there are none (the test then skips with it)
  std::string dir;
  std::string ca;        // PEM: the CA that signed `cert`
  std::string cert;      // PEM: the server's certificate (localhost, 127.0.0.1)
  std::string key;       // PEM: its key
  std::string other_ca;  // PEM: a CA that signed nothing here
};

const tls_files& tls_test_files();

// Runs a shell command line; true if it exited with 0.
bool run_command(const std::string& command);

}  // namespace proact_test
