// strand: work of one strand never overlaps and runs in posting order, even
// with several workers; different strands run in parallel.
#include <atomic>
#include <vector>

#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using Strand = LoopTest;

TEST_F(Strand, PostedWorkNeverOverlapsAndKeepsItsOrder) {
  auto lp = make_loop(4, 4);
  ASSERT_OK(lp->start());
  proact::strand s(*lp);
  constexpr int n = 5000;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::vector<int> order;  // only touched inside the strand
  order.reserve(n);
  std::atomic<int> done{0};
  loop_reset_guard drain_first(lp);
  for (int i = 0; i < n; ++i) {
    ASSERT_OK(s.post([&, i] {
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      if (!s.running_in_this_thread()) overlaps.fetch_add(1);
      order.push_back(i);
      inside.fetch_sub(1);
      done.fetch_add(1);
    }));
  }
  // A bound against a hang only: Wine on a loaded machine is slow.
  ASSERT_TRUE(spin_until([&] { return done.load() == n; }, std::chrono::seconds(120)));
  EXPECT_EQ(overlaps.load(), 0);
  bool in_order = true;
  for (int i = 0; i < n; ++i) in_order = in_order && order[static_cast<std::size_t>(i)] == i;
  EXPECT_TRUE(in_order);
}

TEST_F(Strand, CallbackOperationsBoundToAStrandAreSerialized) {
  auto lp = make_loop(4, 4);
  ASSERT_OK(lp->start());
  proact::strand s(*lp);
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> done{0};
  int unguarded = 0;  // incremented by every callback, without a lock
  constexpr int n = 2000;
  auto body = [&] {
    if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
    ++unguarded;
    inside.fetch_sub(1);
    done.fetch_add(1);
  };
  loop_reset_guard drain_first(lp);
  // A mix of strand posts and timers bound to the strand (destroyed before
  // their loop, as timers must be).
  std::vector<std::unique_ptr<proact::timer>> timers;
  for (int i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      ASSERT_OK(s.post(body));
    } else {
      timers.push_back(std::make_unique<proact::timer>(*lp));
      proact::timer& t = *timers.back();
      t.bind(&s);
      ASSERT_OK(t.start(std::chrono::milliseconds(0), [&](std::error_code) { body(); }));
    }
  }
  ASSERT_TRUE(spin_until([&] { return done.load() == n; }, std::chrono::seconds(120)));
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(unguarded, n);
}

TEST_F(Strand, DifferentStrandsRunInParallel) {
  auto lp = make_loop(2, 2);
  ASSERT_OK(lp->start());
  proact::strand a(*lp), b(*lp);
  std::atomic<int> arrived{0};
  std::atomic<int> met{0};
  std::atomic<int> done{0};
  loop_reset_guard drain_first(lp);
  // Each waits (bounded) until the other one is running too.
  auto meet = [&] {
    arrived.fetch_add(1);
    if (spin_until([&] { return arrived.load() == 2; }, std::chrono::seconds(2))) met.fetch_add(1);
    done.fetch_add(1);
  };
  ASSERT_OK(a.post(meet));
  ASSERT_OK(b.post(meet));
  ASSERT_TRUE(spin_until([&] { return done.load() == 2; }, std::chrono::seconds(10)));
  EXPECT_EQ(met.load(), 2) << "the two strands' work did not run at the same time";
}

TEST_F(Strand, DispatchInsideTheStrandRunsInline) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::strand s(*lp);
  event done;
  bool inline_run = false;
  loop_reset_guard drain_first(lp);
  ASSERT_OK(s.post([&] {
    bool after = false;
    ASSERT_OK(s.dispatch([&] { inline_run = !after; }));
    after = true;
    done.set();
  }));
  EXPECT_TRUE(done.wait());
  EXPECT_TRUE(inline_run);
}

}  // namespace
}  // namespace proact_test
