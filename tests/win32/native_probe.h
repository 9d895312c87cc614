// What Linux holds for one of the layer's sockets, read from its native
// descriptor (Linux only, beside documented.cpp). A SOCKET of the layer is
// not a descriptor and the layer gives none out, so the descriptor is found
// among the process's own (/proc/self/fd) by its local and peer ports. This
// header names no POSIX type: its includer has <proact/win32.h>.
#pragma once

namespace native_probe {

struct keep_alive {
  bool found = false;  // a connected TCP descriptor with those ports
  int on = -1;         // SO_KEEPALIVE
  int idle = -1;       // TCP_KEEPIDLE, seconds
  int interval = -1;   // TCP_KEEPINTVL, seconds
  int probes = -1;     // TCP_KEEPCNT
};

// The connected IPv4 TCP descriptor whose local port is `local_port` and
// peer port `peer_port` (host order).
keep_alive keep_alive_of(unsigned short local_port, unsigned short peer_port);

}  // namespace native_probe
