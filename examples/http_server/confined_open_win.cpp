// document_root on Windows: the file is opened by its path, then the final
// path of the opened handle (every link and junction resolved) must lie
// inside the root's final path; what is checked is what is served.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cwctype>
#include <filesystem>
#include <string>
#include <string_view>

#include "confined_open.hpp"

namespace http {

namespace {

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  const int n =
      ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring w(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), w.data(), n);
  return w;
}

std::wstring final_path(HANDLE h) {
  std::wstring out(512, L'\0');
  for (;;) {
    const DWORD n = ::GetFinalPathNameByHandleW(h, out.data(), static_cast<DWORD>(out.size()),
                                                FILE_NAME_NORMALIZED);
    if (n == 0) return {};
    if (n < out.size()) {
      out.resize(n);
      return out;
    }
    out.resize(n + 1);
  }
}

std::wstring lower(std::wstring s) {
  for (wchar_t& c : s) c = static_cast<wchar_t>(std::towlower(c));
  return s;
}

}  // namespace

bool document_root::open(const std::string& path, std::string& why) {
  HANDLE h =
      ::CreateFileW(widen(path).c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    why = "not a directory: " + path;
    return false;
  }
  final_path_ = lower(final_path(h));
  ::CloseHandle(h);
  if (final_path_.empty()) {
    why = "cannot resolve: " + path;
    return false;
  }
  if (final_path_.back() != L'\\') final_path_ += L'\\';
  path_ = path;
  return true;
}

document_root::~document_root() = default;

document_root::outcome document_root::open_file(std::string_view relative, proact::file& out,
                                                std::uint64_t& size) const {
  const std::string full = relative.empty() ? path_ : path_ + "/" + std::string(relative);
  std::error_code ec;
  const auto st = std::filesystem::status(std::filesystem::path(widen(full)), ec);
  if (ec) return outcome::not_found;
  if (std::filesystem::is_directory(st)) return outcome::directory;
  if (const std::error_code open_error = out.open(full, proact::file_mode::read))
    return out_of_resources(open_error) ? outcome::unavailable : outcome::not_found;
  const std::wstring opened = lower(final_path(reinterpret_cast<HANDLE>(out.native_handle())));
  if (opened.compare(0, final_path_.size(), final_path_) != 0) {
    (void)out.close();
    return outcome::outside_root;
  }
  if (out.size(size)) {
    (void)out.close();
    return outcome::not_found;
  }
  return outcome::file;
}

}  // namespace http
