// Command-line flags for the example servers: --name value or --name=value,
// and --help.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proact/port.hpp"

namespace examples {

struct flag {
  std::string_view name;  // without the dashes: "port"
  std::string* value;     // receives the text; holds the default beforehand
  std::string_view help;
};

enum class parse_outcome { run, exit_ok, exit_error };

// Fills the flags' values from argv. --help prints `synopsis` and the flags
// on stdout (exit_ok); an unknown flag or a missing value is reported on
// stderr (exit_error).
parse_outcome parse_flags(int argc, char** argv, std::span<const flag> flags,
                          std::string_view synopsis);

// Strict conversions; false (with a message on stderr) if `text` is not a
// number in [0, max].
bool to_unsigned(std::string_view flag_name, std::string_view text, std::uint64_t max,
                 std::uint64_t& out);
// "epoll", "io_uring", "iocp", "auto".
bool to_backend(std::string_view text, proact::backend_kind& out);

// Writes a line on stdout and flushes it (tests read the output through a pipe).
void print_line(std::string_view text);

}  // namespace examples
