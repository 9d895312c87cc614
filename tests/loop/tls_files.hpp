// Certificates for the TLS tests: a CA, a server certificate it signed for
// "localhost" and 127.0.0.1, and an unrelated CA. Made once per test run with
// the `openssl` command line in a temporary directory, or, where the test
// driver made them (PROACT_TLS_TEST_DIR, tests/tls/tls_peer.sh: the Windows
// build under Wine cannot run the Linux openssl), taken from there.
#pragma once

#include <string>

#include "proact/tls.hpp"

namespace proact_test {

struct tls_files {
  std::string error;  // why there are none (the test then skips with it)
  std::string dir;
  std::string ca;        // PEM: the CA that signed `cert`
  std::string cert;      // PEM: the server's certificate (localhost, 127.0.0.1)
  std::string key;       // PEM: its key
  std::string other_ca;  // PEM: a CA that signed nothing here
  std::string pfx;       // PKCS#12: `cert` and `key`, no password (Windows' form)
};

const tls_files& tls_test_files();

// Sets `o`'s certificate (and key) to the server's, in the form this
// platform's engine takes: PEM files on Linux, the PFX on Windows.
void use_server_identity(proact::tls_options& o, const tls_files& f);

// Runs a shell command line; true if it exited with 0.
bool run_command(const std::string& command);

}  // namespace proact_test
