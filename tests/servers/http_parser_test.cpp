// Unit tests of proact-http-server's request parser and target resolution
// (examples/http_server/http_parser.hpp).
#include "http_parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t max_head = 8192;

TEST(HttpParser, ParsesASimpleGet) {
  const std::string_view data = "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n";
  const http::parse_result r = http::parse_request(data, max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.consumed, data.size());
  EXPECT_EQ(r.req.verb, http::method::get);
  EXPECT_EQ(r.req.method_name, "GET");
  EXPECT_EQ(r.req.target, "/index.html");
  EXPECT_EQ(r.req.version_minor, 1);
  EXPECT_TRUE(r.req.keep_alive);
  EXPECT_FALSE(r.req.has_body);
}

TEST(HttpParser, PipelinedRequestsParseOneAfterAnother) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second = "HEAD /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string third = "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string all = first + second + third + "GET /d HT";  // and a partial fourth
  std::string_view rest = all;
  http::parse_result r = http::parse_request(rest, max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(r.req.target, "/a");
  rest.remove_prefix(r.consumed);
  r = http::parse_request(rest, max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(r.req.verb, http::method::head);
  EXPECT_EQ(r.req.target, "/b");
  EXPECT_FALSE(r.req.keep_alive);
  rest.remove_prefix(r.consumed);
  r = http::parse_request(rest, max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.req.target, "/c");
  rest.remove_prefix(r.consumed);
  EXPECT_EQ(rest, "GET /d HT");
  EXPECT_EQ(http::parse_request(rest, max_head).status, http::parse_status::incomplete);
}

TEST(HttpParser, EveryPrefixOfARequestIsIncomplete) {
  const std::string data = "GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n";
  for (std::size_t n = 0; n < data.size(); ++n) {
    EXPECT_EQ(http::parse_request(std::string_view(data).substr(0, n), max_head).status,
              http::parse_status::incomplete)
        << "prefix of " << n << " bytes";
  }
  EXPECT_EQ(http::parse_request(data, max_head).status, http::parse_status::complete);
}

TEST(HttpParser, BareLineFeedsAndLeadingEmptyLinesAreAccepted) {
  const std::string_view data = "\r\n\nGET / HTTP/1.1\nHost: h\n\n";
  const http::parse_result r = http::parse_request(data, max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.consumed, data.size());
  EXPECT_EQ(r.req.target, "/");
}

TEST(HttpParser, KeepAliveByVersionAndConnectionHeader) {
  auto keep = [](std::string_view data) {
    const http::parse_result r = http::parse_request(data, max_head);
    EXPECT_EQ(r.status, http::parse_status::complete) << data;
    return r.req.keep_alive;
  };
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nHost: h\r\nconnection: Upgrade, CLOSE\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  const http::parse_result r = http::parse_request("GET / HTTP/1.0\r\n\r\n", max_head);
  EXPECT_EQ(r.req.version_minor, 0);
  // HTTP/1.2 and later minor versions are treated as 1.1.
  EXPECT_EQ(http::parse_request("GET / HTTP/1.7\r\nHost: h\r\n\r\n", max_head).req.version_minor,
            1);
}

TEST(HttpParser, OtherMethodsParseForA405) {
  const http::parse_result r =
      http::parse_request("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n", max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.req.verb, http::method::other);
  EXPECT_EQ(r.req.method_name, "DELETE");
  // Methods are case-sensitive: "get" is not GET.
  EXPECT_EQ(http::parse_request("get / HTTP/1.1\r\nHost: h\r\n\r\n", max_head).req.verb,
            http::method::other);
}

TEST(HttpParser, ABodyIsNoted) {
  EXPECT_TRUE(
      http::parse_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", max_head)
          .req.has_body);
  EXPECT_TRUE(http::parse_request(
                  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", max_head)
                  .req.has_body);
  EXPECT_FALSE(
      http::parse_request("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", max_head)
          .req.has_body);
}

int error_of(std::string_view data) {
  const http::parse_result r = http::parse_request(data, max_head);
  return r.status == http::parse_status::error ? r.error_status : 0;
}

TEST(HttpParser, MalformedRequestsAre400) {
  EXPECT_EQ(error_of("GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET /\r\n\r\n"), 400);                       // HTTP/0.9 form
  EXPECT_EQ(error_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);  // two spaces
  EXPECT_EQ(error_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);  // trailing space
  EXPECT_EQ(error_of("GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);  // not a token
  EXPECT_EQ(error_of("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost h\r\n\r\n"), 400);    // no colon
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);  // space before colon
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), 400);  // HTTP/1.1 without Host
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(error_of(std::string_view("GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n", 29)), 400);
  // A bad request line is answered without waiting for the rest of the head.
  EXPECT_EQ(error_of("NOT A REQUEST LINE\r\n"), 400);
  // Host must be a valid uri-host [":" port] (RFC 9112, 3.2).
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: user@h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\nHost: <h>\r\n\r\n"), 400);
  for (std::string_view host : {"h", "h.example:8080", "127.0.0.1:1", "[::1]:80", ""}) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n"), 0) << host;
  }
  // A body whose end cannot be found (chunked not last) cannot be skipped.
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                     "Transfer-Encoding: gzip\r\n\r\n"),
            400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"), 0);
}

TEST(HttpParser, AnErrorKeepsTheMethodSoThatHeadGetsNoBody) {
  const http::parse_result r = http::parse_request("HEAD / HTTP/1.1\r\n\r\n", max_head);
  ASSERT_EQ(r.status, http::parse_status::error);
  EXPECT_EQ(r.error_status, 400);
  EXPECT_EQ(r.req.verb, http::method::head);
}

TEST(HttpParser, OtherHttpVersionsAre505) {
  EXPECT_EQ(error_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(error_of("GET / HTTP/0.9\r\n\r\n"), 505);
}

TEST(HttpParser, AHeadLargerThanTheLimitIs431) {
  // The buffer is full and no end of head is in sight.
  std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(max_head, 'x');
  EXPECT_EQ(error_of(std::string_view(big).substr(0, max_head)), 431);
  // A whole head, but longer than the limit.
  EXPECT_EQ(error_of(big + "\r\n\r\n"), 431);
  // A request line longer than the limit is a target too long, whole or not.
  EXPECT_EQ(error_of("GET /" + std::string(max_head, 'a')), 414);
  EXPECT_EQ(error_of("GET /" + std::string(max_head, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"), 414);
  // Just under the limit is fine.
  std::string fits = "GET / HTTP/1.1\r\nHost: h\r\nX-Fill: ";
  fits += std::string(max_head - fits.size() - 4, 'y') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), max_head);
  EXPECT_EQ(http::parse_request(fits, max_head).status, http::parse_status::complete);
  EXPECT_EQ(error_of(std::string_view(fits).substr(0, max_head - 1)), 0);  // incomplete
}

http::resolved_path resolve(std::string_view target) {
  return http::resolve_target(target);
}

TEST(HttpTarget, NormalPaths) {
  EXPECT_EQ(resolve("/").path, "");
  EXPECT_TRUE(resolve("/").ok);
  EXPECT_EQ(resolve("/index.html").path, "index.html");
  EXPECT_EQ(resolve("/a/b/c.txt").path, "a/b/c.txt");
  EXPECT_EQ(resolve("//a///b/./c.txt").path, "a/b/c.txt");
  EXPECT_EQ(resolve("/a/b/../c.txt").path, "a/c.txt");
  EXPECT_EQ(resolve("/a/..").path, "");
  EXPECT_EQ(resolve("/a%20b.txt").path, "a b.txt");
  EXPECT_EQ(resolve("/%E2%82%AC.txt").path, "\xE2\x82\xAC.txt");  // UTF-8 euro sign
  EXPECT_EQ(resolve("/x.html?a=/../../etc/passwd#frag").path, "x.html");
  EXPECT_EQ(resolve("http://example.com/a/b?q").path, "a/b");
  EXPECT_EQ(resolve("http://example.com").path, "");
  EXPECT_TRUE(resolve("http://example.com?q=1").ok);
  EXPECT_EQ(resolve("http://example.com?q=1").path, "");
  EXPECT_TRUE(resolve("/docs/").trailing_slash);
  EXPECT_FALSE(resolve("/docs").trailing_slash);
}

TEST(HttpTarget, ADirectoryLocationStaysOnTheServer) {
  auto location = [](std::string_view target) {
    return http::directory_location(resolve(target), target);
  };
  EXPECT_EQ(location("/docs"), "/docs/");
  EXPECT_EQ(location("/a%20b/c?x=1&y#frag"), "/a%20b/c/?x=1&y");
  EXPECT_EQ(location("/a/./b/../c"), "/a/c/");
  EXPECT_EQ(location("//evil.example"), "/evil.example/");  // not another host
  EXPECT_EQ(location("http://host/d?q"), "/d/?q");
  EXPECT_EQ(location("/%E2%82%AC%3F%23"), "/%E2%82%AC%3F%23/");
}

TEST(HttpTarget, TraversalIsRefused) {
  EXPECT_FALSE(resolve("/..").ok);
  EXPECT_FALSE(resolve("/../etc/passwd").ok);
  EXPECT_FALSE(resolve("/a/../../etc/passwd").ok);
  EXPECT_FALSE(resolve("/%2e%2e/etc/passwd").ok);
  EXPECT_FALSE(resolve("/%2E%2E%2Fetc%2Fpasswd").ok);
  EXPECT_FALSE(resolve("/a/..%2f..%2fsecret").ok);
  EXPECT_FALSE(resolve("/.%2e/secret").ok);
  EXPECT_FALSE(resolve("http://host/../secret").ok);
}

TEST(HttpTarget, DangerousCharactersAndBadEscapesAreRefused) {
  EXPECT_FALSE(resolve("/a\\b").ok);
  EXPECT_FALSE(resolve("/..%5c..%5csecret").ok);    // backslash
  EXPECT_FALSE(resolve("/file.txt%00.html").ok);    // NUL
  EXPECT_FALSE(resolve("/a%0d%0aX: y").ok);         // CR LF
  EXPECT_FALSE(resolve("/C:/Windows/win.ini").ok);  // drive letter
  EXPECT_FALSE(resolve("/file.txt::$DATA").ok);     // NTFS stream
  EXPECT_FALSE(resolve("/%").ok);
  EXPECT_FALSE(resolve("/%4").ok);
  EXPECT_FALSE(resolve("/%zz").ok);
  EXPECT_FALSE(resolve("index.html").ok);  // not origin-form
  EXPECT_FALSE(resolve("*").ok);
  EXPECT_FALSE(resolve("").ok);
}

TEST(HttpResponse, ContentTypes) {
  EXPECT_EQ(http::content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(http::content_type("A.HTM"), "text/html; charset=utf-8");
  EXPECT_EQ(http::content_type("a.b/readme.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(http::content_type("logo.png"), "image/png");
  EXPECT_EQ(http::content_type("photo.JPEG"), "image/jpeg");
  EXPECT_EQ(http::content_type("Makefile"), "application/octet-stream");
  EXPECT_EQ(http::content_type("dir.d/file"), "application/octet-stream");
  EXPECT_EQ(http::content_type("clip.mp4"), "video/mp4");
  EXPECT_EQ(http::content_type("font.woff2"), "font/woff2");
}

TEST(HttpResponse, DatesAreImfFixdate) {
  using namespace std::chrono;
  EXPECT_EQ(http::http_date(sys_days(1994y / November / 6) + 8h + 49min + 37s),
            "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http::http_date(sys_days(2000y / February / 29) + 23h + 59min + 59s + 999ms),
            "Tue, 29 Feb 2000 23:59:59 GMT");
  EXPECT_EQ(http::http_date(system_clock::time_point()), "Thu, 01 Jan 1970 00:00:00 GMT");
}

// The head without its Date line, which must be there exactly once.
std::string without_date(const std::string& head) {
  const std::size_t at = head.find("\r\nDate: ");
  EXPECT_NE(at, std::string::npos) << head;
  if (at == std::string::npos) return head;
  EXPECT_EQ(head.find("\r\nDate: ", at + 1), std::string::npos) << head;
  const std::size_t end = head.find("\r\n", at + 2);
  EXPECT_EQ(end - at - 2, std::string_view("Date: Sun, 06 Nov 1994 08:49:37 GMT").size()) << head;
  return head.substr(0, at) + head.substr(end);
}

TEST(HttpResponse, HeadCarriesLengthAndConnection) {
  EXPECT_EQ(without_date(http::response_head(200, 5, "text/plain", true, 1)),
            "HTTP/1.1 200 OK\r\nServer: proact-http-server\r\nContent-Length: 5\r\n"
            "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(without_date(http::response_head(405, 0, "", false, 1, "Allow: GET, HEAD\r\n")),
            "HTTP/1.1 405 Method Not Allowed\r\nServer: proact-http-server\r\n"
            "Content-Length: 0\r\nConnection: close\r\nAllow: GET, HEAD\r\n\r\n");
  EXPECT_NE(http::response_head(200, 1, "", true, 0).find("Connection: keep-alive\r\n"),
            std::string::npos);
  EXPECT_NE(http::response_head(431, 1, "", false, 1).find(" 431 Request Header Fields Too Large"),
            std::string::npos);
  EXPECT_NE(http::response_head(301, 1, "", true, 1).find(" 301 Moved Permanently\r\n"),
            std::string::npos);
  EXPECT_NE(http::response_head(408, 1, "", false, 1).find(" 408 Request Timeout\r\n"),
            std::string::npos);
  EXPECT_NE(http::response_head(414, 1, "", false, 1).find(" 414 URI Too Long\r\n"),
            std::string::npos);
  EXPECT_NE(http::response_head(206, 1, "", true, 1).find(" 206 Partial Content\r\n"),
            std::string::npos);
  EXPECT_NE(http::response_head(416, 1, "", true, 1).find(" 416 Range Not Satisfiable\r\n"),
            std::string::npos);
}

TEST(HttpParser, RangeAndIfRangeAreNoted) {
  http::parse_result r =
      http::parse_request("GET /a HTTP/1.1\r\nHost: h\r\nrange:  bytes=0-9 \r\n\r\n", max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.req.range, "bytes=0-9");
  EXPECT_FALSE(r.req.if_range);
  r = http::parse_request(
      "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\nIf-Range: \"x\"\r\n\r\n", max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.req.range, "bytes=0-9");
  EXPECT_TRUE(r.req.if_range);
  r = http::parse_request("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", max_head);
  EXPECT_EQ(r.req.range, "");
  EXPECT_FALSE(r.req.if_range);
  // Range is no list: twice, it is ignored.
  r = http::parse_request(
      "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\nRange: bytes=1-2\r\n\r\n", max_head);
  ASSERT_EQ(r.status, http::parse_status::complete);
  EXPECT_EQ(r.req.range, "");
}

// "200", "206 first+length" or "416": what select_range chose.
std::string range(std::string_view value, std::uint64_t size, bool if_range = false) {
  const http::byte_range part = http::select_range(value, if_range, size);
  if (part.status == 200) {
    EXPECT_EQ(part.first, 0u) << value;
    EXPECT_EQ(part.length, size) << value;
    return "200";
  }
  if (part.status == 206) {
    EXPECT_GE(part.length, 1u) << value;
    EXPECT_LE(part.first + part.length, size) << value;
    return "206 " + std::to_string(part.first) + "+" + std::to_string(part.length);
  }
  return std::to_string(part.status);
}

TEST(HttpRange, OneRangeIsAPart) {
  EXPECT_EQ(range("bytes=0-9", 100), "206 0+10");
  EXPECT_EQ(range("bytes=10-19", 100), "206 10+10");
  EXPECT_EQ(range("bytes=99-99", 100), "206 99+1");
  EXPECT_EQ(range("bytes=0-0", 1), "206 0+1");
  EXPECT_EQ(range("bytes=0-", 100), "206 0+100");
  EXPECT_EQ(range("bytes=40-", 100), "206 40+60");
  EXPECT_EQ(range("bytes=-10", 100), "206 90+10");
  EXPECT_EQ(range("bytes=-1", 100), "206 99+1");
  EXPECT_EQ(range("Bytes=1-2", 100), "206 1+2");  // units are case-insensitive
  EXPECT_EQ(range("bytes=007-008", 100), "206 7+2");
  // The last byte at or past the end: up to the end. A suffix longer than
  // the file: all of it.
  EXPECT_EQ(range("bytes=90-100", 100), "206 90+10");
  EXPECT_EQ(range("bytes=90-5000", 100), "206 90+10");
  EXPECT_EQ(range("bytes=-100", 100), "206 0+100");
  EXPECT_EQ(range("bytes=-5000", 100), "206 0+100");
  // Files beyond 4 GiB.
  EXPECT_EQ(range("bytes=5000000000-", 6000000000), "206 5000000000+1000000000");
  EXPECT_EQ(range("bytes=-5000000000", 6000000000), "206 1000000000+5000000000");
}

TEST(HttpRange, PastTheEndIsUnsatisfiable) {
  EXPECT_EQ(range("bytes=100-", 100), "416");
  EXPECT_EQ(range("bytes=100-200", 100), "416");
  EXPECT_EQ(range("bytes=5000-", 100), "416");
  EXPECT_EQ(range("bytes=-0", 100), "416");  // a suffix of no bytes
  EXPECT_EQ(range("bytes=-000", 100), "416");
  EXPECT_EQ(range("bytes=0-", 0), "416");
  EXPECT_EQ(range("bytes=0-0", 0), "416");
  EXPECT_EQ(range("bytes=-0", 0), "416");
  // An empty file has no last bytes to send, and "bytes 0--1/0" says nothing.
  EXPECT_EQ(range("bytes=-5", 0), "200");
}

TEST(HttpRange, NumbersBeyond64BitsSaturate) {
  EXPECT_EQ(range("bytes=99999999999999999999999-", 100), "416");
  EXPECT_EQ(range("bytes=18446744073709551616-18446744073709551617", 100), "416");
  EXPECT_EQ(range("bytes=18446744073709551615-", 100), "416");
  EXPECT_EQ(range("bytes=0-99999999999999999999999", 100), "206 0+100");
  EXPECT_EQ(range("bytes=5-18446744073709551615", 100), "206 5+95");
  EXPECT_EQ(range("bytes=-99999999999999999999999", 100), "206 0+100");
  EXPECT_EQ(range("bytes=0-18446744073709551615", ~std::uint64_t{0}), "206 0+18446744073709551615");
}

TEST(HttpRange, SeveralRangesGetTheWholeFile) {
  EXPECT_EQ(range("bytes=0-1,5-6", 100), "200");
  EXPECT_EQ(range("bytes=0-1, 5-6", 100), "200");
  EXPECT_EQ(range("bytes=-1,0-0", 100), "200");
  EXPECT_EQ(range("bytes=200-300,0-1", 100), "200");
  EXPECT_EQ(range("bytes=0-1,", 100), "200");
}

TEST(HttpRange, MalformedRangesAndOtherUnitsAreIgnored) {
  for (std::string_view value : {"",
                                 "bytes",
                                 "bytes=",
                                 "bytes=-",
                                 "bytes=--5",
                                 "bytes=-5-10",
                                 "bytes=5-2",
                                 "bytes=1-0",
                                 "bytes=-1-",
                                 "bytes=0--1",
                                 "bytes=+5-",
                                 "bytes=5-+9",
                                 "bytes= 0-9",
                                 "bytes=0 -9",
                                 "bytes=0- 9",
                                 "bytes =0-9",
                                 "bytes=0-9 x",
                                 "bytes=a-b",
                                 "bytes=0x10-",
                                 "bytes=1.5-2",
                                 "bytes=5",
                                 "bytes=0-9=",
                                 "=0-9",
                                 "items=0-9",
                                 "byte=0-9",
                                 "bytesx=0-9",
                                 "0-9",
                                 "bytes=99999999999999999999999-1",
                                 "bytes=-99999999999999999999999-"}) {
    EXPECT_EQ(range(value, 100), "200") << value;
  }
}

TEST(HttpRange, AnyIfRangeGetsTheWholeFile) {
  // This server sends no Last-Modified or ETag: no If-Range can match one.
  EXPECT_EQ(range("bytes=0-9", 100, true), "200");
  EXPECT_EQ(range("bytes=500-", 100, true), "200");
  EXPECT_EQ(range("", 100, true), "200");
}

TEST(HttpRange, HeaderFields) {
  EXPECT_EQ(http::range_fields(http::select_range("", false, 100), 100),
            "Accept-Ranges: bytes\r\n");
  EXPECT_EQ(http::range_fields(http::select_range("bytes=10-19", false, 100), 100),
            "Accept-Ranges: bytes\r\nContent-Range: bytes 10-19/100\r\n");
  EXPECT_EQ(http::range_fields(http::select_range("bytes=-1", false, 100), 100),
            "Accept-Ranges: bytes\r\nContent-Range: bytes 99-99/100\r\n");
  EXPECT_EQ(http::range_fields(http::select_range("bytes=100-", false, 100), 100),
            "Accept-Ranges: bytes\r\nContent-Range: bytes */100\r\n");
  EXPECT_EQ(http::range_fields(http::select_range("bytes=0-", false, 0), 0),
            "Accept-Ranges: bytes\r\nContent-Range: bytes */0\r\n");
}

}  // namespace
