// Opening a file inside the document root, following symbolic links only as
// long as they stay inside it. The check is made on what is opened, not on a
// path that could be swapped for a link between a check and the open:
// Linux opens relative to the root with openat2(RESOLVE_BENEATH), or where
// the kernel lacks it resolves component by component with O_NOFOLLOW;
// Windows opens the path and checks the final path of the opened handle.
// The platform parts are confined_open_posix.cpp and confined_open_win.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "proact/file.hpp"

namespace http {

class document_root {
 public:
  // Opens the root directory; false (with `why`) if it is not one.
  bool open(const std::string& path, std::string& why);
  ~document_root();
  document_root() = default;
  document_root(const document_root&) = delete;
  document_root& operator=(const document_root&) = delete;

  enum class outcome {
    file,          // `out` is open for reading
    directory,     // the path is a directory (inside the root)
    not_found,     // nothing there, or not a regular file
    outside_root,  // it resolves outside the root (through a link)
    unavailable,   // out of descriptors or memory: try again later (503)
  };
  // Whether a failure to open is the process running out of a resource
  // rather than anything about the file.
  static bool out_of_resources(const std::error_code& ec) noexcept {
    return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
           ec == std::errc::not_enough_memory;
  }
  // `relative` is resolve_target()'s path ('/'-separated UTF-8, no "..").
  // With outcome::file, `size` is the file's size when it was opened.
  outcome open_file(std::string_view relative, proact::file& out, std::uint64_t& size) const;

 private:
  std::string path_;         // UTF-8
  long long native_ = -1;    // POSIX: the root's directory descriptor
  std::wstring final_path_;  // Windows: the root's final path
};

}  // namespace http
