// Catching process signals, implemented once per platform
// (src/linux/signal_posix.cpp: a signal handler and a self-pipe;
// src/win/signal_win.cpp: SetConsoleCtrlHandler). Signals are proact's
// portable numbers (signal_set::interrupt, terminate, hangup).
#pragma once

#include <system_error>

namespace proact::detail::sys {

// Where arrivals go: called on a thread of the platform layer (never inside
// a signal handler), once per arrival.
using signal_sink = void (*)(int signal);

// Catches `signal` (counted: the process catches it until every catch was
// released) and reports its arrivals to `sink`.
std::error_code catch_signal(int signal, signal_sink sink);
// Undoes one catch_signal(); the last one brings back the previous action.
// Not with a lock held that `sink` takes: it may wait for a running sink call.
void release_signal(int signal) noexcept;

}  // namespace proact::detail::sys
