// <process.h> for a Win32 source built on Linux over proact: _beginthreadex
// comes from proact/win32.h (see docs/win32.md for what exists).
#pragma once
#include "proact/win32.h"
