// See native_probe.h. Its own file: it needs the POSIX socket headers,
// which <proact/win32.h> (documented.cpp's) replaces.
#include "native_probe.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

namespace native_probe {

namespace {

int option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, level, name, &value, &length) != 0) return -1;
  return value;
}

bool has_ports(int fd, unsigned short local_port, unsigned short peer_port) {
  sockaddr_in local{};
  sockaddr_in peer{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return false;
  if (local.sin_family != AF_INET || ntohs(local.sin_port) != local_port) return false;
  length = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return false;
  return ntohs(peer.sin_port) == peer_port;
}

}  // namespace

keep_alive keep_alive_of(unsigned short local_port, unsigned short peer_port) {
  keep_alive k;
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return k;
  const int own = ::dirfd(fds);
  while (const dirent* entry = ::readdir(fds)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;
    const int descriptor = static_cast<int>(fd);
    if (option(descriptor, SOL_SOCKET, SO_TYPE) != SOCK_STREAM) continue;
    if (!has_ports(descriptor, local_port, peer_port)) continue;
    k.found = true;
    k.on = option(descriptor, SOL_SOCKET, SO_KEEPALIVE);
    k.idle = option(descriptor, IPPROTO_TCP, TCP_KEEPIDLE);
    k.interval = option(descriptor, IPPROTO_TCP, TCP_KEEPINTVL);
    k.probes = option(descriptor, IPPROTO_TCP, TCP_KEEPCNT);
    break;
  }
  ::closedir(fds);
  return k;
}

}  // namespace native_probe
