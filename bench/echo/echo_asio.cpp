// The Asio echo server of the out-of-process comparison: one io_context run
// by one thread, one session per connection reading with async_read_some
// and writing back with async_write, as Asio's own echo example does.
//
//   proact-bench-echo-asio [PORT]     prints "listening on 127.0.0.1:PORT"
#include <asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  void start() { read(); }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(data_),
                            [self = shared_from_this()](std::error_code ec, std::size_t n) {
                              if (!ec) self->write(n);
                            });
  }
  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(data_, n),
                      [self = shared_from_this()](std::error_code ec, std::size_t) {
                        if (!ec) self->read();
                      });
  }
  asio::ip::tcp::socket socket_;
  char data_[16384];
};

void accept(asio::ip::tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](std::error_code ec, asio::ip::tcp::socket socket) {
    if (!ec) {
      socket.set_option(asio::ip::tcp::no_delay(true));
      std::make_shared<session>(std::move(socket))->start();
    }
    accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    asio::io_context io(1);
    const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), port});
    acceptor.listen(4096);
    std::printf("listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code, int) { io.stop(); });
    accept(acceptor);
    io.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "proact-bench-echo-asio: %s\n", e.what());
    return 1;
  }
}
