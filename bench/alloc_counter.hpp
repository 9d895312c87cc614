// Counts heap allocations made through operator new anywhere in the process
// (the bench executable replaces the global operator new; see
// alloc_counter.cpp), so that a benchmark can report allocations per
// operation. The target for proact's steady state is zero.
#pragma once

#include <cstdint>

namespace proact_bench {

// Allocations made so far by this process through any form of operator new,
// plus those reported with note_allocation().
std::uint64_t allocation_count() noexcept;

// Counts one allocation made outside operator new: peers that allocate with
// malloc and let the user replace their allocator (libuv's
// uv_replace_allocator) report theirs here.
void note_allocation() noexcept;

}  // namespace proact_bench
