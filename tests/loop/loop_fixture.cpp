#include "loop_fixture.hpp"

#include <atomic>

namespace proact_test {

std::unique_ptr<proact::loop> make_loop(unsigned threads, unsigned concurrency) {
  proact::loop_options o;
  o.backend = backend_under_test();
  o.concurrency = concurrency;
  o.threads = threads;
  return std::make_unique<proact::loop>(o);
}

::testing::AssertionResult connect_on_loop(proact::loop& lp, proact::tcp_socket& client,
                                           proact::tcp_socket& server) {
  proact::tcp_listener listener;
  const proact::endpoint any = proact::endpoint::loopback(proact::address_family::ipv4, 0);
  if (auto ec = listener.listen(any)) return ::testing::AssertionFailure() << describe(ec);
  if (auto ec = lp.associate(listener)) return ::testing::AssertionFailure() << describe(ec);
  std::error_code ec;
  const proact::endpoint address = listener.local_endpoint(ec);
  if (ec) return ::testing::AssertionFailure() << describe(ec);
  if (auto e = client.open(proact::address_family::ipv4))
    return ::testing::AssertionFailure() << describe(e);
  if (auto e = lp.associate(client)) return ::testing::AssertionFailure() << describe(e);

  std::atomic<int> done{0};
  std::error_code accept_error, connect_error;
  proact::callback_op accept_op([&](std::size_t, std::error_code e) {
    accept_error = e;
    done.fetch_add(1);
  });
  proact::callback_op connect_op([&](std::size_t, std::error_code e) {
    connect_error = e;
    done.fetch_add(1);
  });
  if (auto e = listener.accept(accept_op, server))
    return ::testing::AssertionFailure() << "accept: " << describe(e);
  if (auto e = client.connect(connect_op, address))
    return ::testing::AssertionFailure() << "connect: " << describe(e);
  // Either lp's own threads run the callbacks, or this thread polls.
  if (!poll_until(lp, [&] { return done.load() == 2; }))
    return ::testing::AssertionFailure() << "accept/connect did not complete";
  if (accept_error) return ::testing::AssertionFailure() << "accept: " << describe(accept_error);
  if (connect_error) return ::testing::AssertionFailure() << "connect: " << describe(connect_error);
  if (auto e = lp.associate(server)) return ::testing::AssertionFailure() << describe(e);
  return ::testing::AssertionSuccess();
}

}  // namespace proact_test
