// Composed I/O (read_exactly, read_until, the positional file forms) and
// buffers made from standard containers.
#include <array>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../conformance/fixture.hpp"
#include "loop_fixture.hpp"

namespace proact_test {
namespace {

using Composed = LoopTest;
using namespace std::chrono_literals;

// Mutable containers give mutable buffers; const ones and views of const
// elements give const buffers.
static_assert(
    std::is_same_v<decltype(proact::make_buffer(std::declval<std::string&>())), proact::buffer>);
static_assert(std::is_same_v<decltype(proact::make_buffer(std::declval<const std::string&>())),
                             proact::const_buffer>);
static_assert(std::is_same_v<decltype(proact::make_buffer(std::declval<std::string_view>())),
                             proact::const_buffer>);
static_assert(std::is_same_v<decltype(proact::make_buffer(std::declval<std::vector<int>&>())),
                             proact::buffer>);
static_assert(std::is_same_v<decltype(proact::make_buffer(std::declval<std::array<char, 4>&>())),
                             proact::buffer>);
static_assert(
    std::is_same_v<decltype(proact::make_buffer(std::declval<std::span<char>>())), proact::buffer>);
static_assert(std::is_same_v<decltype(proact::make_buffer(std::declval<std::span<const char>>())),
                             proact::const_buffer>);
// A temporary container is refused: its bytes would be gone.
template <class T>
concept bufferable = requires(T&& t) {
  proact::make_buffer(std::forward<T>(t));
};
static_assert(!bufferable<std::vector<char>>);
static_assert(bufferable<std::vector<char>&>);

TEST_F(Composed, BuffersCoverTheWholeContainer) {
  std::vector<int> v(10);
  std::array<char, 7> a{};
  std::string s = "hello";
  EXPECT_EQ(proact::make_buffer(v).size, 10 * sizeof(int));
  EXPECT_EQ(proact::make_buffer(v).data, v.data());
  EXPECT_EQ(proact::make_buffer(a).size, 7U);
  EXPECT_EQ(proact::make_buffer(s).size, 5U);
  EXPECT_EQ(proact::make_buffer(s).data, s.data());
  EXPECT_EQ(proact::make_buffer(std::span<char>(a).first(3)).size, 3U);
}

proact::task<void> send_pieces(proact::tcp_socket& s, std::vector<std::string> pieces, bool close) {
  proact::timer t(*co_await proact::get_loop());
  for (auto& p : pieces) {
    (void)co_await s.send(proact::make_buffer(std::as_const(p)));
    (void)co_await t.wait(5ms);
  }
  if (close) (void)s.shutdown_send();
}

TEST_F(Composed, ReadExactlyGathersShortReadsAndReportsEofWithTheBytesSoFar) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  ASSERT_OK(lp->spawn(send_pieces(client, {"ab", "cde", "fghij", "xy"}, true)));
  auto body = [](proact::tcp_socket& s) -> proact::task<std::string> {
    char buf[10];
    auto [ec, n] = co_await proact::read_exactly(s, proact::make_buffer(buf));
    if (ec || n != 10) co_return "first: " + ec.message();
    char more[5];
    auto [ec2, n2] = co_await proact::read_exactly(s, proact::make_buffer(more));
    if (!(ec2 == proact::errc::eof) || n2 != 2) co_return "second: " + ec2.message();
    co_return std::string(buf, 10) + std::string(more, n2);
  };
  EXPECT_EQ(proact::sync_wait(*lp, body(server)), "abcdefghijxy");
  lp.reset();
}

TEST_F(Composed, ReadUntilKeepsWhatFollowsTheDelimiterAndHonoursItsLimit) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  ASSERT_OK(lp->spawn(send_pieces(
      client, {"GET / HT", "TP/1.1\r", "\n\r\nnext\r\n\r", "\n", std::string(100, 'x')}, false)));
  auto body = [](proact::tcp_socket& s) -> proact::task<std::string> {
    std::string in;
    auto [ec, n] = co_await proact::read_until(s, in, "\r\n\r\n", 1000);
    if (ec) co_return "first: " + ec.message();
    std::string out = in.substr(0, n) + "|";
    in.erase(0, n);
    auto [ec2, n2] = co_await proact::read_until(s, in, "\r\n\r\n", 1000);
    if (ec2) co_return "second: " + ec2.message();
    out += in.substr(0, n2) + "|";
    in.erase(0, n2);
    auto [ec3, n3] = co_await proact::read_until(s, in, "\r\n\r\n", 50);
    if (!(ec3 == proact::errc::message_size) || n3 < 50) co_return "third: " + ec3.message();
    co_return out;
  };
  EXPECT_EQ(proact::sync_wait(*lp, body(server)), "GET / HTTP/1.1\r\n\r\n|next\r\n\r\n|");
  lp.reset();
}

TEST_F(Composed, ADeadlineBoundsTheWholeComposedRead) {
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::tcp_socket client, server;
  ASSERT_TRUE(connect_on_loop(*lp, client, server));
  // A byte every 5 ms never completes the head: the deadline ends it.
  std::vector<std::string> trickle(60, "a");
  ASSERT_OK(lp->spawn(send_pieces(client, trickle, false)));
  auto body = [](proact::tcp_socket& s) -> proact::task<std::error_code> {
    std::string in;
    auto [ec, n] =
        co_await proact::read_until(s, in, "\r\n\r\n", 1000, proact::deadline_clock::now() + 60ms);
    (void)n;
    co_return ec;
  };
  const auto begin = clock_type::now();
  EXPECT_ERRC(proact::sync_wait(*lp, body(server)), timed_out);
  EXPECT_GE(clock_type::now() - begin, 60ms);
  lp.reset();
}

TEST_F(Composed, PositionalFileReadsAndWritesAreWhole) {
  temp_directory dir;
  if (!dir.ok()) GTEST_SKIP() << dir.why();
  auto lp = make_loop(2);
  ASSERT_OK(lp->start());
  proact::file f;
  ASSERT_OK(f.open(dir.path("data"),
                   proact::file_mode::read | proact::file_mode::write | proact::file_mode::create));
  ASSERT_OK(lp->associate(f));
  auto body = [](proact::file& file) -> proact::task<std::string> {
    std::string data(100000, 'x');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    auto [ec, n] =
        co_await proact::write_all_at(file, 10, proact::make_buffer(std::as_const(data)));
    if (ec || n != data.size()) co_return "write: " + ec.message();
    std::string back(data.size(), '\0');
    auto [ec2, n2] = co_await proact::read_exactly_at(file, 10, proact::make_buffer(back));
    if (ec2 || n2 != back.size() || back != data) co_return "read: " + ec2.message();
    char past[20];
    auto [ec3, n3] =
        co_await proact::read_exactly_at(file, 10 + data.size() - 5, proact::make_buffer(past));
    if (!(ec3 == proact::errc::eof) || n3 != 5) co_return "past the end: " + ec3.message();
    co_return "ok";
  };
  EXPECT_EQ(proact::sync_wait(*lp, body(f)), "ok");
  lp.reset();
}

}  // namespace
}  // namespace proact_test
