#include "http_parser.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace http {

namespace {

constexpr std::string_view whitespace = " \t";

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  std::size_t first = s.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  std::size_t last = s.find_last_not_of(whitespace);
  return s.substr(first, last - first + 1);
}

// Does the comma-separated list contain `token` (case-insensitively)?
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// The line starting at `pos`, without its CRLF or LF; false if no LF yet.
bool next_line(std::string_view data, std::size_t pos, std::string_view& line, std::size_t& next) {
  std::size_t lf = data.find('\n', pos);
  if (lf == std::string_view::npos) return false;
  line = data.substr(pos, lf - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  next = lf + 1;
  return true;
}

parse_result fail(int status) {
  parse_result r;
  r.status = parse_status::error;
  r.error_status = status;
  return r;
}

// Field values: visible characters, spaces, tabs and obs-text; no CR, LF, NUL
// or other controls.
bool valid_field_value(std::string_view v) {
  return std::none_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// request-line = method SP request-target SP HTTP-version; 0 if fine, else
// the status to answer.
int parse_request_line(std::string_view line, request& req) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return 400;
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return 400;
  req.method_name = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(req.method_name) || req.target.empty()) return 400;
  for (char c : req.target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return 400;  // controls, spaces, raw non-ASCII
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return 400;
  if (version[5] != '1') return 505;
  req.version_minor = version[7] == '0' ? 0 : 1;
  if (req.method_name == "GET") {
    req.verb = method::get;
  } else if (req.method_name == "HEAD") {
    req.verb = method::head;
  } else {
    req.verb = method::other;
  }
  return 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

parse_result parse_request(std::string_view data, std::size_t max_head_bytes) {
  // Empty lines before the request line are skipped (they count as head).
  std::size_t pos = 0;
  while (pos < data.size() && (data[pos] == '\n' || data[pos] == '\r')) {
    if (data[pos] == '\r' && pos + 1 < data.size() && data[pos + 1] != '\n') return fail(400);
    ++pos;
  }
  if (pos >= max_head_bytes) return fail(431);

  parse_result r;
  std::string_view line;
  std::size_t next = 0;
  if (!next_line(data, pos, line, next)) {
    return data.size() >= max_head_bytes ? fail(431) : r;  // incomplete
  }
  if (next > max_head_bytes) return fail(431);
  if (int status = parse_request_line(line, r.req)) return fail(status);

  bool have_length = false, chunked_or_other = false, close = false, keep_alive = false;
  std::uint64_t length = 0;
  int hosts = 0;
  for (pos = next;;) {
    if (!next_line(data, pos, line, next)) {
      return data.size() >= max_head_bytes ? fail(431) : r;  // incomplete
    }
    if (next > max_head_bytes) return fail(431);
    pos = next;
    if (line.empty()) break;                                            // end of the head
    if (line.front() == ' ' || line.front() == '\t') return fail(400);  // obsolete folding
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400);
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (!is_token(name) || !valid_field_value(value)) return fail(400);
    if (iequals(name, "Content-Length")) {
      std::uint64_t v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
        return fail(400);
      if (have_length && v != length) return fail(400);
      have_length = true;
      length = v;
    } else if (iequals(name, "Transfer-Encoding")) {
      chunked_or_other = true;
    } else if (iequals(name, "Connection")) {
      close = close || has_token(value, "close");
      keep_alive = keep_alive || has_token(value, "keep-alive");
    } else if (iequals(name, "Host")) {
      ++hosts;
    }
  }
  // A length and a transfer coding together is how requests get smuggled.
  if (have_length && chunked_or_other) return fail(400);
  // HTTP/1.1 requires exactly one Host (RFC 9112, 3.2).
  if (hosts > 1 || (r.req.version_minor >= 1 && hosts == 0)) return fail(400);

  r.req.has_body = chunked_or_other || length > 0;
  r.req.keep_alive = r.req.version_minor >= 1 ? !close : (keep_alive && !close);
  r.status = parse_status::complete;
  r.consumed = pos;
  return r;
}

resolved_path resolve_target(std::string_view target) {
  resolved_path out;
  // absolute-form (as sent to proxies): drop the scheme and the authority.
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
      target.remove_prefix(scheme.size());
      std::size_t path = target.find_first_of("/?#");
      target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
      if (target.front() != '/') return out;
      break;
    }
  }
  if (target.empty() || target.front() != '/') return out;
  target = target.substr(0, target.find_first_of("?#"));

  std::string decoded;
  decoded.reserve(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size()) return out;  // a truncated escape
      int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
      if (hi < 0 || lo < 0) return out;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\' || c == ':') return out;
    decoded.push_back(c);
  }
  out.trailing_slash = decoded.size() > 1 && decoded.back() == '/';

  std::vector<std::string_view> segments;
  std::string_view rest = decoded;
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments.empty()) return out;  // above the root
      segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  for (std::string_view s : segments) {
    if (!out.path.empty()) out.path += '/';
    out.path += s;
  }
  out.ok = true;
  return out;
}

std::string_view content_type(std::string_view file_name) {
  std::size_t dot = file_name.rfind('.');
  std::size_t slash = file_name.find_last_of("/\\");
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return "application/octet-stream";
  std::string_view ext = file_name.substr(dot + 1);
  struct entry {
    std::string_view ext, type;
  };
  static constexpr entry types[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"ico", "image/x-icon"},
      {"webp", "image/webp"},
      {"pdf", "application/pdf"},
      {"wasm", "application/wasm"},
  };
  for (const entry& e : types) {
    if (iequals(ext, e.ext)) return e.type;
  }
  return "application/octet-stream";
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string response_head(int status, std::uint64_t content_length, std::string_view type,
                          bool keep_alive, int version_minor, std::string_view extra) {
  std::string head;
  head.reserve(160 + extra.size());
  head += "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += reason_phrase(status);
  head += "\r\nServer: proact-http-server\r\nContent-Length: ";
  head += std::to_string(content_length);
  head += "\r\n";
  if (!type.empty()) {
    head += "Content-Type: ";
    head += type;
    head += "\r\n";
  }
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (version_minor == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += extra;
  head += "\r\n";
  return head;
}

}  // namespace http
