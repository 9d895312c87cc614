// The implementations compared by proact_bench, one file each. Each
// register_* function adds its variants of the shared workloads (see
// harness.hpp) under its own implementation name, or prints why it cannot
// run here and adds nothing. main() in proact_bench.cpp calls them in order.
//
// Adding an implementation (e.g. proact's event loop) is one file with one
// register_* function, declared here and called from main().
#pragma once

namespace bench {

void register_proact_port();  // proact-epoll, proact-io_uring (bench/proact_port.cpp)
void register_proact_loop();  // proact-loop-*, proact-coro-* (bench/proact_loop.cpp)
void register_floor_epoll();  // floor-epoll: a hand-written epoll loop (bench/floor_epoll.cpp)
void register_floor_uring();  // floor-io_uring: a hand-written liburing loop
                              // (bench/floor_uring.cpp)
void register_asio();         // asio: standalone Asio (bench/peer_asio.cpp)
void register_libuv();        // libuv (bench/peer_libuv.cpp)
// tls_pingpong: proact's tls_stream on each backend (bench/tls_proact.cpp)
// and Asio's ssl::stream (bench/tls_asio.cpp), both over OpenSSL.
void register_tls_proact();
void register_tls_asio();

}  // namespace bench
