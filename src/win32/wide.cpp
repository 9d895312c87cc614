// CreateFileW and DeleteFileW over their ANSI forms (which take UTF-8 here),
// and the conversions (wide.hpp).
#include "wide.hpp"

#include <cstdint>

#include "proact/win32.h"

namespace proact::win32 {
namespace {

void append_utf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A wchar_t as a code unit. wchar_t is signed on Linux: a negative one
// becomes a value beyond U+10FFFF, which is refused.
std::uint32_t unit_of(wchar_t c) noexcept {
  return static_cast<std::uint32_t>(static_cast<std::int32_t>(c));
}

bool is_high_surrogate(std::uint32_t u) noexcept {
  return u >= 0xD800 && u <= 0xDBFF;
}
bool is_low_surrogate(std::uint32_t u) noexcept {
  return u >= 0xDC00 && u <= 0xDFFF;
}

}  // namespace

bool utf8_from_wide(const wchar_t* in, std::string& out) {
  out.clear();
  for (; *in != 0; ++in) {
    std::uint32_t cp = unit_of(*in);
    if (is_high_surrogate(cp) && is_low_surrogate(unit_of(in[1]))) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (unit_of(in[1]) - 0xDC00);
      ++in;
    } else if (is_high_surrogate(cp) || is_low_surrogate(cp) || cp > 0x10FFFF) {
      return false;
    }
    append_utf8(cp, out);
  }
  return true;
}

bool wide_from_utf8(const char* in, std::wstring& out) {
  out.clear();
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  while (*p != 0) {
    std::uint32_t cp = *p;
    int more = 0;
    if (cp >= 0xF0 && cp <= 0xF4) {
      cp &= 0x07;
      more = 3;
    } else if (cp >= 0xE0) {
      cp &= 0x0F;
      more = 2;
    } else if (cp >= 0xC2 && cp < 0xE0) {
      cp &= 0x1F;
      more = 1;
    } else if (cp >= 0x80) {
      return false;
    }
    ++p;
    for (; more > 0; --more, ++p) {
      if ((*p & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (*p & 0x3F);
    }
    if (cp > 0x10FFFF || is_high_surrogate(cp) || is_low_surrogate(cp)) return false;
    out += static_cast<wchar_t>(cp);
  }
  return true;
}

}  // namespace proact::win32

using proact::win32::utf8_from_wide;

HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPVOID lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile) {
  std::string name;
  if (lpFileName == nullptr || !utf8_from_wide(lpFileName, name)) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return INVALID_HANDLE_VALUE;
  }
  return CreateFileA(name.c_str(), dwDesiredAccess, dwShareMode, lpSecurityAttributes,
                     dwCreationDisposition, dwFlagsAndAttributes, hTemplateFile);
}

BOOL WINAPI DeleteFileW(LPCWSTR lpFileName) {
  std::string name;
  if (lpFileName == nullptr || !utf8_from_wide(lpFileName, name)) {
    SetLastError(ERROR_INVALID_PARAMETER);
    return FALSE;
  }
  return DeleteFileA(name.c_str());
}
