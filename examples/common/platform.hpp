// What the example servers need from the operating system beyond proact:
// enough descriptors. (Stopping on Ctrl-C is proact's: proact::signal_set.)
// Everything platform-specific lives in platform.cpp.
#pragma once

namespace examples {

// POSIX: raises the soft limit on open descriptors to the hard limit (one
// connection is one descriptor). Returns the limit now in force, or 0 where
// there is no such limit (Windows).
unsigned long raise_open_file_limit();

}  // namespace examples
