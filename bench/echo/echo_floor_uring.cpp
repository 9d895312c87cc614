// The hand-written io_uring echo server: the io_uring floor of the
// out-of-process comparison. One thread; per connection one RECV or SEND
// in flight (a partial SEND is issued again for the rest); one ACCEPT in
// flight, issued again after each connection. All SQEs of a round go to the
// kernel with the wait for the next round (io_uring_submit_and_wait).
//
//   proact-bench-echo-uring [PORT] [--tuned]   prints "listening on 127.0.0.1:PORT"
//
// --tuned (floor-io_uring-tuned in the report): the same loop on a ring set up
// for one issuing thread with deferred task work, its descriptor registered:
// what io_uring's newer set-up buys a single-threaded server.
#include <liburing.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "echo_common.hpp"

namespace {

enum : std::uint64_t { accept_tag = 1 };

struct connection {
  int fd;
  bool sending = false;
  unsigned size = 0;  // bytes to echo
  unsigned sent = 0;
  char data[16384];
};

void prep_recv(io_uring& ring, connection& c) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  c.sending = false;
  io_uring_prep_recv(sqe, c.fd, c.data, sizeof(c.data), 0);
  io_uring_sqe_set_data(sqe, &c);
}

void prep_send(io_uring& ring, connection& c) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  c.sending = true;
  io_uring_prep_send(sqe, c.fd, c.data + c.sent, c.size - c.sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, &c);
}

void prep_accept(io_uring& ring, int listener) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_accept(sqe, listener, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, accept_tag);
}

std::string describe(int errno_value) {
  return std::error_code(errno_value, std::system_category()).message();
}

}  // namespace

int main(int argc, char** argv) {
  // [port] [--tuned]: --tuned sets the ring up for one issuing thread with
  // deferred task work and registers its descriptor (Linux 6.1).
  int port = 0;
  bool tuned = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tuned") == 0)
      tuned = true;
    else
      port = std::atoi(argv[i]);
  }
  io_uring ring;
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE;
  if (tuned) params.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  params.cq_entries = 16384;
  if (const int e = io_uring_queue_init_params(4096, &ring, &params); e < 0) {
    // Said before listening, so that the runner can skip this server.
    std::printf("unsupported: io_uring set-up: %s\n", describe(-e).c_str());
    return 0;
  }
  if (tuned) {
    if (const int e = io_uring_register_ring_fd(&ring); e != 1) {
      std::printf("unsupported: registering the ring: %s\n", describe(e < 0 ? -e : EINVAL).c_str());
      return 0;
    }
  }
  const int listener = echo::listen_loopback(port);
  if (listener < 0) return 1;
  prep_accept(ring, listener);
  while (!echo::stop_requested()) {
    __kernel_timespec ts{0, 200'000'000};
    io_uring_cqe* first = nullptr;
    io_uring_submit_and_wait_timeout(&ring, &first, 1, &ts, nullptr);
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      if (cqe->user_data == accept_tag) {
        if (cqe->res >= 0) {
          echo::no_delay(cqe->res);
          prep_recv(ring, *new connection{cqe->res, false, 0, 0, {}});
        }
        prep_accept(ring, listener);
        continue;
      }
      auto& c = *static_cast<connection*>(io_uring_cqe_get_data(cqe));
      if (cqe->res <= 0) {
        ::close(c.fd);
        delete &c;
      } else if (!c.sending) {
        c.size = static_cast<unsigned>(cqe->res);
        c.sent = 0;
        prep_send(ring, c);
      } else {
        c.sent += static_cast<unsigned>(cqe->res);
        if (c.sent < c.size)
          prep_send(ring, c);
        else
          prep_recv(ring, c);
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  return 0;
}
