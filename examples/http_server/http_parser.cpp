#include "http_parser.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
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

// `req`: what the request line said, if it was read (a HEAD gets no body).
parse_result fail(int status, const request& req = {}) {
  parse_result r;
  r.status = parse_status::error;
  r.error_status = status;
  r.req = req;
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

// Host = uri-host [ ":" port ]: a reg-name, an IPv4 address or an IP literal
// in brackets; RFC 9112 (3.2) wants a 400 for anything else.
bool valid_host(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-._~%!$&'()*+,;=:[]").find(c) != std::string_view::npos;
  });
}

// The last transfer coding of a Transfer-Encoding list: only "chunked"
// there lets the body's end be found (RFC 9112, 6.3).
std::string_view last_coding(std::string_view list) {
  std::size_t comma = list.rfind(',');
  std::string_view last = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
  return last.substr(0, last.find(';'));
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
  // A request line that does not fit is a target too long (414), not a
  // head too large (431).
  if (!next_line(data, pos, line, next)) {
    return data.size() >= max_head_bytes ? fail(414) : r;  // incomplete
  }
  if (next > max_head_bytes) return fail(414);
  if (int status = parse_request_line(line, r.req)) return fail(status);

  bool have_length = false, chunked_or_other = false, chunked_last = false, close = false,
       keep_alive = false, bad_host = false;
  std::uint64_t length = 0;
  int hosts = 0, ranges = 0;
  for (pos = next;;) {
    if (!next_line(data, pos, line, next)) {
      return data.size() >= max_head_bytes ? fail(431, r.req) : r;  // incomplete
    }
    if (next > max_head_bytes) return fail(431, r.req);
    pos = next;
    if (line.empty()) break;                                                   // end of the head
    if (line.front() == ' ' || line.front() == '\t') return fail(400, r.req);  // obsolete folding
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400, r.req);
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (!is_token(name) || !valid_field_value(value)) return fail(400, r.req);
    if (iequals(name, "Content-Length")) {
      std::uint64_t v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
        return fail(400, r.req);
      if (have_length && v != length) return fail(400, r.req);
      have_length = true;
      length = v;
    } else if (iequals(name, "Transfer-Encoding")) {
      // Several lines are one list: the last coding of the last line counts.
      chunked_or_other = true;
      chunked_last = iequals(last_coding(value), "chunked");
    } else if (iequals(name, "Connection")) {
      close = close || has_token(value, "close");
      keep_alive = keep_alive || has_token(value, "keep-alive");
    } else if (iequals(name, "Host")) {
      ++hosts;
      bad_host = bad_host || !valid_host(value);
    } else if (iequals(name, "Range")) {
      ++ranges;
      r.req.range = value;
    } else if (iequals(name, "If-Range")) {
      r.req.if_range = true;
    }
  }
  // Range is not a list: twice, it is invalid, and an invalid Range is
  // ignored (RFC 9110, 14.2).
  if (ranges > 1) r.req.range = {};
  // A length and a transfer coding together is how requests get smuggled;
  // a body whose end cannot be found cannot be skipped either.
  if (have_length && chunked_or_other) return fail(400, r.req);
  if (chunked_or_other && !chunked_last) return fail(400, r.req);
  // HTTP/1.1 requires exactly one valid Host (RFC 9112, 3.2).
  if (hosts > 1 || bad_host || (r.req.version_minor >= 1 && hosts == 0)) return fail(400, r.req);

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
      // "http://host?q" has an empty path: the root's.
      target = path == std::string_view::npos || target[path] != '/' ? std::string_view("/")
                                                                     : target.substr(path);
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

std::string directory_location(const resolved_path& path, std::string_view target) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string location = "/";
  for (char c : path.path) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("-._~!$&'()*+,;=@/").find(c) != std::string_view::npos) {
      location += c;
    } else {
      location += '%';
      location += hex[u >> 4];
      location += hex[u & 15];
    }
  }
  if (location.back() != '/') location += '/';
  const std::size_t query = target.find('?');
  if (query != std::string_view::npos) {
    location += target.substr(query, target.find('#', query) - query);
  }
  return location;
}

namespace {

// 1*DIGIT, saturating at the largest value rather than wrapping.
bool parse_position(std::string_view s, std::uint64_t& value) {
  if (s.empty()) return false;
  constexpr std::uint64_t max = ~std::uint64_t{0};
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (max - digit) / 10 ? max : value * 10 + digit;
  }
  return true;
}

}  // namespace

byte_range select_range(std::string_view range, bool if_range, std::uint64_t size) {
  const byte_range whole{200, 0, size};
  const byte_range unsatisfiable{416, 0, 0};
  // No validator is ever sent, so an If-Range never matches (RFC 9110,
  // 13.1.5): the client wants the whole file then, not a part of another.
  if (range.empty() || if_range) return whole;
  const std::size_t equals = range.find('=');
  if (equals == std::string_view::npos || !iequals(range.substr(0, equals), "bytes")) return whole;
  const std::string_view spec = range.substr(equals + 1);
  const std::size_t dash = spec.find('-');
  // A comma: several ranges (or empty list elements), answered as a whole.
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return whole;
  std::uint64_t first = 0, last = 0;
  if (!parse_position(spec.substr(dash + 1), last)) {
    if (dash + 1 != spec.size()) return whole;
    last = ~std::uint64_t{0};  // "a-": to the end
  }
  if (dash == 0) {  // "-n": the last n bytes
    if (spec.size() == 1) return whole;
    if (last == 0) return unsatisfiable;
    if (size == 0) return whole;  // no byte to send, and Content-Range cannot say so
    const std::uint64_t n = std::min(last, size);
    return {206, size - n, n};
  }
  if (!parse_position(spec.substr(0, dash), first) || last < first) return whole;
  if (first >= size) return unsatisfiable;
  return {206, first, std::min(last, size - 1) - first + 1};
}

std::string range_fields(const byte_range& part, std::uint64_t size) {
  std::string fields(accept_ranges_field);
  if (part.status == 206) {
    fields += "Content-Range: bytes " + std::to_string(part.first) + "-" +
              std::to_string(part.first + part.length - 1) + "/" + std::to_string(size) + "\r\n";
  } else if (part.status == 416) {
    fields += "Content-Range: bytes */" + std::to_string(size) + "\r\n";
  }
  return fields;
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
      {"mjs", "text/javascript; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"avif", "image/avif"},
      {"bmp", "image/bmp"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"mp3", "audio/mpeg"},
      {"ogg", "audio/ogg"},
      {"wav", "audio/wav"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
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
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
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

std::string http_date(std::chrono::system_clock::time_point when) {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto seconds = std::chrono::floor<std::chrono::seconds>(when);
  const auto day = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss time(seconds - day);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                days[std::chrono::weekday(day).c_encoding()], static_cast<unsigned>(ymd.day()),
                months[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

namespace {

// The Date of this second, formatted once a second per thread.
std::string_view current_date() {
  thread_local std::chrono::system_clock::rep cached_second = -1;
  thread_local std::string cached;
  const auto now = std::chrono::system_clock::now();
  const auto second = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  if (second != cached_second) {
    cached = http_date(now);
    cached_second = second;
  }
  return cached;
}

}  // namespace

std::string response_head(int status, std::uint64_t content_length, std::string_view type,
                          bool keep_alive, int version_minor, std::string_view extra) {
  std::string head;
  head.reserve(200 + extra.size());
  head += "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += reason_phrase(status);
  // An origin server with a clock must send Date (RFC 9110, 6.6.1).
  head += "\r\nServer: proact-http-server\r\nDate: ";
  head += current_date();
  head += "\r\nContent-Length: ";
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
