#include "tls_files.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace bench {
namespace {

struct deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(std::FILE* f) const { std::fclose(f); }
};
template <class T>
using owned = std::unique_ptr<T, deleter>;

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

std::string make(const std::string& cert_path, const std::string& key_path) {
  owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  owned<X509> cert(X509_new());
  if (!key || !cert) return "cannot make a key";
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(kTlsHost), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return "cannot sign the certificate";
  }
  owned<std::FILE> c(std::fopen(cert_path.c_str(), "w"));
  owned<std::FILE> k(std::fopen(key_path.c_str(), "w"));
  if (!c || !k || PEM_write_X509(c.get(), cert.get()) != 1 ||
      PEM_write_PrivateKey(k.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return "cannot write " + cert_path + " or " + key_path;
  }
  return {};
}

std::string dir_to_remove;
void remove_dir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_to_remove, ec);
}

tls_files create() {
  tls_files f;
  std::error_code ec;
  const auto dir =
      std::filesystem::temp_directory_path(ec) / ("proact-bench-tls-" + std::to_string(::getpid()));
  if (ec || !std::filesystem::create_directories(dir, ec)) {
    f.error = "cannot create a temporary directory for the certificate";
    return f;
  }
  dir_to_remove = dir.string();
  std::atexit(remove_dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  f.error = make(cert, key);
  if (f.error.empty()) {
    f.cert = cert;
    f.key = key;
  }
  return f;
}

}  // namespace

const tls_files& bench_tls_files() {
  static const tls_files files = create();
  return files;
}

}  // namespace bench
