// The HTTP/1.1 request parser and the helpers of proact-http-server: no I/O,
// so that they can be tested on their own (tests/servers/http_parser_test.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace http {

enum class method { get, head, other };

// A request head. The views point into the buffer given to parse_request.
struct request {
  method verb = method::other;
  std::string_view method_name;  // "GET", "POST", ...
  std::string_view target;       // as sent: "/a%20b/c.html?x=1"
  int version_minor = 1;         // HTTP/1.<minor>; 1.2 and later count as 1.1
  bool keep_alive = true;        // HTTP/1.1 unless "close"; 1.0 only with "keep-alive"
  bool has_body = false;         // a Content-Length > 0 or a Transfer-Encoding
  std::string_view range;        // the Range field's value; empty if none or sent twice
  bool if_range = false;         // an If-Range field came
};

enum class parse_status {
  complete,    // a whole request head: `request` and `consumed` are set
  incomplete,  // more bytes needed
  error,       // `error_status` says which answer to give, then close
};

struct parse_result {
  parse_status status = parse_status::incomplete;
  int error_status = 0;      // 400, 414, 431 or 505 when status == error
  std::size_t consumed = 0;  // bytes of the request head, ending blank line included
  request req;               // on an error, what the request line said (if it was read)
};

// Parses the request head at the start of `data` (empty lines before it are
// skipped, as RFC 9112 allows). A request line longer than `max_head_bytes`
// is error 414; a longer head, or no end of head in the first
// `max_head_bytes` bytes, is 431. Lines may end in CRLF or a bare LF. A
// Transfer-Encoding whose last coding is not chunked, or with a
// Content-Length, is 400, as are a missing (HTTP/1.1), repeated or invalid
// Host. The body, if any, is not consumed.
parse_result parse_request(std::string_view data, std::size_t max_head_bytes);

// The file a request target names, relative to the document root: the path
// part (no query or fragment), percent-decoded, with "." and empty segments
// dropped and ".." applied; "" for the root itself. Refused (ok == false):
// a target that is not origin-form or absolute-form, a bad percent escape, a
// NUL, a backslash, a control character or a ':' (drive letters, streams) in
// the decoded path, and any ".." that would climb above the root.
struct resolved_path {
  bool ok = false;
  std::string path;  // "dir/file.html", '/'-separated, UTF-8
  bool trailing_slash = false;
};
resolved_path resolve_target(std::string_view target);

// Where a directory named without its trailing slash lives ("/a%20b/?q" for
// "/a b?q"): the resolved path percent-encoded, a slash, and the target's
// query. Built from the resolved path, never the raw target, so that it stays
// on this server ("//host/" would name another one).
std::string directory_location(const resolved_path& path, std::string_view target);

// What to send of a file of `size` bytes (RFC 9110, 14): 200, all of it;
// 206, `length` bytes from `first`; 416, nothing (no range is satisfiable).
struct byte_range {
  int status = 200;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

// The answer to a GET or HEAD with this Range value (`range`, as in
// `request`) and maybe an If-Range. One range: "bytes=a-b", "bytes=a-" or
// "bytes=-n", the end clamped to the file's. Everything else gets the whole
// file, which RFC 9110 always allows: no Range; several ranges (no
// multipart); another unit; a malformed value, including spaces, signs and
// a last byte before the first; and any If-Range, since this server sends
// no Last-Modified or ETag it could match. 416 for a first byte at or past
// the end, or a suffix of 0 bytes. Numbers too large for 64 bits count as
// the largest: past the end of any file.
byte_range select_range(std::string_view range, bool if_range, std::uint64_t size);

// The header lines of a file's answer about ranges: Accept-Ranges, and
// Content-Range for a 206 ("bytes 0-9/100") or a 416 ("bytes */100").
// A whole file's (200) is only accept_ranges_field, which needs no string
// built per answer.
inline constexpr std::string_view accept_ranges_field = "Accept-Ranges: bytes\r\n";
std::string range_fields(const byte_range& part, std::uint64_t size);

// "text/html; charset=utf-8" for "index.html", ...; application/octet-stream
// for unknown extensions.
std::string_view content_type(std::string_view file_name);

// "Not Found" for 404, ...
std::string_view reason_phrase(int status);

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate, RFC 9110 5.6.7).
std::string http_date(std::chrono::system_clock::time_point when);

// The response head: status line, Server, Date (now), Content-Length,
// Content-Type (if not empty), Connection (close, or keep-alive for
// HTTP/1.0), extra header lines (each ending in CRLF), blank line.
std::string response_head(int status, std::uint64_t content_length, std::string_view type,
                          bool keep_alive, int version_minor, std::string_view extra = {});

}  // namespace http
