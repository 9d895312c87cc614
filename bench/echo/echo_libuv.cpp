// The libuv echo server of the out-of-process comparison: one loop, one
// uv_tcp_t per connection reading into its own buffer (alloc_cb) and
// writing the bytes back with its own uv_write_t (one echo in flight per
// connection: reading stops until the write is done).
//
//   proact-bench-echo-libuv [PORT]     prints "listening on 127.0.0.1:PORT"
#include <uv.h>

#include <cstdio>
#include <cstdlib>

namespace {

struct connection {
  uv_tcp_t tcp;
  uv_write_t write;
  char data[16384];
};

void on_close(uv_handle_t* h) {
  delete reinterpret_cast<connection*>(h);
}

void on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  auto* c = reinterpret_cast<connection*>(h);
  *buf = uv_buf_init(c->data, sizeof(c->data));
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*);

void on_write(uv_write_t* w, int status) {
  auto* c = static_cast<connection*>(w->data);
  if (status < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_close);
    return;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read);
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
  auto* c = reinterpret_cast<connection*>(s);
  if (n == 0) return;
  if (n < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_close);
    return;
  }
  uv_read_stop(s);
  uv_buf_t out = uv_buf_init(c->data, static_cast<unsigned>(n));
  c->write.data = c;
  uv_write(&c->write, s, &out, 1, on_write);
}

void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* c = new connection;
  uv_tcp_init(server->loop, &c->tcp);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_close);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read);
}

void on_signal(uv_signal_t* s, int) {
  uv_stop(s->loop);
}

}  // namespace

int main(int argc, char** argv) {
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", argc > 1 ? std::atoi(argv[1]) : 0, &addr);
  uv_tcp_bind(&server, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (uv_listen(reinterpret_cast<uv_stream_t*>(&server), 4096, on_connection) != 0) return 1;
  int len = sizeof(addr);
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  uv_signal_t term, intr;
  uv_signal_init(loop, &term);
  uv_signal_start(&term, on_signal, SIGTERM);
  uv_signal_init(loop, &intr);
  uv_signal_start(&intr, on_signal, SIGINT);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
