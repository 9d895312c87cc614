#include "tls_files.hpp"

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace proact_test {

bool run_command(const std::string& command) {
  return std::system(command.c_str()) == 0;
}

namespace {

// The driver's files (PROACT_TLS_TEST_DIR), if it made them.
bool driver_files(tls_files& f) {
  const char* dir = std::getenv("PROACT_TLS_TEST_DIR");
  if (dir == nullptr || *dir == '\0') return false;
  f.dir = dir;
  f.ca = f.dir + "/ca.pem";
  f.cert = f.dir + "/server.pem";
  f.key = f.dir + "/server.key";
  f.other_ca = f.dir + "/other-ca.pem";
  f.pfx = f.dir + "/server.pfx";
  return true;
}

#ifdef _WIN32
tls_files make_files() {
  tls_files f;
  if (!driver_files(f))
    f.error =
        "PROACT_TLS_TEST_DIR is not set: under Windows the test certificates come from the "
        "test driver (tests/tls/tls_peer.sh, run by ctest), which makes them with openssl";
  return f;
}
#else
tls_files make_files() {
  tls_files f;
  if (driver_files(f)) return f;
  if (!run_command("openssl version > /dev/null 2>&1")) {
    f.error =
        "the openssl command-line tool is not installed (Debian: openssl); it makes the "
        "test certificates";
    return f;
  }
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("proact-tls-" + std::to_string(rd()) + std::to_string(rd()));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    f.error = "cannot create " + dir.string() + ": " + ec.message();
    return f;
  }
  f.dir = dir.string();
  f.ca = (dir / "ca.pem").string();
  f.cert = (dir / "server.pem").string();
  f.key = (dir / "server.key").string();
  f.other_ca = (dir / "other-ca.pem").string();
  const std::string d = "'" + f.dir + "'";
  const std::string quiet = " > /dev/null 2>&1";
  const std::string ec_key = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  const bool ok =
      run_command("cd " + d + " && openssl req -x509" + ec_key +
                  " -keyout ca.key -out ca.pem -days 2 -subj /CN=proact-test-ca" + quiet) &&
      run_command("cd " + d + " && openssl req -x509" + ec_key +
                  " -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=proact-other-ca" +
                  quiet) &&
      run_command("cd " + d + " && openssl req" + ec_key +
                  " -keyout server.key -out server.csr -subj /CN=localhost" + quiet) &&
      run_command("cd " + d +
                  " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n"
                  "basicConstraints=CA:FALSE\\n' > ext.cnf && openssl x509 -req -in server.csr "
                  "-CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
                  "-extfile ext.cnf" +
                  quiet);
  if (!ok) f.error = "openssl could not make the test certificates in " + f.dir;
  return f;
}
#endif

}  // namespace

// Removed at exit, if the test made them.
struct owned_files {
  tls_files files = make_files();
  owned_files() = default;
  owned_files(const owned_files&) = delete;
  owned_files& operator=(const owned_files&) = delete;
  ~owned_files() {
    std::error_code ec;
    if (!files.dir.empty() && std::getenv("PROACT_TLS_TEST_DIR") == nullptr)
      std::filesystem::remove_all(files.dir, ec);
  }
};

const tls_files& tls_test_files() {
  static const owned_files owned;
  return owned.files;
}

void use_server_identity(proact::tls_options& o, const tls_files& f) {
#ifdef _WIN32
  o.certificate_file = f.pfx;
  o.private_key_file.clear();
#else
  o.certificate_file = f.cert;
  o.private_key_file = f.key;
#endif
}

}  // namespace proact_test
