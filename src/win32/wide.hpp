// WCHAR strings (wchar_t: 32 bits on Linux, so a Windows source's L"..."
// literals compile unchanged) to and from the UTF-8 that Linux names use.
#pragma once

#include <cstddef>
#include <string>

namespace proact::win32 {

// Code points, or UTF-16 units (surrogate pairs are joined), to UTF-8;
// false for a lone surrogate or a value beyond U+10FFFF.
bool utf8_from_wide(const wchar_t* in, std::string& out);
// UTF-8 to code points; false for an invalid sequence. `out` gets the
// terminating 0 too.
bool wide_from_utf8(const char* in, std::wstring& out);

}  // namespace proact::win32
