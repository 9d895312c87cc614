// resolver: host and service names to endpoints, as a completion on the
// loop's port.
//
//   proact::resolver r(lp);
//   r.resolve("example.org", "https", {}, [](std::error_code ec, std::vector<proact::endpoint> eps)
//   {
//     ...                                           // IPv4 and IPv6 endpoints
//   });
//   auto [ec, eps] = co_await r.resolve("localhost", "8080");  // in a coroutine
//   if (ec == proact::errc::host_not_found) ...
//
// The lookup is the system's (getaddrinfo, GetAddrInfoW), run on a small
// bounded pool of threads of the loop's, so that no thread running the loop
// ever blocks in it. Names that RFC 6761 reserves are answered here without
// asking the system: "localhost" and "*.localhost" are the loopback addresses,
// "*.invalid" never exists (errc::host_not_found).
//
// A resolver has one resolution pending at a time, like a timer: starting
// another gives errc::operation_in_progress. Its handler is called exactly
// once per resolution that started: with the endpoints, with the lookup's
// error (compare with errc::host_not_found, try_again, service_not_found), or
// with errc::operation_aborted after cancel() or the loop's stop — at once,
// even if the system's lookup is still blocked (its answer is then dropped).
// A resolver may be destroyed at any moment; its handler is not called once
// its destructor began (it waits for a call running on another thread).
#pragma once

#include <atomic>
#include <coroutine>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "proact/detail/handler_awaitable.hpp"
#include "proact/detail/handler_storage.hpp"
#include "proact/detail/io_awaitable.hpp"
#include "proact/endpoint.hpp"
#include "proact/error.hpp"
#include "proact/export.hpp"

namespace proact {

class loop;

namespace detail {
class resolver_service;
class resolve_request;
}  // namespace detail

struct resolve_hints {
  // Only addresses of this family; unspecified: IPv4 and IPv6.
  address_family family = address_family::unspecified;
  // For a listener: an empty host gives the wildcard address (0.0.0.0, ::)
  // instead of loopback.
  bool passive = false;
};

// What an awaited resolution gives: auto [ec, endpoints] = co_await ...;
struct resolve_result {
  std::error_code error;
  std::vector<endpoint> endpoints;
};

class PROACT_API resolver {
 public:
  explicit resolver(loop& l);
  resolver(const resolver&) = delete;
  resolver& operator=(const resolver&) = delete;
  // Drops a pending resolution: the handler is not called.
  ~resolver();

  // Looks up `host` (a name or numeric address; empty: loopback, or the
  // wildcard with hints.passive) and `service` (a port number or a service
  // name such as "http"; empty: port 0), then calls
  //   handler(std::error_code ec, std::vector<proact::endpoint> endpoints)
  // on a loop thread: endpoints non-empty, or ec set. Returns an error (and
  // never calls the handler) if it could not start: operation_in_progress,
  // port_closed once the loop stopped, invalid_argument for a name with a
  // NUL character.
  template <class F>
  std::error_code resolve(std::string_view host, std::string_view service, resolve_hints hints,
                          F&& handler) {
    if (pending_.exchange(true, std::memory_order_acq_rel))
      return make_error_code(error::operation_in_progress);
    handler_.emplace(std::forward<F>(handler));
    return start(host, service, hints);
  }

  // Completes the pending resolution with errc::operation_aborted;
  // errc::not_found if none is pending (or its result is already queued).
  [[nodiscard]] std::error_code cancel();
  // True from a successful resolve() until its handler begins.
  bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
  loop& get_loop() const noexcept { return loop_; }

  // Awaitable: auto [ec, endpoints] = co_await r.resolve(host, service);
  // cancelled by the coroutine's stop token too (when_any, a deadline).
  struct resolve_awaitable;
  resolve_awaitable resolve(std::string_view host, std::string_view service,
                            resolve_hints hints = {});

 private:
  friend class detail::resolver_service;
  friend class detail::resolve_request;

  std::error_code start(std::string_view host, std::string_view service, resolve_hints hints);

  loop& loop_;
  std::shared_ptr<detail::resolver_service> service_;
  detail::resolve_request* request_ = nullptr;  // under the service's lock
  detail::handler_storage<void(std::error_code, std::vector<endpoint>), 48> handler_;
  std::atomic<bool> pending_{false};
};

struct resolver::resolve_awaitable final
    : detail::handler_awaitable<resolve_awaitable, resolver, resolve_result> {
  resolve_awaitable(resolver& r, std::string_view h, std::string_view s, resolve_hints k)
      : handler_awaitable(r), host(h), service(s), hints(k) {}

  std::error_code start_call() {
    return owner_->resolve(host, service, hints,
                           [this](std::error_code ec, std::vector<endpoint> e) {
                             arrive(resolve_result{ec, std::move(e)});
                           });
  }

  std::string host;
  std::string service;
  resolve_hints hints;
};

inline resolver::resolve_awaitable resolver::resolve(std::string_view host,
                                                     std::string_view service,
                                                     resolve_hints hints) {
  return {*this, host, service, hints};
}

namespace detail {
// Tests only: called on the pool thread with the host name right before the
// system lookup, so a test can hold a lookup "stuck" (null: none).
PROACT_API void set_resolver_lookup_hook(void (*hook)(const std::string& host)) noexcept;
}  // namespace detail

}  // namespace proact
