// What the example servers need from the operating system beyond proact:
// stopping on SIGINT/SIGTERM (Ctrl-C on Windows) and enough descriptors.
// Everything platform-specific lives in platform.cpp.
#pragma once

namespace examples {

// Installs std::signal handlers for SIGINT and SIGTERM that only note the
// signal (a second SIGINT/SIGTERM gets the default action: the process ends).
void install_stop_handlers();
// True once SIGINT or SIGTERM arrived.
bool stop_requested() noexcept;
// Blocks the calling thread until SIGINT or SIGTERM arrives.
void wait_for_stop();

// POSIX: raises the soft limit on open descriptors to the hard limit (one
// connection is one descriptor). Returns the limit now in force, or 0 where
// there is no such limit (Windows).
unsigned long raise_open_file_limit();

}  // namespace examples
