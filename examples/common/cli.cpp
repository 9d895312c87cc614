#include "cli.hpp"

#include <charconv>
#include <cstdio>
#include <string>
#include <system_error>

namespace examples {

namespace {

void print_usage(std::FILE* out, std::span<const flag> flags, std::string_view synopsis) {
  std::string text(synopsis);
  text += "\n\nflags:\n";
  for (const flag& f : flags) {
    std::string left = "  --" + std::string(f.name) + " VALUE";
    if (left.size() < 27) left.resize(27, ' ');
    text += left + " " + std::string(f.help);
    if (!f.value->empty()) text += " (default: " + *f.value + ")";
    text += "\n";
  }
  text += "  --help                     this text\n";
  std::fputs(text.c_str(), out);
}

void complain(std::string_view message) {
  std::string line(message);
  line += "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace

parse_outcome parse_flags(int argc, char** argv, std::span<const flag> flags,
                          std::string_view synopsis) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_usage(stdout, flags, synopsis);
      return parse_outcome::exit_ok;
    }
    if (arg.substr(0, 2) != "--") {
      complain("unexpected argument: " + std::string(arg) + " (see --help)");
      return parse_outcome::exit_error;
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::string_view value;
    bool has_value = false;
    if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const flag* match = nullptr;
    for (const flag& f : flags) {
      if (f.name == name) match = &f;
    }
    if (match == nullptr) {
      complain("unknown flag: --" + std::string(name) + " (see --help)");
      return parse_outcome::exit_error;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        complain("--" + std::string(name) + " needs a value");
        return parse_outcome::exit_error;
      }
      value = argv[++i];
    }
    *match->value = std::string(value);
  }
  return parse_outcome::run;
}

bool to_unsigned(std::string_view flag_name, std::string_view text, std::uint64_t max,
                 std::uint64_t& out) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v > max) {
    complain("--" + std::string(flag_name) + ": expected a number from 0 to " +
             std::to_string(max) + ", got '" + std::string(text) + "'");
    return false;
  }
  out = v;
  return true;
}

bool to_backend(std::string_view text, proact::backend_kind& out) {
  std::error_code ec;
  proact::backend_kind kind = proact::backend_from_string(text, ec);
  if (ec) {
    complain("--backend: expected epoll, io_uring, iocp or auto, got '" + std::string(text) + "'");
    return false;
  }
  out = kind;
  return true;
}

void print_line(std::string_view text) {
  std::string line(text);
  line += "\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace examples
