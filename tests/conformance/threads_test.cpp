// Item 12 (many waiting threads, LIFO release, the concurrency value) and
// item 14 (every call is thread-safe).
#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {

// ---- item 12: threads --------------------------------------------------------

constexpr const char* wine_lifo_reason =
    "Wine releases threads blocked on an I/O completion port in FIFO order; Windows releases "
    "them last-in-first-out, as documented (\"Threads that block their execution on an I/O "
    "completion port are released in last-in-first-out (LIFO) order\"); see "
    "docs/semantics.md, item 12";

class Item12_Threads : public BackendTest {};

TEST_F(Item12_Threads, ConcurrencyValueIsKept) {
  proact::port p;
  ASSERT_OK(p.open(options(3)));
  EXPECT_EQ(p.concurrency(), 3u);
}

TEST_F(Item12_Threads, ConcurrencyZeroMeansTheNumberOfProcessors) {
  proact::port p;
  ASSERT_OK(p.open(options(0)));
  const unsigned processors = std::thread::hardware_concurrency();
  if (processors == 0) {
    EXPECT_GE(p.concurrency(), 1u);
  } else {
    EXPECT_EQ(p.concurrency(), processors);
  }
}

TEST_F(Item12_Threads, AnyNumberOfThreadsShareOnePort) {
  constexpr int threads = 8;
  constexpr std::size_t packets = 4000;
  proact::port p;
  ASSERT_OK(p.open(options(threads)));
  std::vector<std::atomic<int>> seen(packets);
  std::atomic<std::size_t> dequeued{0};
  std::atomic<int> errors{0};
  std::array<std::atomic<std::size_t>, threads> per_thread{};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::array<proact::completion, 4> batch;
      for (;;) {
        std::size_t n = 0;
        const std::error_code ec = p.wait_many(batch, n, must_happen_within);
        if (ec == proact::errc::port_closed) return;
        if (ec) {
          errors.fetch_add(1);
          return;
        }
        for (std::size_t i = 0; i < n; ++i) {
          if (batch[i].key < packets) seen[batch[i].key].fetch_add(1);
        }
        per_thread[static_cast<std::size_t>(t)].fetch_add(n);
        dequeued.fetch_add(n);
      }
    });
  }
  std::this_thread::sleep_for(settle_time);
  for (std::size_t k = 0; k < packets; ++k) {
    EXPECT_OK(p.post(k, 0, nullptr));
  }
  EXPECT_TRUE(spin_until([&] { return dequeued.load() >= packets; }, 20s));
  EXPECT_OK(p.close());
  for (auto& th : pool) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(dequeued.load(), packets);
  for (std::size_t k = 0; k < packets; ++k) {
    ASSERT_EQ(seen[k].load(), 1) << "packet " << k;
  }
}

TEST_F(Item12_Threads, ReleasesTheMostRecentWaiterFirst) {
  // Three threads enter wait() one after the other; each post must go to the
  // most recent waiter still waiting: T2, then T1, then T0.
  if (running_under_wine()) GTEST_SKIP() << wine_lifo_reason;
  constexpr int threads = 3;
  proact::port p;
  ASSERT_OK(p.open(options(8)));
  std::array<std::atomic<std::uintptr_t>, threads> got{};
  std::array<std::atomic<int>, threads> result{};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      proact::completion c;
      const std::error_code ec = p.wait(c, proact::timeout{15000});
      result[static_cast<std::size_t>(t)].store(ec ? 2 : 1);
      if (!ec) got[static_cast<std::size_t>(t)].store(c.key);
    });
    std::this_thread::sleep_for(settle_time);  // T(t) is blocked before T(t+1) starts
  }
  std::this_thread::sleep_for(settle_time);

  auto receiver_of = [&](std::uintptr_t key) {
    for (int t = 0; t < threads; ++t)
      if (got[static_cast<std::size_t>(t)].load() == key) return t;
    return -1;
  };
  for (std::uintptr_t key = 1; key <= threads; ++key) {
    EXPECT_OK(p.post(key, 0, nullptr));
    EXPECT_TRUE(spin_until([&] { return receiver_of(key) >= 0; }))
        << "packet " << key << " was not dequeued";
    const int expected = threads - static_cast<int>(key);
    EXPECT_EQ(receiver_of(key), expected)
        << "packet " << key << " went to thread " << receiver_of(key) << ", the most recent "
        << "waiter was thread " << expected;
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(result[static_cast<std::size_t>(t)].load(), 1);
  }
}

// ---- item 12: the concurrency value --------------------------------------------

class Item12_Concurrency : public BackendTest {
 protected:
  // `threads` threads loop on wait(); each packet keeps its thread active (a
  // busy spin: a blocked thread would not count as running on Windows) for
  // `hold`. Returns the most threads seen active at once.
  int most_active_at_once(unsigned concurrency, int threads, int packets,
                          std::chrono::milliseconds hold);
};

int Item12_Concurrency::most_active_at_once(unsigned concurrency, int threads, int packets,
                                            std::chrono::milliseconds hold) {
  proact::port p;
  EXPECT_OK(p.open(options(concurrency)));
  std::atomic<int> active{0};
  std::atomic<int> most{0};
  std::atomic<int> processed{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        proact::completion c;
        const std::error_code ec = p.wait(c, proact::timeout{20000});
        if (ec == proact::errc::port_closed) return;
        if (ec) {
          errors.fetch_add(1);
          return;
        }
        // Active from here until the next wait() call.
        const int now = active.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        busy_spin(hold);
        active.fetch_sub(1);
        processed.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(settle_time);  // all threads blocked in wait()
  for (int i = 0; i < packets; ++i) {
    EXPECT_OK(p.post(static_cast<std::uintptr_t>(i), 0, nullptr));
  }
  EXPECT_TRUE(spin_until([&] { return processed.load() == packets; }, 30s))
      << processed.load() << " of " << packets << " packets processed";
  EXPECT_OK(p.close());
  for (auto& th : pool) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(processed.load(), packets);
  return most.load();
}

constexpr const char* wine_concurrency_reason =
    "Wine ignores the concurrency value of an I/O completion port and releases more threads "
    "than allowed; only the Windows kernel enforces it (see docs/semantics.md, item 12)";

TEST_F(Item12_Concurrency, OneActiveThreadAtATime) {
  if (running_under_wine()) GTEST_SKIP() << wine_concurrency_reason;
  // Also proves that a thread returning to wait() counts as inactive again:
  // otherwise the second packet would never be released.
  EXPECT_EQ(most_active_at_once(1, 3, 10, 20ms), 1);
}

TEST_F(Item12_Concurrency, AtMostTwoActiveWithConcurrencyTwo) {
  if (running_under_wine()) GTEST_SKIP() << wine_concurrency_reason;
  EXPECT_EQ(most_active_at_once(2, 4, 20, 30ms), 2)
      << "with packets queued, exactly `concurrency` threads should run";
}

// A thread that blocks in a blocking_scope stops counting as active, as one
// blocked in the kernel does on Windows: with concurrency 1 the packet queued
// behind the one it holds goes to another thread, which is what it waits
// for. (Under Wine the concurrency value is ignored: it holds there too.)
TEST_F(Item12_Concurrency, AThreadInABlockingScopeLetsAnotherRun) {
  proact::port p;
  ASSERT_OK(p.open(options(1)));
  std::mutex m;
  std::condition_variable cv;
  bool second_ran = false;
  std::atomic<int> failures{0};
  auto worker = [&] {
    for (;;) {
      proact::completion c;
      const std::error_code ec = p.wait(c, proact::timeout{20000});
      if (ec == proact::errc::port_closed) return;
      if (ec) {
        failures.fetch_add(1);
        return;
      }
      std::unique_lock lock(m);
      if (c.key == 2) {
        second_ran = true;
        cv.notify_all();
        continue;
      }
      proact::blocking_scope blocked;
      if (!cv.wait_for(lock, 10s, [&] { return second_ran; })) failures.fetch_add(1);
    }
  };
  std::thread one(worker);
  std::thread two(worker);
  std::this_thread::sleep_for(settle_time);  // both blocked in wait()
  ASSERT_OK(p.post(1, 0, nullptr));
  ASSERT_OK(p.post(2, 0, nullptr));
  EXPECT_TRUE(spin_until(
      [&] {
        std::lock_guard lock(m);
        return second_ran;
      },
      15s))
      << "the packet behind the blocked thread's never ran";
  EXPECT_OK(p.close());
  one.join();
  two.join();
  EXPECT_EQ(failures.load(), 0);
}

// Operations a thread started are on their way while it blocks in a
// blocking_scope, even where their submission waits for its next wait
// (io_uring, item 2): here the peer, on another port, receives the send.
TEST_F(Item12_Concurrency, ABlockingScopeLetsWhatTheThreadStartedGo) {
  proact::port a;
  proact::port b;
  ASSERT_OK(a.open(options(1)));
  ASSERT_OK(b.open(options(1)));
  tcp_pair pair;
  ASSERT_TRUE(connect_split_pair(a, b, pair, client_key, server_key));
  char in[8] = {};
  proact::operation recv_op;
  ASSERT_OK(pair.server.recv(recv_op, proact::make_buffer(in)));
  waiter_thread peer(b, 1);
  // A packet taken from `a` makes this thread active there: it will wait on
  // `a` again soon.
  ASSERT_OK(a.post(9, 0, nullptr));
  proact::completion c;
  ASSERT_OK(a.wait(c, must_happen_within));
  proact::operation send_op;
  ASSERT_OK(pair.client.send(send_op, proact::make_buffer("ping", 4)));
  std::vector<proact::completion> got;
  {
    proact::blocking_scope blocked;
    ASSERT_TRUE(peer.join(got));
  }
  ASSERT_EQ(got.size(), 1U);
  EXPECT_OK(got[0].error);
  EXPECT_EQ(text(in, got[0].bytes), "ping");
  ASSERT_OK(a.wait(c, must_happen_within));
  EXPECT_EQ(c.op, &send_op);
  EXPECT_OK(c.error);
}

// ---- item 14: thread safety ------------------------------------------------------

class Item14_ThreadSafety : public PortTest {};

TEST_F(Item14_ThreadSafety, ConcurrentPostsAndWaitsDeliverEveryPacketOnce) {
  constexpr std::size_t posters = 4;
  constexpr std::size_t per_poster = 5000;
  constexpr std::size_t waiters = 3;
  std::vector<std::atomic<int>> seen(posters * per_poster);
  std::atomic<std::size_t> dequeued{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> pool;
  for (std::size_t w = 0; w < waiters; ++w) {
    pool.emplace_back([&] {
      for (;;) {
        proact::completion c;
        const std::error_code ec = port_.wait(c, must_happen_within);
        if (ec == proact::errc::port_closed) return;
        if (ec || c.key >= seen.size()) {
          errors.fetch_add(1);
          return;
        }
        seen[c.key].fetch_add(1);
        dequeued.fetch_add(1);
      }
    });
  }
  for (std::size_t t = 0; t < posters; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t i = 0; i < per_poster; ++i)
        if (port_.post(t * per_poster + i, i, nullptr)) errors.fetch_add(1);
    });
  }
  EXPECT_TRUE(spin_until([&] { return dequeued.load() >= seen.size(); }, 30s));
  EXPECT_OK(port_.close());
  for (auto& th : pool) th.join();
  EXPECT_EQ(errors.load(), 0);
  for (std::size_t k = 0; k < seen.size(); ++k) {
    ASSERT_EQ(seen[k].load(), 1) << "packet " << k;
  }
}

// Threads race to associate one socket with one of `ports`: exactly one wins,
// the others get already_associated, and the socket stays open and usable
// through the winner's port with the winner's key.
void associate_race(std::vector<proact::port*> ports) {
  constexpr int threads = 8;
  for (int round = 0; round < 100; ++round) {
    proact::tcp_socket s;
    ASSERT_OK(s.open(proact::address_family::ipv4));
    std::atomic<bool> go{false};
    std::atomic<int> winner{-1};
    std::atomic<int> won{0};
    std::atomic<int> refused{0};
    std::mutex other_lock;
    std::string other_errors;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        proact::port& p = *ports[static_cast<std::size_t>(t) % ports.size()];
        const std::error_code ec = p.associate(s, static_cast<std::uintptr_t>(t));
        if (!ec) {
          won.fetch_add(1);
          winner.store(t);
        } else if (ec == proact::errc::already_associated) {
          refused.fetch_add(1);
        } else {
          std::lock_guard lock(other_lock);
          other_errors += " " + describe(ec);
        }
      });
    }
    go.store(true);
    for (auto& th : pool) th.join();
    ASSERT_EQ(won.load(), 1) << "round " << round;
    ASSERT_EQ(refused.load(), threads - 1)
        << "round " << round << ", other errors instead of already_associated:" << other_errors;
    ASSERT_TRUE(s.is_associated());
    ASSERT_TRUE(s.is_open()) << "a losing associate closed the socket";
    // Usable through the winner's port, with the winner's key.
    proact::endpoint closed;
    ASSERT_TRUE(closed_loopback_port(proact::address_family::ipv4, closed));
    proact::operation op;
    ASSERT_OK(s.connect(op, closed));
    proact::port& p = *ports[static_cast<std::size_t>(winner.load()) % ports.size()];
    proact::completion c;
    ASSERT_TRUE(wait_one(p, c));
    EXPECT_EQ(c.key, static_cast<std::uintptr_t>(winner.load()));
    EXPECT_ERRC(c.error, connection_refused);
  }
}

TEST_F(Item14_ThreadSafety, ConcurrentAssociateWithOnePortHasOneWinner) {
  associate_race({&port_});
}

TEST_F(Item14_ThreadSafety, ConcurrentAssociateWithTwoPortsHasOneWinner) {
  proact::port other;
  ASSERT_OK(other.open(options()));
  associate_race({&port_, &other});
}

TEST_F(Item14_ThreadSafety, ConcurrentStartsOfOneOperationHaveOneWinner) {
  constexpr int threads = 6;
  for (int round = 0; round < 50; ++round) {
    proact::operation op;
    std::atomic<bool> go{false};
    std::atomic<int> won{0};
    std::atomic<int> in_progress{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        const std::error_code ec = port_.post(static_cast<std::uintptr_t>(t), 0, &op);
        if (!ec)
          won.fetch_add(1);
        else if (ec == proact::errc::operation_in_progress)
          in_progress.fetch_add(1);
      });
    }
    go.store(true);
    for (auto& th : pool) th.join();
    ASSERT_EQ(won.load(), 1);
    ASSERT_EQ(in_progress.load(), threads - 1);
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    ASSERT_TRUE(stays_idle(port_, proact::timeout{0}));
  }
}

TEST_F(Item14_ThreadSafety, ConcurrentStartCancelAndCloseCompleteEachOperationOnce) {
  // A starter, a canceller and a closer work on one socket at once while this
  // thread dequeues: every recv whose start succeeded completes exactly once.
  constexpr int rounds = 60;
  constexpr std::size_t ops_per_round = 16;
  std::mt19937 random(12345);
  for (int round = 0; round < rounds; ++round) {
    tcp_pair pair;
    ASSERT_TRUE(connect_pair(port_, pair));
    std::array<proact::operation, ops_per_round> ops;
    std::array<std::array<char, 16>, ops_per_round> in{};
    std::array<std::atomic<int>, ops_per_round> started{};
    std::atomic<int> completions{0};
    std::atomic<int> started_total{0};
    std::atomic<bool> starter_done{false};
    std::atomic<bool> go{false};
    const auto close_after = std::chrono::microseconds(random() % 2000);

    std::thread starter([&] {
      while (!go.load()) std::this_thread::yield();
      for (std::size_t i = 0; i < ops_per_round; ++i) {
        if (!pair.server.recv(ops[i], proact::buffer{in[i].data(), in[i].size()})) {
          started[i].fetch_add(1);
          started_total.fetch_add(1);
        }
      }
      starter_done.store(true);
    });
    std::thread canceller([&] {
      while (!go.load()) std::this_thread::yield();
      for (int k = 0; k < 40; ++k) {
        const std::error_code ec =
            k % 5 == 0 ? pair.server.cancel()
                       : pair.server.cancel(ops[static_cast<std::size_t>(k) % ops_per_round]);
        if (ec && ec != proact::errc::not_found && ec != proact::errc::bad_handle)
          ADD_FAILURE() << "cancel: " << describe(ec);
      }
    });
    std::thread closer([&] {
      while (!go.load()) std::this_thread::yield();
      busy_spin(close_after);
      EXPECT_OK(pair.server.close());
    });
    go.store(true);

    std::map<const proact::operation*, int> completed;
    const auto deadline = clock_type::now() + 10s;
    while (!(starter_done.load() && completions.load() == started_total.load())) {
      if (clock_type::now() > deadline) {
        ADD_FAILURE() << "round " << round << ": " << completions.load() << " of "
                      << started_total.load() << " started recvs completed";
        break;
      }
      proact::completion c;
      const std::error_code ec = port_.wait(c, proact::timeout{50});
      if (ec == proact::errc::timed_out) continue;
      if (ec) {
        ADD_FAILURE() << "wait: " << describe(ec);
        break;
      }
      ++completed[c.op];
      completions.fetch_add(1);
      EXPECT_ERRC(c.error, operation_aborted);
      EXPECT_EQ(c.key, server_key);
    }
    starter.join();
    canceller.join();
    closer.join();
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(stays_idle(port_, proact::timeout{20}));
    for (std::size_t i = 0; i < ops_per_round; ++i) {
      ASSERT_EQ(completed[&ops[i]], started[i].load()) << "round " << round << " op " << i;
    }
  }
}

TEST_F(Item14_ThreadSafety, ConcurrentSendsOnOneSocketStayWholeAndInStartOrder) {
  // Four threads start 64 KiB sends on one socket at once. Each send goes to
  // the wire whole (never interleaved with another's bytes), and one
  // thread's sends go out and complete in the order it started them.
  constexpr std::size_t threads = 4;
  constexpr std::size_t per_thread = 8;
  constexpr std::size_t record = 64 * 1024;
  tcp_pair pair;
  ASSERT_TRUE(connect_pair(port_, pair));
  std::vector<std::vector<unsigned char>> records(threads * per_thread);
  for (std::size_t r = 0; r < records.size(); ++r)
    records[r].assign(record, static_cast<unsigned char>(r + 1));
  std::vector<proact::operation> ops(threads * per_thread);
  std::atomic<int> start_errors{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (std::size_t k = 0; k < per_thread; ++k) {
        const std::size_t r = t * per_thread + k;
        if (pair.client.send(ops[r], proact::const_buffer{records[r].data(), record}))
          start_errors.fetch_add(1);
      }
    });
  }
  go.store(true);

  std::vector<unsigned char> stream;
  stream.reserve(records.size() * record);
  std::vector<unsigned char> in(record);
  proact::operation recv_op;
  std::vector<std::size_t> send_completion_order;
  const auto deadline = clock_type::now() + 30s;
  bool failed = false;
  if (auto ec = pair.server.recv(recv_op, proact::buffer{in.data(), in.size()})) {
    ADD_FAILURE() << "recv: " << describe(ec);
    failed = true;
  }
  while (!failed && (stream.size() < records.size() * record ||
                     send_completion_order.size() < records.size())) {
    if (clock_type::now() > deadline) {
      ADD_FAILURE() << "timed out: " << stream.size() << " bytes, " << send_completion_order.size()
                    << " sends";
      break;
    }
    proact::completion c;
    if (!wait_one(port_, c)) {
      ADD_FAILURE() << "no completion";
      break;
    }
    if (c.error) {
      ADD_FAILURE() << (c.op == &recv_op ? "recv" : "a send") << " completed with "
                    << describe(c.error) << " (" << c.bytes << " bytes) after "
                    << send_completion_order.size() << " sends and " << stream.size()
                    << " bytes received";
      break;
    }
    if (c.op == &recv_op) {
      stream.insert(stream.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(c.bytes));
      if (stream.size() < records.size() * record &&
          pair.server.recv(recv_op, proact::buffer{in.data(), in.size()}))
        failed = true;
    } else {
      std::size_t r = 0;
      while (r < ops.size() && &ops[r] != c.op) ++r;
      if (r == ops.size()) {
        ADD_FAILURE() << "unknown completion";
        break;
      }
      EXPECT_EQ(c.bytes, record);
      send_completion_order.push_back(r);
    }
  }
  for (auto& th : pool) th.join();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(start_errors.load(), 0);
  ASSERT_EQ(stream.size(), records.size() * record);
  // The wire: whole records, each thread's in its start order.
  std::array<std::size_t, threads> next{};
  for (std::size_t at = 0; at < stream.size(); at += record) {
    const unsigned char tag = stream[at];
    ASSERT_GE(tag, 1);
    const std::size_t r = tag - 1u;
    ASSERT_LT(r, records.size());
    for (std::size_t i = 0; i < record; ++i) {
      ASSERT_EQ(stream[at + i], tag) << "record " << r << " interleaved at byte " << i;
    }
    const std::size_t t = r / per_thread;
    EXPECT_EQ(r % per_thread, next[t])
        << "thread " << t << "'s sends reached the wire out of order";
    next[t] = r % per_thread + 1;
  }
  // Completions: each thread's in its start order.
  std::array<std::size_t, threads> next_completion{};
  for (const std::size_t r : send_completion_order) {
    const std::size_t t = r / per_thread;
    EXPECT_EQ(r % per_thread, next_completion[t]);
    next_completion[t] = r % per_thread + 1;
  }
}

}  // namespace
}  // namespace proact_test
