// Golden completion traces: a scenario records what it observes as text lines,
// and the lines must equal tests/conformance/golden/<scenario>.trace exactly,
// on every backend. A mismatch prints a unified-style diff.
//
// Lines:
//   recv#2 key=7 bytes=5 ok            a completion dequeued from the port
//   send_file#1 key=3 bytes<67108864 operation_aborted
//                                      ... whose byte count is only known to
//                                      be below a bound (a transfer cut short)
//   recv#1 key=7 bytes=3 ok (at start) skip_completion_on_success: the start
//                                      call returned the result
//   packet key=9 bytes=42 ok           a posted packet without an operation
//   wait -> timed_out                  a wait that dequeued nothing
//   idle                               nothing dequeued during a quiet period
//   cancel recv#2 -> not_found         a call whose result the scenario records
//   start recv#3 -> bad_handle         a start call that failed (a successful
//                                      start records nothing)
//   recv#1 data "abc"                  bytes an operation transferred
//   peer got "hello" eof               free text the scenario notes
//
// The condition is the name of the first proact::errc the error compares
// equal to, "ok" for success, or "unmapped(<category>:<value>)".
//
// Expected files may hold comments (lines starting with '#') and blank lines;
// both are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fixture.hpp"

namespace proact_test {

// "ok", "operation_aborted", ..., or "unmapped(<category>:<value>)".
std::string condition_name(const std::error_code& ec);

// Where the expected traces are: --golden-dir=DIR on the command line, else
// the directory compiled in (PROACT_GOLDEN_DIR).
void set_golden_directory(std::string dir);
const std::string& golden_directory();

class trace {
 public:
  // A start call: names `op` `label` until its completion is recorded.
  // Records "start <label> -> <condition>" if the call failed.
  void start(const std::string& label, const proact::operation& op, const std::error_code& ec);
  // A start call on a handle in skip_completion_on_success mode: records the
  // result returned at start ("... (at start)") if op.completed_at_start(),
  // else names `op` like start() (its completion comes through the port).
  void start_skipping(const std::string& label, const proact::operation& op,
                      const std::error_code& ec);
  // Names an operation posted with post().
  void posted(const std::string& label, const proact::operation& op, const std::error_code& ec);

  // Dequeues one completion and records it, or records the wait's error.
  void next(proact::port& p, proact::timeout t = must_happen_within);
  // The same, recording "bytes<limit" when the count is below `limit` (a
  // transfer cut short, whose exact count depends on socket buffers).
  void next_below(proact::port& p, std::size_t limit, proact::timeout t = must_happen_within);
  // Records "idle" if nothing is dequeued for `t`, else what was dequeued.
  void idle(proact::port& p, proact::timeout t = quiet_period);

  // Records "<what> -> <condition>".
  void call(const std::string& what, const std::error_code& ec);
  // Records "<label> data "<bytes>"" (non-printable bytes as \xNN).
  void data(const std::string& label, const void* bytes, std::size_t size);
  // Records a free-text line.
  void note(const std::string& line);

  const std::vector<std::string>& lines() const noexcept { return lines_; }

 private:
  void record(const proact::completion& c, std::size_t below, const char* suffix);
  std::string label_of(const proact::completion& c);

  std::map<const proact::operation*, std::string> labels_;
  std::vector<std::string> lines_;
};

// Compares `actual` with golden/<scenario>.trace.
::testing::AssertionResult matches_golden(const std::string& scenario, const trace& actual);

// The lines of a trace file without comments and blank lines; false if the
// file cannot be read.
bool read_trace_file(const std::string& path, std::vector<std::string>& lines);
// A unified-style diff of two line lists ("--- expected", "+++ actual", then
// ' ', '-' and '+' lines); empty if they are equal.
std::string line_diff(const std::vector<std::string>& expected,
                      const std::vector<std::string>& actual);

}  // namespace proact_test
