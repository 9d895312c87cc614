// The only place in the conformance suite that knows which operating system
// it runs on. Test bodies use the public proact API and these few helpers.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "proact/detail/config.hpp"

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

// ---- files ----------------------------------------------------------
// Paths are UTF-8 with '/' separators (Windows accepts them).

// Creates a new, empty directory under the system's temporary directory
// (TMPDIR or /tmp on POSIX, GetTempPath on Windows) and returns its path;
// empty on failure, with `why` saying why.
std::string create_temp_directory(std::string& why);
// Removes a file; false if it did not exist or could not be removed.
bool remove_file(const std::string& path) noexcept;
// Removes an empty directory.
bool remove_directory(const std::string& path) noexcept;
// Whether a file exists at `path`.
bool file_exists(const std::string& path) noexcept;
// Whether nobody may write the file (no write bit on POSIX, the read-only
// attribute on Windows).
bool is_read_only(const std::string& path) noexcept;
// Lets the file be written (and, on Windows, removed) again.
bool make_writable(const std::string& path) noexcept;
// The file's POSIX permission bits; false where there are none (Windows).
bool permission_bits(const std::string& path, unsigned& bits) noexcept;
// The process's umask (0 on Windows).
unsigned process_umask() noexcept;
// Lets the open file `h` be sparse, so that a write far past its end does not
// allocate (or zero-fill) the gap: nothing to do on POSIX file systems,
// FSCTL_SET_SPARSE on Windows. False, with `why`, if the platform refused.
bool allow_sparse(proact::native_handle_type h, std::string& why);

// ---- descriptors and native handles --------------------------------------------

// How many descriptors (POSIX) or kernel handles (Windows) the process has open.
long open_handle_count() noexcept;
// Opens an existing regular file natively (read-only), for APIs that adopt a
// native handle; invalid_native_handle on failure.
proact::native_handle_type open_native_file(const std::string& path) noexcept;
// open_native_file, on POSIX with O_NONBLOCK; and whether a descriptor has
// O_NONBLOCK set (always false on Windows, which has no such flag).
proact::native_handle_type open_native_file_nonblocking(const std::string& path) noexcept;
bool native_nonblocking(proact::native_handle_type h) noexcept;
// Opens an existing directory natively; invalid_native_handle on failure.
proact::native_handle_type open_native_directory(const std::string& path) noexcept;
void close_native(proact::native_handle_type h) noexcept;

// The process's open descriptors, one "number -> what it is" line each (the
// descriptor leak check, descriptor_leak_check.cpp); false where the platform
// offers no such list (only Linux has one: /proc/self/fd).
bool list_open_descriptors(std::vector<std::string>& out);

}  // namespace proact_test
