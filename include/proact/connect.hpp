// connect: an outgoing TCP connection in one call on a loop. It opens a
// socket of the endpoint's family, associates it with the loop and connects;
// given several endpoints (what a resolver returns) it tries each in turn
// until one connects, like asio::async_connect.
//
//   auto [ec, s] = co_await proact::connect(lp, endpoint);
//   auto [ec, s] = co_await proact::connect(lp, endpoints);   // span, vector, {a, b}
//   proact::async_connect(lp, endpoints, [](std::error_code ec, proact::tcp_socket s) { ... });
//
// On success `s` is connected and associated with the loop; on failure it
// is closed and the error is the last endpoint's (invalid_argument for an
// empty list). A cancellation (the task's stop token, the loop's stop) or
// the deadline ends the whole attempt with operation_aborted or timed_out
// without trying the endpoints that remain. The endpoints are copied.
#pragma once

#include <initializer_list>
#include <span>
#include <stop_token>
#include <system_error>
#include <utility>
#include <vector>

#include "proact/composed.hpp"
#include "proact/endpoint.hpp"
#include "proact/error.hpp"
#include "proact/loop.hpp"
#include "proact/socket.hpp"
#include "proact/task.hpp"

namespace proact {

struct connect_result {
  std::error_code error;
  tcp_socket socket;  // connected and associated with the loop unless error
};

namespace detail {

inline bool ends_every_attempt(const std::error_code& ec) noexcept {
  return ec == errc::operation_aborted || ec == errc::timed_out || ec == errc::port_closed;
}

inline task<connect_result> connect_each(loop& lp, std::vector<endpoint> remotes,
                                         deadline_clock::time_point deadline) {
  connect_result out;
  out.error = make_error_code(error::invalid_argument);  // nothing to try
  for (const endpoint& remote : remotes) {
    tcp_socket s;
    // A family this host cannot open (IPv6 off): on to the next endpoint.
    if ((out.error = s.open(remote.family()))) continue;
    if ((out.error = lp.associate(s))) co_return out;  // the loop is stopped
    auto [ec, n] = co_await bounded(s.connect(remote), deadline);
    (void)n;
    out.error = ec;
    if (!ec) {
      out.socket = std::move(s);
      co_return out;
    }
    if (ends_every_attempt(ec)) co_return out;
  }
  co_return out;
}

template <class Handler>
task<void> connect_then(loop& lp, std::vector<endpoint> remotes,
                        deadline_clock::time_point deadline, Handler handler) {
  // Moved once: clang-tidy 14 takes the coroutine's copy of the parameter
  // for a second use.
  // NOLINTNEXTLINE(bugprone-use-after-move)
  connect_result r = co_await connect_each(lp, std::move(remotes), deadline);
  handler(r.error, std::move(r.socket));
}

}  // namespace detail

// The awaitable forms: a task (co_await it in a task on `lp`).
inline task<connect_result> connect(loop& lp, const endpoint& remote,
                                    deadline_clock::time_point deadline = no_deadline) {
  return detail::connect_each(lp, std::vector<endpoint>{remote}, deadline);
}
inline task<connect_result> connect(loop& lp, std::span<const endpoint> remotes,
                                    deadline_clock::time_point deadline = no_deadline) {
  return detail::connect_each(lp, std::vector<endpoint>(remotes.begin(), remotes.end()), deadline);
}
inline task<connect_result> connect(loop& lp, std::initializer_list<endpoint> remotes,
                                    deadline_clock::time_point deadline = no_deadline) {
  return detail::connect_each(lp, std::vector<endpoint>(remotes), deadline);
}

// The callback form: handler(std::error_code, tcp_socket) runs once on a
// loop thread. `stop` cancels the attempt (as loop::stop does). Returns
// errc::port_closed, and never calls the handler, once the loop is stopped.
template <class Handler>
std::error_code async_connect(loop& lp, std::span<const endpoint> remotes, Handler&& handler,
                              std::stop_token stop = {},
                              deadline_clock::time_point deadline = no_deadline) {
  return lp.spawn(detail::connect_then(lp, std::vector<endpoint>(remotes.begin(), remotes.end()),
                                       deadline, std::forward<Handler>(handler)),
                  std::move(stop));
}
template <class Handler>
std::error_code async_connect(loop& lp, const endpoint& remote, Handler&& handler,
                              std::stop_token stop = {},
                              deadline_clock::time_point deadline = no_deadline) {
  return async_connect(lp, std::span<const endpoint>(&remote, 1), std::forward<Handler>(handler),
                       std::move(stop), deadline);
}

}  // namespace proact
