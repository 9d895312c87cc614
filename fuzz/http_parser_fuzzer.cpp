// libFuzzer target: the example HTTP server's request parser
// (examples/http_server/http_parser.*), the part of it that reads what the
// network sends. Besides crashes and sanitizer reports it checks what the
// server relies on:
//  - a parsed head lies inside the input, and parsing exactly that head again
//    gives the same request;
//  - an error carries one of the statuses the server answers with;
//  - a Range field selects the whole file, a part inside it (206) or
//    nothing (416), for any file size;
//  - a resolved target never leaves the document root: no "..", ".", empty
//    segment, leading '/', backslash, ':' or control character in the path.
//
// Input: byte 0 chooses the head limit, the rest is what a client sent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http_parser.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_range(std::string_view range, bool if_range, std::uint64_t size) {
  const http::byte_range part = http::select_range(range, if_range, size);
  switch (part.status) {
    case 200:
      require(part.first == 0 && part.length == size);
      break;
    case 206:
      require(part.length > 0 && part.first < size && part.length <= size - part.first);
      break;
    case 416:
      require(part.length == 0);
      break;
    default:
      require(false);
  }
  const std::string fields = http::range_fields(part, size);
  require(fields.size() >= 2 && fields.compare(fields.size() - 2, 2, "\r\n") == 0);
}

void check_resolved(const http::resolved_path& r) {
  if (!r.ok) return;
  const std::string_view path = r.path;
  require(path.empty() || path.front() != '/');
  std::size_t start = 0;
  while (start <= path.size() && !path.empty()) {
    const std::size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    require(!segment.empty() && segment != "." && segment != "..");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    require(u >= 0x20 && u != 0x7f && c != '\\' && c != ':');
  }
  require(!http::content_type(path).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr std::size_t limits[] = {64, 1024, 8192, 65536};
  const std::size_t limit = limits[data[0] % 4];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  const http::parse_result r = http::parse_request(input, limit);
  require(r.consumed <= input.size());
  switch (r.status) {
    case http::parse_status::complete: {
      require(r.consumed > 0);
      const std::string_view head = input.substr(0, r.consumed);
      require(inside(r.req.method_name, head) && inside(r.req.target, head));
      // The head alone parses to the same request.
      const http::parse_result again = http::parse_request(head, limit);
      require(again.status == http::parse_status::complete && again.consumed == r.consumed &&
              again.req.method_name == r.req.method_name && again.req.target == r.req.target &&
              again.req.verb == r.req.verb && again.req.keep_alive == r.req.keep_alive &&
              again.req.version_minor == r.req.version_minor &&
              again.req.has_body == r.req.has_body);
      check_resolved(http::resolve_target(r.req.target));
      for (const std::uint64_t file_size :
           {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000}, ~std::uint64_t{0}})
        check_range(r.req.range, r.req.if_range, file_size);
      const std::string response =
          http::response_head(200, r.consumed, "text/plain", r.req.keep_alive, r.req.version_minor);
      require(response.size() >= 4 && response.compare(response.size() - 4, 4, "\r\n\r\n") == 0);
      break;
    }
    case http::parse_status::error:
      require(r.error_status == 400 || r.error_status == 414 || r.error_status == 431 ||
              r.error_status == 505);
      require(!http::reason_phrase(r.error_status).empty());
      break;
    case http::parse_status::incomplete:
      break;
  }
  // Any bytes as a target: refused or inside the root; as a Range value: a
  // part inside the file.
  check_resolved(http::resolve_target(input));
  check_range(input, false, 1000);
  return 0;
}
