#include "platform.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <malloc.h>
#include <windows.h>
#include <winioctl.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

namespace {
std::wstring widen(const std::string& utf8) {
  if (utf8.empty()) return {};
  const int n =
      MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), wide.data(), n);
  return wide;
}

std::string narrow(const wchar_t* wide, std::size_t size) {
  if (size == 0) return {};
  const int n =
      WideCharToMultiByte(CP_UTF8, 0, wide, static_cast<int>(size), nullptr, 0, nullptr, nullptr);
  std::string utf8(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide, static_cast<int>(size), utf8.data(), n, nullptr, nullptr);
  return utf8;
}

std::string win32_error_text(const char* what, DWORD code) {
  return std::string(what) + " failed with Win32 error " + std::to_string(code);
}
}  // namespace

std::string create_temp_directory(std::string& why) {
  wchar_t base[MAX_PATH + 1];
  const DWORD n = GetTempPathW(MAX_PATH + 1, base);
  if (n == 0 || n > MAX_PATH) {
    why = win32_error_text("GetTempPathW", GetLastError());
    return {};
  }
  std::string dir = narrow(base, n);
  for (char& c : dir)
    if (c == '\\') c = '/';
  if (!dir.empty() && dir.back() != '/') dir += '/';
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string path = dir + "proact-test-" + std::to_string(GetCurrentProcessId()) + "-" +
                             std::to_string(counter.fetch_add(1)) + "-" +
                             std::to_string(GetTickCount64() % 100000);
    if (CreateDirectoryW(widen(path).c_str(), nullptr)) return path;
    if (GetLastError() != ERROR_ALREADY_EXISTS) {
      why = win32_error_text("CreateDirectoryW", GetLastError()) + " for " + path;
      return {};
    }
  }
  why = "no unused directory name under " + dir;
  return {};
}

bool remove_file(const std::string& path) noexcept {
  try {
    return DeleteFileW(widen(path).c_str()) != 0;
  } catch (...) {
    return false;
  }
}

bool remove_directory(const std::string& path) noexcept {
  try {
    return RemoveDirectoryW(widen(path).c_str()) != 0;
  } catch (...) {
    return false;
  }
}

bool file_exists(const std::string& path) noexcept {
  try {
    return GetFileAttributesW(widen(path).c_str()) != INVALID_FILE_ATTRIBUTES;
  } catch (...) {
    return false;
  }
}

bool is_read_only(const std::string& path) noexcept {
  try {
    const DWORD attributes = GetFileAttributesW(widen(path).c_str());
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_READONLY) != 0;
  } catch (...) {
    return false;
  }
}

bool make_writable(const std::string& path) noexcept {
  try {
    return SetFileAttributesW(widen(path).c_str(), FILE_ATTRIBUTE_NORMAL) != 0;
  } catch (...) {
    return false;
  }
}

bool permission_bits(const std::string&, unsigned&) noexcept {
  return false;  // Windows has no POSIX mode
}

unsigned process_umask() noexcept {
  return 0;
}

bool allow_sparse(proact::native_handle_type h, std::string& why) {
  DWORD returned = 0;
  OVERLAPPED overlapped{};  // the handle is overlapped: the call needs one
  overlapped.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (overlapped.hEvent == nullptr) {
    why = win32_error_text("CreateEventW", GetLastError());
    return false;
  }
  // The low bit of hEvent keeps the result off the completion port.
  overlapped.hEvent =
      reinterpret_cast<HANDLE>(reinterpret_cast<std::uintptr_t>(overlapped.hEvent) | 1);
  BOOL ok = DeviceIoControl(reinterpret_cast<HANDLE>(h), FSCTL_SET_SPARSE, nullptr, 0, nullptr, 0,
                            &returned, &overlapped);
  if (!ok && GetLastError() == ERROR_IO_PENDING)
    ok = GetOverlappedResult(reinterpret_cast<HANDLE>(h), &overlapped, &returned, TRUE);
  const DWORD error = ok ? 0 : GetLastError();
  CloseHandle(reinterpret_cast<HANDLE>(reinterpret_cast<std::uintptr_t>(overlapped.hEvent) &
                                       ~std::uintptr_t{1}));
  if (!ok) {
    why = win32_error_text("DeviceIoControl(FSCTL_SET_SPARSE)", error);
    return false;
  }
  return true;
}

long open_handle_count() noexcept {
  DWORD count = 0;
  return GetProcessHandleCount(GetCurrentProcess(), &count) ? static_cast<long>(count) : -1;
}

proact::native_handle_type open_native_file(const std::string& path) noexcept {
  const HANDLE h = CreateFileW(widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr,
                               OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
  return h == INVALID_HANDLE_VALUE ? proact::invalid_native_handle
                                   : reinterpret_cast<proact::native_handle_type>(h);
}

proact::native_handle_type open_native_file_nonblocking(const std::string& path) noexcept {
  return open_native_file(path);
}

bool native_nonblocking(proact::native_handle_type) noexcept {
  return false;
}

proact::native_handle_type open_native_directory(const std::string& path) noexcept {
  const HANDLE h = CreateFileW(
      widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
      nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OVERLAPPED, nullptr);
  return h == INVALID_HANDLE_VALUE ? proact::invalid_native_handle
                                   : reinterpret_cast<proact::native_handle_type>(h);
}

void close_native(proact::native_handle_type h) noexcept {
  CloseHandle(reinterpret_cast<HANDLE>(h));
}

bool list_open_descriptors(std::vector<std::string>& out) {
  out.clear();
  return false;  // no cheap, complete list of a process's handles
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

std::string create_temp_directory(std::string& why) {
  std::string base = environment_variable("TMPDIR");
  if (base.empty()) base = "/tmp";
  if (base.back() != '/') base += '/';
  std::string pattern = base + "proact-test-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    why = "mkdtemp(" + pattern + ") failed: " + std::strerror(errno);
    return {};
  }
  return std::string(name.data());
}

bool remove_file(const std::string& path) noexcept {
  return ::unlink(path.c_str()) == 0;
}

bool remove_directory(const std::string& path) noexcept {
  return ::rmdir(path.c_str()) == 0;
}

bool file_exists(const std::string& path) noexcept {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_read_only(const std::string& path) noexcept {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & 0222) == 0;
}

bool make_writable(const std::string& path) noexcept {
  return ::chmod(path.c_str(), 0644) == 0;
}

bool permission_bits(const std::string& path, unsigned& bits) noexcept {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  bits = static_cast<unsigned>(st.st_mode) & 07777u;
  return true;
}

unsigned process_umask() noexcept {
  const mode_t mask = ::umask(022);  // the only way to read it is to set it
  ::umask(mask);
  return static_cast<unsigned>(mask);
}

bool allow_sparse(proact::native_handle_type, std::string&) {
  return true;  // POSIX file systems leave holes unallocated by themselves
}

long open_handle_count() noexcept {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  long n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

proact::native_handle_type open_native_file(const std::string& path) noexcept {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

proact::native_handle_type open_native_file_nonblocking(const std::string& path) noexcept {
  return ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

bool native_nonblocking(proact::native_handle_type h) noexcept {
  const int flags = ::fcntl(h, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

proact::native_handle_type open_native_directory(const std::string& path) noexcept {
  return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void close_native(proact::native_handle_type h) noexcept {
  ::close(h);
}

bool list_open_descriptors(std::vector<std::string>& out) {
  out.clear();
#if defined(__linux__)
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return false;
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == own) continue;
    const std::string path = std::string("/proc/self/fd/") + entry->d_name;
    char target[256];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof(target) - 1);
    out.push_back(std::string(entry->d_name) + " -> " +
                  (n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "?"));
  }
  ::closedir(dir);
  return true;
#else
  return false;
#endif
}

#endif

}  // namespace proact_test
