// The golden-trace machinery itself (trace.hpp), independent of the backend:
// a trace that differs must be reported, with a diff that shows the lines
// missing and the lines added.
#include <cstdio>

#include "fixture.hpp"
#include "platform.hpp"
#include "trace.hpp"

namespace proact_test {
namespace {

class TraceFormat : public PortTest {};

TEST_F(TraceFormat, ConditionNamesArePortable) {
  EXPECT_EQ(condition_name({}), "ok");
  EXPECT_EQ(condition_name(make_error_code(proact::error::eof)), "eof");
  EXPECT_EQ(condition_name(make_error_code(proact::error::port_closed)), "port_closed");
  EXPECT_EQ(condition_name(make_error_code(proact::error::bad_handle)), "bad_handle");
  // A code no condition matches is named by its category and value.
  const std::error_code odd(12345, std::generic_category());
  EXPECT_EQ(condition_name(odd), "unmapped(generic:12345)");
}

TEST_F(TraceFormat, DiffMarksMissingAndExtraLines) {
  const std::vector<std::string> expected = {"a", "b", "c"};
  EXPECT_EQ(line_diff(expected, expected), "");
  const std::vector<std::string> actual = {"a", "x", "c", "d"};
  EXPECT_EQ(line_diff(expected, actual), "--- expected\n+++ actual\n  a\n- b\n+ x\n  c\n+ d\n");
}

TEST_F(TraceFormat, RecordsCompletionsWithTheirLabels) {
  proact::port& p = port_;
  trace t;
  proact::operation op;
  t.posted("post#1", op, p.post(7, 5, &op));
  ASSERT_OK(p.post(9, 0, nullptr));
  t.next(p);
  t.next(p);
  t.next(p, proact::timeout{0});
  t.data("post#1", "a\"b\n", 4);
  const std::vector<std::string> want = {"post#1 key=7 bytes=5 ok", "packet key=9 bytes=0 ok",
                                         "wait -> timed_out", "post#1 data \"a\\x22b\\x0a\""};
  EXPECT_EQ(line_diff(want, t.lines()), "");
}

TEST_F(TraceFormat, ExpectedFilesSkipCommentsAndBlankLines) {
  temp_directory dir;
  ASSERT_TRUE(dir.ok()) << dir.why();
  const std::string path = dir.path("sample.trace");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("# a comment\n\nrecv#1 key=1 bytes=2 ok\r\n# another\nidle\n", f);
  std::fclose(f);
  std::vector<std::string> lines;
  ASSERT_TRUE(read_trace_file(path, lines));
  EXPECT_EQ(lines, (std::vector<std::string>{"recv#1 key=1 bytes=2 ok", "idle"}));
  EXPECT_FALSE(read_trace_file(path + ".missing", lines));
}

}  // namespace
}  // namespace proact_test
