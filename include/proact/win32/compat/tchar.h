// <tchar.h> for a Win32 source built on Linux over proact: the ANSI
// mapping (TCHAR is char), since the layer's A functions take UTF-8. A
// source built with _UNICODE gets the same mapping: Linux has no wmain.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "proact/win32.h"

typedef char TCHAR;
typedef char _TCHAR;
typedef char* LPTSTR;
typedef const char* LPCTSTR;
#define _T(x) x
#define _TEXT(x) x
#define TEXT(x) x
#define _tmain main
#define _tprintf std::printf
#define _ftprintf std::fprintf
#define _stprintf std::sprintf
#define _sntprintf _snprintf
#define _stprintf_s sprintf_s
#define _tcslen std::strlen
#define _tcscpy std::strcpy
#define _tcscpy_s strcpy_s
#define _tcscat std::strcat
#define _tcscat_s strcat_s
#define _tcscmp std::strcmp
#define _tcsicmp _stricmp
#define _tcsncmp std::strncmp
#define _tcsnicmp _strnicmp
#define _tcschr std::strchr
#define _tcsrchr std::strrchr
#define _tcsstr std::strstr
#define _tcsdup _strdup
#define _tcstol std::strtol
#define _tcstoul std::strtoul
#define _ttoi std::atoi
#define _ttol std::atol
#define _tfopen std::fopen
