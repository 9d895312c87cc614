// Plain HTTP over a connected, associated tcp_socket.
#pragma once

#include "proact/proact.hpp"
#include "server.hpp"

namespace http {

proact::task<void> serve_plain(proact::tcp_socket s, server& srv);

}  // namespace http
