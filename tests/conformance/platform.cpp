#include "platform.hpp"

#include <cstdlib>
#include <cstring>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <malloc.h>
#include <windows.h>
#endif

namespace proact_test {

std::string environment_variable(const char* name) {
#if defined(_MSC_VER)
  char* value = nullptr;
  std::size_t size = 0;
  if (_dupenv_s(&value, &size, name) != 0 || value == nullptr) return {};
  std::string result(value);
  std::free(value);
  return result;
#else
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
#endif
}

void* raw_allocate(std::size_t size) noexcept {
  return std::malloc(size == 0 ? 1 : size);
}
void raw_deallocate(void* p) noexcept {
  std::free(p);
}

#if defined(_WIN32)

namespace {
using wine_get_version_fn = const char*(__cdecl*)();

wine_get_version_fn find_wine_get_version() noexcept {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (ntdll == nullptr) return nullptr;
  // GetProcAddress returns FARPROC; go through void* to the real signature.
  FARPROC proc = GetProcAddress(ntdll, "wine_get_version");
  if (proc == nullptr) return nullptr;
  wine_get_version_fn fn = nullptr;
  static_assert(sizeof(fn) == sizeof(proc));
  std::memcpy(&fn, &proc, sizeof(fn));
  return fn;
}
}  // namespace

bool running_under_wine() noexcept {
  return find_wine_get_version() != nullptr;
}

std::string platform_description() {
  if (wine_get_version_fn fn = find_wine_get_version()) return std::string("Wine ") + fn();
  return "Windows";
}

void* aligned_allocate(std::size_t size, std::size_t alignment) noexcept {
  return _aligned_malloc(size == 0 ? 1 : size, alignment);
}
void aligned_deallocate(void* p) noexcept {
  _aligned_free(p);
}

#else

bool running_under_wine() noexcept {
  return false;
}

std::string platform_description() {
#if defined(__linux__)
  return "Linux";
#else
  return "POSIX";
#endif
}

void* aligned_allocate(std::size_t size, std::size_t alignment) noexcept {
  void* p = nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  if (posix_memalign(&p, alignment, size == 0 ? 1 : size) != 0) return nullptr;
  return p;
}
void aligned_deallocate(void* p) noexcept {
  std::free(p);
}

#endif

}  // namespace proact_test
