#include "trace.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

namespace proact_test {

std::string condition_name(const std::error_code& ec) {
  if (!ec) return "ok";
  // Every condition has a name (name_of); the values run from 1 without gaps.
  for (int v = static_cast<int>(proact::errc::operation_aborted);; ++v) {
    const auto e = static_cast<proact::errc>(v);
    const std::string name = name_of(e);
    if (name == "?") break;
    if (ec == e) return name;
  }
  return "unmapped(" + std::string(ec.category().name()) + ":" + std::to_string(ec.value()) + ")";
}

namespace {
#ifdef PROACT_GOLDEN_DIR
std::string g_golden_directory = PROACT_GOLDEN_DIR;
#else
std::string g_golden_directory;
#endif
}  // namespace

void set_golden_directory(std::string dir) {
  g_golden_directory = std::move(dir);
}
const std::string& golden_directory() {
  return g_golden_directory;
}

// ---- recording -------------------------------------------------------------------

void trace::start(const std::string& label, const proact::operation& op,
                  const std::error_code& ec) {
  if (ec) {
    call("start " + label, ec);
    return;
  }
  labels_[&op] = label;
}

void trace::start_skipping(const std::string& label, const proact::operation& op,
                           const std::error_code& ec) {
  if (ec || !op.completed_at_start()) {
    start(label, op, ec);
    return;
  }
  labels_[&op] = label;
  record(op.result(), 0, " (at start)");
}

void trace::posted(const std::string& label, const proact::operation& op,
                   const std::error_code& ec) {
  start(label, op, ec);
}

std::string trace::label_of(const proact::completion& c) {
  if (c.op == nullptr) return "packet";
  const auto it = labels_.find(c.op);
  if (it == labels_.end()) return "unknown-operation";
  std::string label = it->second;
  labels_.erase(it);  // a later start names it anew
  return label;
}

void trace::record(const proact::completion& c, std::size_t below, const char* suffix) {
  std::ostringstream line;
  line << label_of(c) << " key=" << c.key;
  if (below != 0 && c.bytes < below)
    line << " bytes<" << below;
  else
    line << " bytes=" << c.bytes;
  line << ' ' << condition_name(c.error) << suffix;
  lines_.push_back(line.str());
}

void trace::next(proact::port& p, proact::timeout t) {
  next_below(p, 0, t);
}

void trace::next_below(proact::port& p, std::size_t limit, proact::timeout t) {
  proact::completion c;
  if (const std::error_code ec = p.wait(c, t)) {
    lines_.push_back("wait -> " + condition_name(ec));
    return;
  }
  record(c, limit, "");
}

void trace::idle(proact::port& p, proact::timeout t) {
  proact::completion c;
  const std::error_code ec = p.wait(c, t);
  if (ec == proact::errc::timed_out) {
    lines_.push_back("idle");
  } else if (ec) {
    lines_.push_back("wait -> " + condition_name(ec));
  } else {
    record(c, 0, "");
  }
}

void trace::call(const std::string& what, const std::error_code& ec) {
  lines_.push_back(what + " -> " + condition_name(ec));
}

void trace::data(const std::string& label, const void* bytes, std::size_t size) {
  std::string line = label + " data \"";
  const auto* b = static_cast<const unsigned char*>(bytes);
  for (std::size_t i = 0; i < size; ++i) {
    if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\') {
      line += static_cast<char>(b[i]);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", b[i]);
      line += hex;
    }
  }
  line += '"';
  lines_.push_back(line);
}

void trace::note(const std::string& line) {
  lines_.push_back(line);
}

// ---- comparing -------------------------------------------------------------------

bool read_trace_file(const std::string& path, std::vector<std::string>& lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a checkout with CRLF
    if (line.empty() || line.front() == '#') continue;
    lines.push_back(line);
  }
  return true;
}

std::string line_diff(const std::vector<std::string>& expected,
                      const std::vector<std::string>& actual) {
  if (expected == actual) return {};
  // Longest common subsequence over lines (traces are short).
  const std::size_t n = expected.size();
  const std::size_t m = actual.size();
  std::vector<std::vector<std::size_t>> lcs(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i][j] =
          expected[i] == actual[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::ostringstream out;
  out << "--- expected\n+++ actual\n";
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] == actual[j]) {
      out << "  " << expected[i++] << '\n';
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out << "- " << expected[i++] << '\n';
    } else {
      out << "+ " << actual[j++] << '\n';
    }
  }
  return out.str();
}

::testing::AssertionResult matches_golden(const std::string& scenario, const trace& actual) {
  const std::string path = golden_directory() + "/" + scenario + ".trace";
  std::vector<std::string> expected;
  if (!read_trace_file(path, expected)) {
    std::ostringstream lines;
    for (const std::string& l : actual.lines()) lines << "  " << l << '\n';
    return ::testing::AssertionFailure() << "cannot read the expected trace " << path
                                         << " (pass --golden-dir=DIR); the actual trace was:\n"
                                         << lines.str();
  }
  const std::string diff = line_diff(expected, actual.lines());
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "trace " << scenario << " differs from " << path << ":\n"
                                       << diff;
}

}  // namespace proact_test
