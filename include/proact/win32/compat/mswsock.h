// <mswsock.h> for a Win32 source built on Linux over proact: the Win32 names
// come from proact/win32.h (see docs/win32.md for what exists).
#pragma once
#include "proact/win32.h"
