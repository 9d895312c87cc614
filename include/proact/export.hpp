// PROACT_API marks what a shared proact library exports: the public classes
// and free functions. A static library (the default) needs no marking. A
// shared build defines PROACT_SHARED for itself and for everything that links
// it (CMake's proact::proact target and proact.pc carry it), and
// PROACT_BUILDING while compiling the library: on Windows the DLL then
// exports and its users import; elsewhere the library is built with hidden
// visibility and only these symbols are visible.
#pragma once

#if !defined(PROACT_SHARED)
#define PROACT_API
#elif defined(_WIN32)
#if defined(PROACT_BUILDING)
#define PROACT_API __declspec(dllexport)
#else
#define PROACT_API __declspec(dllimport)
#endif
#else
#define PROACT_API __attribute__((visibility("default")))
#endif
