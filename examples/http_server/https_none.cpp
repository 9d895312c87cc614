// https for a library built without a TLS engine.
#include "https.hpp"

namespace http {

struct https::state {};

https::https() = default;
https::~https() = default;

bool https::open(const std::string&, const std::string&, std::string& why) {
  why = "this build of proact has no TLS engine";
  return false;
}

proact::task<void> https::serve(proact::tcp_socket, server&) {
  co_return;
}

}  // namespace http
