// The load client of the out-of-process echo comparison: CONNS connections
// to one echo server, each with one SIZE-byte message in flight (sent again
// as soon as its echo is back whole). One thread, epoll. After WARMUP
// seconds it prints "measuring", then after SECONDS "round_trips N seconds
// S"; the driver (run_echo.py) reads the server's CPU time at both lines.
//
//   proact-bench-echo-load PORT CONNS SIZE WARMUP SECONDS
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

struct connection {
  int fd = -1;
  std::size_t received = 0;  // of the echo in flight
};

bool send_message(int fd, const std::vector<char>& message) {
  std::size_t sent = 0;
  while (sent < message.size()) {  // SIZE fits the socket buffer: no real wait
    const ssize_t n = ::send(fd, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return false;
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s PORT CONNS SIZE WARMUP SECONDS\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int conns = std::atoi(argv[2]);
  const std::size_t size = std::strtoul(argv[3], nullptr, 10);
  const double warmup = std::atof(argv[4]);
  const double seconds = std::atof(argv[5]);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<unsigned short>(port));
  const int ep = ::epoll_create1(0);
  std::vector<connection> cs(static_cast<std::size_t>(conns));
  const std::vector<char> message(size, 'x');
  for (connection& c : cs) {
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      std::perror("connect");
      return 1;
    }
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::fcntl(c.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  for (connection& c : cs)
    if (!send_message(c.fd, message)) return 1;

  using clock = std::chrono::steady_clock;
  const auto begin = clock::now();
  auto window_start = begin;
  bool measuring = false;
  std::uint64_t round_trips = 0;
  std::vector<char> sink(65536);
  epoll_event events[512];
  for (;;) {
    const auto now = clock::now();
    if (!measuring && now - begin >= std::chrono::duration<double>(warmup)) {
      measuring = true;
      round_trips = 0;
      window_start = now;
      std::printf("measuring\n");
      std::fflush(stdout);
    }
    if (measuring && now - window_start >= std::chrono::duration<double>(seconds)) break;
    const int n = ::epoll_wait(ep, events, 512, 100);
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<connection*>(events[i].data.ptr);
      const ssize_t got = ::recv(c.fd, sink.data(), sink.size(), 0);
      if (got == 0 || (got < 0 && errno != EAGAIN)) {
        std::fprintf(stderr, "echo_load: the server closed a connection\n");
        return 1;
      }
      if (got < 0) continue;
      c.received += static_cast<std::size_t>(got);
      if (c.received >= size) {
        c.received -= size;
        ++round_trips;
        if (!send_message(c.fd, message)) return 1;
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(clock::now() - window_start).count();
  std::printf("round_trips %llu seconds %.6f\n", static_cast<unsigned long long>(round_trips),
              elapsed);
  std::fflush(stdout);
  return 0;
}
