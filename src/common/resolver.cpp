// resolver: lookups on a bounded pool of threads per loop, their results
// delivered through the loop's port (request_service decides each outcome
// once: the lookup's, a cancel's or the loop's stop).
#include "proact/resolver.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <new>
#include <string>
#include <utility>

#include "common/blocking_pool.hpp"
#include "common/request_service.hpp"
#include "common/sys_resolve.hpp"
#include "proact/error.hpp"
#include "proact/loop.hpp"

namespace proact {
namespace detail {

namespace {

// Lookups at once per loop: a few, so that a slow name server delays others
// little, and a flood of lookups does not become a flood of threads.
constexpr unsigned max_lookup_threads = 4;
// How long ~loop() waits for a lookup still inside the system's resolver
// before it leaves that thread to end on its own.
constexpr std::chrono::milliseconds lookup_join_grace{250};

std::atomic<void (*)(const std::string&)> lookup_hook{nullptr};

enum class reserved_name { none, localhost, invalid };

bool ends_with_label(std::string_view name, std::string_view label) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (name.size() < label.size()) return false;
  const std::string_view tail = name.substr(name.size() - label.size());
  for (std::size_t i = 0; i < label.size(); ++i)
    if (lower(tail[i]) != label[i]) return false;
  return name.size() == label.size() || name[name.size() - label.size() - 1] == '.';
}

// RFC 6761: "localhost" and "invalid" (and their subdomains) are special.
reserved_name classify(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // fully qualified
  if (ends_with_label(host, "localhost")) return reserved_name::localhost;
  if (ends_with_label(host, "invalid")) return reserved_name::invalid;
  return reserved_name::none;
}

// A numeric address of another family than the hints ask for has no
// address of that family. Decided here: the systems disagree on the code
// (EAI_ADDRFAMILY, EAI_NONAME; Wine passes the host's EAI code through).
bool other_family(std::string_view host, const resolve_hints& hints) {
  if (hints.family == address_family::unspecified) return false;
  std::error_code ec;
  const endpoint numeric = endpoint::parse(host, 0, ec);
  return !ec && numeric.family() != hints.family;
}

}  // namespace

class resolve_request final : public service_request {
 public:
  resolve_request(resolver& owner, std::string_view host, std::string_view service,
                  resolve_hints hints)
      : service_request(&owner), host_(host), service_(service), hints_(hints) {}

  const std::string& host() const noexcept { return host_; }
  const std::string& service() const noexcept { return service_; }
  const resolve_hints& hints() const noexcept { return hints_; }
  std::vector<endpoint> endpoints;  // the outcome, set before it is decided

 private:
  void settle_locked() noexcept override { static_cast<resolver*>(owner())->request_ = nullptr; }
  void call(std::error_code ec) override {
    auto& r = *static_cast<resolver*>(owner());
    r.pending_.store(false, std::memory_order_release);
    r.handler_(ec, std::move(endpoints));
  }

  std::string host_;
  std::string service_;
  resolve_hints hints_;
};

class resolver_service final : public request_service {
 public:
  explicit resolver_service(loop& l) noexcept : request_service(l) {}

  std::error_code start(resolver& owner, std::string_view host, std::string_view service,
                        resolve_hints hints);
  std::error_code cancel(resolver& owner);
  void destroy(resolver& owner) noexcept;
  void close() noexcept override { pool_.close(lookup_join_grace); }

 private:
  // On a pool thread: the lookup, then the outcome unless already decided.
  void work(resolve_request& r);

  blocking_pool pool_{max_lookup_threads};
};

std::error_code resolver_service::start(resolver& owner, std::string_view host,
                                        std::string_view service, resolve_hints hints) {
  auto* r = new (std::nothrow) resolve_request(owner, host, service, hints);
  if (r == nullptr) return std::make_error_code(std::errc::not_enough_memory);
  std::unique_lock lock(mutex());
  if (std::error_code ec = begin_locked(*r)) return ec;
  owner.request_ = r;
  if (classify(host) == reserved_name::invalid || other_family(host, hints)) {
    (void)complete_locked(*r, make_error_code(error::host_not_found), lock);
    return {};
  }
  r->hold();  // the worker's reference
  lock.unlock();
  auto self = std::static_pointer_cast<resolver_service>(shared_from_this());
  bool queued = false;
  try {
    queued = pool_.submit([self, r] { self->work(*r); });
  } catch (const std::bad_alloc&) {
    queued = false;
  }
  if (queued) return {};
  // No thread could be started: the resolution fails, still through the port.
  lock.lock();
  (void)complete_locked(*r, std::make_error_code(std::errc::resource_unavailable_try_again), lock);
  release_locked(*r);
  return {};
}

void resolver_service::work(resolve_request& r) {
  std::unique_lock lock(mutex());
  if (r.done()) {  // cancelled, or the loop stopped, while it was queued
    release_locked(r);
    return;
  }
  lock.unlock();
  if (auto hook = lookup_hook.load(std::memory_order_acquire)) hook(r.host());
  std::vector<endpoint> found;
  std::error_code ec;
  if (classify(r.host()) == reserved_name::localhost) {
    // The loopback addresses; the system still resolves the service name.
    const bool v4 = r.hints().family != address_family::ipv6;
    const bool v6 = r.hints().family != address_family::ipv4;
    if (v4) ec = sys::lookup("127.0.0.1", r.service(), r.hints(), found);
    if (!ec && v6) ec = sys::lookup("::1", r.service(), r.hints(), found);
  } else {
    ec = sys::lookup(r.host(), r.service(), r.hints(), found);
  }
  if (!ec && found.empty()) ec = make_error_code(error::host_not_found);
  lock.lock();
  if (!r.done()) {
    r.endpoints = std::move(found);
    (void)complete_locked(r, ec, lock);
  }
  release_locked(r);
}

std::error_code resolver_service::cancel(resolver& owner) {
  std::unique_lock lock(mutex());
  if (owner.request_ == nullptr || owner.request_->done()) return make_error_code(error::not_found);
  (void)complete_locked(*owner.request_, make_error_code(error::operation_aborted), lock);
  return {};
}

void resolver_service::destroy(resolver& owner) noexcept {
  resolve_request* r = nullptr;
  {
    std::lock_guard lock(mutex());
    r = owner.request_;
    owner.request_ = nullptr;
  }
  abandon(&owner, r);
}

}  // namespace detail

void detail::set_resolver_lookup_hook(void (*hook)(const std::string& host)) noexcept {
  detail::lookup_hook.store(hook, std::memory_order_release);
}

resolver::resolver(loop& l)
    : loop_(l), service_(detail::loop_services::get<detail::resolver_service>(l)) {}

resolver::~resolver() {
  if (service_) service_->destroy(*this);
}

std::error_code resolver::start(std::string_view host, std::string_view service,
                                resolve_hints hints) {
  std::error_code ec;
  if (host.find('\0') != std::string_view::npos || service.find('\0') != std::string_view::npos) {
    ec = make_error_code(error::invalid_argument);
  } else {
    // No service: the loop was stopped when this resolver was made.
    ec = service_ ? service_->start(*this, host, service, hints)
                  : make_error_code(error::port_closed);
  }
  if (ec) {
    handler_.reset();
    pending_.store(false, std::memory_order_release);
  }
  return ec;
}

std::error_code resolver::cancel() {
  if (!service_) return make_error_code(error::not_found);
  return service_->cancel(*this);
}

}  // namespace proact
