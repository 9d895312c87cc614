// The only place in the conformance suite that knows which operating system
// it runs on. Test bodies use the public proact API and these few helpers.
#pragma once

#include <cstddef>
#include <string>

namespace proact_test {

// True when the executable runs under Wine (ntdll exports wine_get_version).
bool running_under_wine() noexcept;
// "Linux", "Windows", "Wine 8.0", ... for the log.
std::string platform_description();

// The value of an environment variable; empty if it is not set.
std::string environment_variable(const char* name);

// Raw allocation for the counting operator new (alloc_test.cpp), kept out of
// line so that the compiler does not pair them with the operators.
void* raw_allocate(std::size_t size) noexcept;
void raw_deallocate(void* p) noexcept;
// Raw aligned allocation for the counting operator new (alloc_test.cpp):
// std::aligned_alloc does not exist on Windows' C runtime.
void* aligned_allocate(std::size_t size, std::size_t alignment) noexcept;
void aligned_deallocate(void* p) noexcept;

}  // namespace proact_test
