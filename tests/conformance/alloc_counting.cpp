// Allocation counting for the suites' allocation tests: every global
// operator new of the executable is replaced by a counting one
// (start_counting_allocations / stop_counting_allocations, fixture.hpp).
#include <atomic>
#include <cstdlib>
#include <new>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

void start_counting_allocations() noexcept {
  allocations.store(0);
  counting.store(true);
}
std::size_t stop_counting_allocations() noexcept {
  counting.store(false);
  return allocations.exchange(0);
}

namespace {

void* allocate(std::size_t size) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  return raw_allocate(size);
}
void* allocate_aligned(std::size_t size, std::align_val_t alignment) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  return aligned_allocate(size, static_cast<std::size_t>(alignment));
}
}  // namespace
}  // namespace proact_test

// ---- the replaced allocation functions (all of them) ------------------------

void* operator new(std::size_t size) {
  if (void* p = proact_test::allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = proact_test::allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return proact_test::allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return proact_test::allocate(size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (void* p = proact_test::allocate_aligned(size, alignment)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  if (void* p = proact_test::allocate_aligned(size, alignment)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return proact_test::allocate_aligned(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return proact_test::allocate_aligned(size, alignment);
}

void operator delete(void* p) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete[](void* p) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete(void* p, std::size_t) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  proact_test::raw_deallocate(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  proact_test::aligned_deallocate(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  proact_test::aligned_deallocate(p);
}
