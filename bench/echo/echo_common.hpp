// What the out-of-process echo servers written for the benchmark share: a
// loopback listener announced the way the example echo server announces
// its own, and a stop on SIGTERM/SIGINT.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

namespace echo {

inline volatile std::sig_atomic_t stop_flag = 0;

inline bool stop_requested() {
  return stop_flag != 0;
}

inline void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// A non-blocking listener on 127.0.0.1:port (0: the system chooses), and
// "listening on 127.0.0.1:PORT" on stdout; -1 on failure. Installs the stop
// handlers.
inline int listen_loopback(int port) {
  struct sigaction sa {};
  sa.sa_handler = [](int) { stop_flag = 1; };
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<unsigned short>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 4096) != 0) {
    std::perror("listen");
    return -1;
  }
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  std::fflush(stdout);
  return fd;
}

}  // namespace echo
