// The hand-written epoll echo server: the floor the example echo server is
// compared with out of process. One thread, level-triggered epoll,
// non-blocking sockets; a connection's bytes are written back as soon as
// they are read (what a write cannot take now waits for EPOLLOUT).
//
//   proact-bench-echo-epoll [PORT]     prints "listening on 127.0.0.1:PORT"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "echo_common.hpp"

namespace {

struct connection {
  int fd;
  char data[16384];
  std::size_t pending = 0;  // bytes read and not yet written back
  std::size_t written = 0;
};

bool flush(connection& c) {  // false: the connection is done
  while (c.written < c.pending) {
    const ssize_t n = ::send(c.fd, c.data + c.written, c.pending - c.written, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN;
    c.written += static_cast<std::size_t>(n);
  }
  c.pending = c.written = 0;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int listener = echo::listen_loopback(argc > 1 ? std::atoi(argv[1]) : 0);
  if (listener < 0) return 1;
  const int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  epoll_event events[256];
  while (!echo::stop_requested()) {
    const int n = ::epoll_wait(ep, events, 256, 200);
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<connection*>(events[i].data.ptr);
      if (c == nullptr) {
        for (;;) {
          const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          echo::no_delay(fd);
          auto* fresh = new connection{fd, {}};
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.ptr = fresh;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      bool open = true;
      if (c->pending != 0) {  // EPOLLOUT: the rest of an echo
        open = flush(*c);
        if (open && c->pending == 0) {
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.ptr = c;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
        }
      } else {
        const ssize_t got = ::recv(c->fd, c->data, sizeof(c->data), 0);
        if (got <= 0) {
          open = got < 0 && errno == EAGAIN;
        } else {
          c->pending = static_cast<std::size_t>(got);
          open = flush(*c);
          if (open && c->pending != 0) {
            epoll_event cev{};
            cev.events = EPOLLOUT;
            cev.data.ptr = c;
            ::epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
          }
        }
      }
      if (!open) {
        ::close(c->fd);
        delete c;
      }
    }
  }
  return 0;
}
