// Composed I/O: loops over short reads and writes that every program would
// otherwise write by hand. Each is a task; awaiting it gives {error, bytes}.
//
//   auto [ec, n] = co_await proact::read_exactly(s, proact::make_buffer(header));
//   std::string in;
//   auto [ec, n] = co_await proact::read_until(s, in, "\r\n\r\n", 16384);
//   // in[0, n) is the head with its delimiter; bytes after it stay in `in`.
//
// A deadline (default: none) bounds the whole composed operation: the
// operation pending when it passes completes with errc::timed_out. Sends of
// a stream are already whole (a send completes once every byte went).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "proact/buffer.hpp"
#include "proact/error.hpp"
#include "proact/file.hpp"
#include "proact/stream.hpp"
#include "proact/task.hpp"

namespace proact {

using deadline_clock = std::chrono::steady_clock;
inline constexpr deadline_clock::time_point no_deadline = deadline_clock::time_point::max();

namespace detail {
template <class Awaitable>
auto bounded(Awaitable&& a, deadline_clock::time_point deadline) {
  return deadline == no_deadline ? std::forward<Awaitable>(a)
                                 : std::forward<Awaitable>(a).with_deadline(deadline);
}
}  // namespace detail

// Reads until b is full: {no error, b.size}, or the error that stopped it
// (errc::eof if the stream ended first) with the bytes read so far.
inline task<io_result> read_exactly(stream_handle& s, buffer b,
                                    deadline_clock::time_point deadline = no_deadline) {
  auto* p = static_cast<unsigned char*>(b.data);
  std::size_t got = 0;
  while (got < b.size) {
    auto [ec, n] = co_await detail::bounded(s.recv(buffer{p + got, b.size - got}), deadline);
    got += n;
    if (ec) co_return io_result{ec, got};
  }
  co_return io_result{{}, got};
}

// Reads into `in` (appending) until it holds `delimiter`: {no error, n} where
// in[0, n) ends with the delimiter (data after it stays in `in` for the next
// call). errc::message_size if `limit` bytes arrive without a delimiter;
// errc::eof if the stream ends first; bytes = in.size() on failure.
inline task<io_result> read_until(stream_handle& s, std::string& in, std::string_view delimiter,
                                  std::size_t limit,
                                  deadline_clock::time_point deadline = no_deadline) {
  if (delimiter.empty()) co_return io_result{make_error_code(error::invalid_argument), 0};
  std::size_t searched = 0;  // no delimiter starts before this
  for (;;) {
    if (const std::size_t at = in.find(delimiter, searched); at != std::string::npos)
      co_return io_result{{}, at + delimiter.size()};
    searched = in.size() >= delimiter.size() ? in.size() - delimiter.size() + 1 : 0;
    if (in.size() >= limit)
      co_return io_result{std::make_error_code(std::errc::message_size), in.size()};
    const std::size_t old_size = in.size();
    const std::size_t chunk = std::min<std::size_t>(limit - old_size, 4096);
    in.resize(old_size + chunk);
    auto [ec, n] = co_await detail::bounded(s.recv(buffer{in.data() + old_size, chunk}), deadline);
    in.resize(old_size + n);
    if (ec) co_return io_result{ec, in.size()};
  }
}

// Reads b.size bytes at `offset`: errc::eof with the bytes read if the file
// ends first.
inline task<io_result> read_exactly_at(file& f, std::uint64_t offset, buffer b,
                                       deadline_clock::time_point deadline = no_deadline) {
  auto* p = static_cast<unsigned char*>(b.data);
  std::size_t got = 0;
  while (got < b.size) {
    auto [ec, n] =
        co_await detail::bounded(f.read_at(offset + got, buffer{p + got, b.size - got}), deadline);
    got += n;
    if (ec) co_return io_result{ec, got};
    if (n == 0) co_return io_result{make_error_code(error::eof), got};
  }
  co_return io_result{{}, got};
}

// Writes all of b at `offset`, continuing after short writes.
inline task<io_result> write_all_at(file& f, std::uint64_t offset, const_buffer b,
                                    deadline_clock::time_point deadline = no_deadline) {
  const auto* p = static_cast<const unsigned char*>(b.data);
  std::size_t put = 0;
  while (put < b.size) {
    auto [ec, n] = co_await detail::bounded(
        f.write_at(offset + put, const_buffer{p + put, b.size - put}), deadline);
    put += n;
    if (ec) co_return io_result{ec, put};
    if (n == 0) co_return io_result{make_error_code(error::invalid_argument), put};
  }
  co_return io_result{{}, put};
}

}  // namespace proact
