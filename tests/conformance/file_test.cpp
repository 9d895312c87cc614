// Item 16: files: open modes, positional read_at/write_at at 64-bit offsets,
// several in flight on one file, end of file.
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {

using proact::file_mode;

class Item16_File : public FileTest {
 protected:
  // The content of `name` (opened for reading, associated, read, closed).
  std::string content_of(std::string_view name) {
    proact::file f;
    EXPECT_TRUE(open_associated(f, name, file_mode::read, 0xC0));
    std::error_code ec;
    const std::uint64_t size = f.size(ec);
    EXPECT_OK(ec);
    std::string data(static_cast<std::size_t>(size), '\0');
    if (size != 0) {
      proact::completion c;
      EXPECT_TRUE(read_at_and_wait(port_, f, 0, data.data(), data.size(), c));
      EXPECT_FALSE(c.error) << describe(c.error);
      data.resize(c.bytes);
    }
    return data;
  }
};

TEST_F(Item16_File, OpeningAMissingFileWithoutCreateGivesNotFound) {
  proact::file f;
  EXPECT_ERRC(f.open(dir_.path("missing"), file_mode::read), not_found);
  EXPECT_ERRC(f.open(dir_.path("missing"), file_mode::read | file_mode::write), not_found);
  EXPECT_FALSE(f.is_open());
  EXPECT_FALSE(file_exists(dir_.path("missing")));
}

TEST_F(Item16_File, CreateMakesAnEmptyFile) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "new", file_mode::write | file_mode::create));
  EXPECT_TRUE(f.is_open());
  std::error_code ec;
  EXPECT_EQ(f.size(ec), 0u);
  EXPECT_OK(ec);
  EXPECT_TRUE(file_exists(dir_.path("new")));
}

TEST_F(Item16_File, OpeningAnExistingFileKeepsItsContent) {
  ASSERT_TRUE(create_file("kept", "content", 7));
  proact::file f;
  ASSERT_TRUE(open_associated(f, "kept", file_mode::read | file_mode::write | file_mode::create));
  std::error_code ec;
  EXPECT_EQ(f.size(ec), 7u);
  ASSERT_OK(f.close());
  EXPECT_EQ(content_of("kept"), "content");
}

TEST_F(Item16_File, TruncateEmptiesAnExistingFile) {
  ASSERT_TRUE(create_file("long", "0123456789", 10));
  proact::file f;
  ASSERT_TRUE(open_associated(f, "long", file_mode::write | file_mode::truncate));
  std::error_code ec;
  EXPECT_EQ(f.size(ec), 0u);
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "ab", 2));
  ASSERT_OK(f.close());
  EXPECT_EQ(content_of("long"), "ab");
}

TEST_F(Item16_File, ExclusiveCreateFailsOnAnExistingFileAndLeavesIt) {
  ASSERT_TRUE(create_file("there", "mine", 4));
  proact::file f;
  const std::error_code ec =
      f.open(dir_.path("there"),
             file_mode::write | file_mode::create | file_mode::exclusive | file_mode::truncate);
  // (proact::errc has no "already exists" condition: any error will do.)
  EXPECT_TRUE(ec) << "exclusive create of an existing file succeeded";
  EXPECT_FALSE(f.is_open());
  EXPECT_EQ(content_of("there"), "mine");
  // On a new name it creates the file.
  ASSERT_TRUE(
      open_associated(f, "fresh", file_mode::write | file_mode::create | file_mode::exclusive));
}

TEST_F(Item16_File, OpenWithNeitherReadNorWriteIsInvalid) {
  proact::file f;
  EXPECT_ERRC(f.open(dir_.path("x"), file_mode::create), invalid_argument);
  EXPECT_FALSE(f.is_open());
  EXPECT_FALSE(file_exists(dir_.path("x")));
}

TEST_F(Item16_File, WriteAtAndReadAtUseTheirExplicitOffsets) {
  proact::file f;
  ASSERT_TRUE(
      open_associated(f, "offsets", file_mode::read | file_mode::write | file_mode::create));
  ASSERT_TRUE(write_at_and_wait(port_, f, 100, "tail", 4));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "head", 4));
  ASSERT_TRUE(write_at_and_wait(port_, f, 2, "XY", 2));  // overwrites in place
  std::error_code ec;
  EXPECT_EQ(f.size(ec), 104u);
  std::array<char, 104> all{};
  proact::completion c;
  ASSERT_TRUE(read_at_and_wait(port_, f, 0, all.data(), all.size(), c));
  EXPECT_EQ(c.key, file_key);
  EXPECT_FALSE(c.error) << describe(c.error);
  ASSERT_EQ(c.bytes, 104u);
  EXPECT_EQ(text(all.data(), 4), "heXY");
  EXPECT_EQ(text(all.data() + 4, 96), std::string(96, '\0'));  // the gap reads as zeros
  EXPECT_EQ(text(all.data() + 100, 4), "tail");
  char middle[3] = {};
  ASSERT_TRUE(read_at_and_wait(port_, f, 101, middle, 3, c));
  EXPECT_EQ(c.bytes, 3u);
  EXPECT_EQ(text(middle, 3), "ail");
}

TEST_F(Item16_File, OffsetsBeyondFourGiBAreKept) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "sparse", file_mode::read | file_mode::write | file_mode::create));
  std::string why;
  if (!allow_sparse(f.native_handle(), why))
    GTEST_SKIP() << "this platform cannot make a sparse file: " << why;
  constexpr std::uint64_t gib = 1024ull * 1024 * 1024;
  constexpr std::uint64_t far = 5 * gib + 3;
  constexpr std::uint64_t boundary = 4 * gib - 2;  // a write across the 4 GiB mark
  proact::operation op;
  ASSERT_OK(f.write_at(op, far, proact::make_buffer("far!", 4)));
  proact::completion c;
  ASSERT_TRUE(wait_one(port_, c));
  if (c.error) {
    GTEST_SKIP() << "the file system refuses a write at offset " << far
                 << " (5 GiB + 3): " << describe(c.error);
  }
  ASSERT_EQ(c.bytes, 4u);
  std::error_code ec;
  EXPECT_EQ(f.size(ec), far + 4);
  ASSERT_TRUE(write_at_and_wait(port_, f, boundary, "acro", 4));

  char in[4] = {};
  ASSERT_TRUE(read_at_and_wait(port_, f, far, in, 4, c));
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(text(in, c.bytes), "far!");
  ASSERT_TRUE(read_at_and_wait(port_, f, boundary, in, 4, c));
  EXPECT_EQ(text(in, c.bytes), "acro");
  // The same offsets cut to 32 bits land in the hole: zeros.
  ASSERT_TRUE(read_at_and_wait(port_, f, far & 0xffffffffu, in, 4, c));
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(text(in, c.bytes), std::string(4, '\0'));
  // At the end of the large file: eof.
  ASSERT_TRUE(read_at_and_wait(port_, f, far + 4, in, 4, c));
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item16_File, SeveralOperationsInFlightOnOneFile) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "many", file_mode::read | file_mode::write | file_mode::create));
  constexpr std::size_t n = 16;
  constexpr std::size_t block = std::size_t{64} * 1024;
  const std::vector<unsigned char> data = pattern(n * block, 21);
  // Writes in reverse order of offset, all in flight at once.
  std::array<proact::operation, n> ops;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = n - 1 - i;
    ASSERT_OK(f.write_at(ops[i], k * block, proact::const_buffer(data.data() + k * block, block)));
  }
  std::vector<proact::completion> got;
  ASSERT_TRUE(wait_n(port_, n, got));
  std::map<const proact::operation*, int> seen;
  for (const proact::completion& c : got) {
    ++seen[c.op];
    EXPECT_EQ(c.key, file_key);
    EXPECT_FALSE(c.error) << describe(c.error);
    EXPECT_EQ(c.bytes, block);
  }
  for (const proact::operation& op : ops) EXPECT_EQ(seen[&op], 1);
  std::error_code ec;
  EXPECT_EQ(f.size(ec), n * block);

  // Reads of every block, all in flight at once.
  std::vector<unsigned char> in(n * block);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_OK(f.read_at(ops[i], i * block, proact::buffer{in.data() + i * block, block}));
  }
  got.clear();
  ASSERT_TRUE(wait_n(port_, n, got));
  for (const proact::completion& c : got) {
    EXPECT_FALSE(c.error) << describe(c.error);
    EXPECT_EQ(c.bytes, block);
  }
  EXPECT_EQ(first_mismatch(in.data(), in.size(), 0, 21), in.size());
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item16_File, ReadAtOrPastTheEndGivesZeroBytesAndEof) {
  ASSERT_TRUE(create_file("ten", "0123456789", 10));
  proact::file f;
  ASSERT_TRUE(open_associated(f, "ten", file_mode::read));
  char in[8] = {};
  for (const std::uint64_t offset :
       {std::uint64_t{10}, std::uint64_t{11}, std::uint64_t{1} << 33}) {
    proact::completion c;
    ASSERT_TRUE(read_at_and_wait(port_, f, offset, in, sizeof(in), c));
    EXPECT_EQ(c.key, file_key);
    EXPECT_EQ(c.bytes, 0u) << "at offset " << offset;
    EXPECT_ERRC(c.error, eof) << "at offset " << offset;
  }
}

TEST_F(Item16_File, ReadCrossingTheEndGivesTheBytesThereWithoutError) {
  ASSERT_TRUE(create_file("ten", "0123456789", 10));
  proact::file f;
  ASSERT_TRUE(open_associated(f, "ten", file_mode::read));
  char in[100] = {};
  proact::completion c;
  ASSERT_TRUE(read_at_and_wait(port_, f, 6, in, sizeof(in), c));
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(c.bytes, 4u);
  EXPECT_EQ(text(in, 4), "6789");
  // And the read after it is at the end.
  ASSERT_TRUE(read_at_and_wait(port_, f, 6 + c.bytes, in, sizeof(in), c));
  EXPECT_EQ(c.bytes, 0u);
  EXPECT_ERRC(c.error, eof);
}

TEST_F(Item16_File, WriteExtendsTheFile) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "grow", file_mode::read | file_mode::write | file_mode::create));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "abc", 3));
  std::error_code ec;
  EXPECT_EQ(f.size(ec), 3u);
  ASSERT_TRUE(write_at_and_wait(port_, f, 3, "def", 3));
  EXPECT_EQ(f.size(ec), 6u);
  ASSERT_OK(f.close());
  EXPECT_EQ(content_of("grow"), "abcdef");
}

TEST_F(Item16_File, OperationsNeedAnAssociatedOpenFile) {
  proact::file never_opened;
  proact::operation op;
  char in[4] = {};
  EXPECT_ERRC(never_opened.read_at(op, 0, proact::make_buffer(in)), bad_handle);
  EXPECT_ERRC(never_opened.write_at(op, 0, proact::make_buffer("x", 1)), bad_handle);
  proact::file unassociated;
  ASSERT_OK(unassociated.open(dir_.path("plain"),
                              file_mode::read | file_mode::write | file_mode::create));
  EXPECT_ERRC(unassociated.read_at(op, 0, proact::make_buffer(in)), not_associated);
  EXPECT_ERRC(unassociated.write_at(op, 0, proact::make_buffer("x", 1)), not_associated);
  EXPECT_FALSE(op.in_flight());
  // Once associated, a closed file refuses with bad_handle.
  ASSERT_OK(port_.associate(unassociated, file_key));
  ASSERT_OK(unassociated.close());
  EXPECT_ERRC(unassociated.read_at(op, 0, proact::make_buffer(in)), bad_handle);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item16_File, ReadOnlyFileCannotBeWritten) {
  ASSERT_TRUE(create_file("ro", "keep", 4));
  proact::file f;
  ASSERT_TRUE(open_associated(f, "ro", file_mode::read));
  proact::operation op;
  const std::error_code started = f.write_at(op, 0, proact::make_buffer("XXXX", 4));
  if (!started) {
    // Refused by the kernel as the write runs: an error completion.
    proact::completion c;
    ASSERT_TRUE(wait_one(port_, c));
    EXPECT_EQ(c.op, &op);
    EXPECT_TRUE(c.error) << "a write to a read-only file succeeded";
    EXPECT_EQ(c.bytes, 0u);
  }
  EXPECT_TRUE(stays_idle(port_));
  ASSERT_OK(f.close());
  EXPECT_EQ(content_of("ro"), "keep");
}

TEST_F(Item16_File, AdoptedFileReadsWritesAndIsClosedByItsOwner) {
  ASSERT_TRUE(create_file("adopted", "0123456789", 10));
  const long handles_before = open_handle_count();
  {
    // A native handle of proact's own opening, given back by release().
    proact::file opened;
    ASSERT_OK(opened.open(dir_.path("adopted"), file_mode::read | file_mode::write));
    const proact::native_handle_type native = opened.release();
    ASSERT_NE(native, proact::invalid_native_handle);
    EXPECT_FALSE(opened.is_open());
    proact::file f;
    ASSERT_OK(f.adopt(native, file_mode::read | file_mode::write));
    EXPECT_EQ(f.native_handle(), native);
    ASSERT_OK(port_.associate(f, 0xAD));
    ASSERT_TRUE(write_at_and_wait(port_, f, 10, "ab", 2));
    char in[12] = {};
    proact::completion c;
    ASSERT_TRUE(read_at_and_wait(port_, f, 0, in, sizeof in, c));
    EXPECT_FALSE(c.error) << describe(c.error);
    EXPECT_EQ(c.key, 0xADu);
    EXPECT_EQ(std::string(in, c.bytes), "0123456789ab");
    std::error_code ec;
    EXPECT_EQ(f.size(ec), 12u);
    EXPECT_OK(ec);
    // Associated: the port uses it, release() refuses.
    EXPECT_EQ(f.release(), proact::invalid_native_handle);
    EXPECT_TRUE(f.is_open());
  }
  // ~file closed the adopted handle (on epoll, the file pool's thread closes
  // it as soon as it has finished with the write it just completed).
  EXPECT_TRUE(spin_until([&] { return open_handle_count() <= handles_before; }, 2000ms))
      << open_handle_count() << " handles open, " << handles_before << " before";
}

TEST_F(Item16_File, AdoptedReadOnlyFileRefusesFlush) {
  ASSERT_TRUE(create_file("ro", "x", 1));
  const proact::native_handle_type native = open_native_file(dir_.path("ro"));
  ASSERT_NE(native, proact::invalid_native_handle);
  proact::file f;
  ASSERT_OK(f.adopt(native, file_mode::read));
  ASSERT_OK(port_.associate(f, 0xAE));
  proact::operation op;
  EXPECT_ERRC(f.flush(op), bad_handle);  // the access `mode` said, as for open
  char in[1] = {};
  proact::completion c;
  ASSERT_TRUE(read_at_and_wait(port_, f, 0, in, 1, c));
  EXPECT_EQ(std::string(in, c.bytes), "x");
}

TEST_F(Item16_File, AdoptedFileWaitsForTheDiskInsteadOfFailing) {
  // A descriptor opened non-blocking (as a server does, so that a FIFO
  // cannot block its open) becomes blocking: io_uring would otherwise end
  // a read that must wait for the disk with EAGAIN.
  ASSERT_TRUE(create_file("nb", "data", 4));
  const proact::native_handle_type native = open_native_file_nonblocking(dir_.path("nb"));
  ASSERT_NE(native, proact::invalid_native_handle);
  proact::file f;
  ASSERT_OK(f.adopt(native, file_mode::read));
  EXPECT_FALSE(native_nonblocking(f.native_handle()));
  ASSERT_OK(port_.associate(f, 0xAF));
  char in[4] = {};
  proact::completion c;
  ASSERT_TRUE(read_at_and_wait(port_, f, 0, in, 4, c));
  EXPECT_FALSE(c.error) << describe(c.error);
  EXPECT_EQ(std::string(in, c.bytes), "data");
}

TEST_F(Item16_File, AdoptRefusesWhatIsNotARegularFileAndLeavesItToTheCaller) {
  proact::file f;
  EXPECT_ERRC(f.adopt(proact::invalid_native_handle, file_mode::read), bad_handle);
  const proact::native_handle_type directory = open_native_directory(dir_.path(""));
  ASSERT_NE(directory, proact::invalid_native_handle);
  EXPECT_ERRC(f.adopt(directory, file_mode::read), bad_handle);
  EXPECT_FALSE(f.is_open());
  close_native(directory);  // still the caller's
  ASSERT_TRUE(create_file("plain", "x", 1));
  const proact::native_handle_type native = open_native_file(dir_.path("plain"));
  ASSERT_NE(native, proact::invalid_native_handle);
  // Access flags only: no create, truncate or exclusive, and not none.
  EXPECT_ERRC(f.adopt(native, file_mode::read | file_mode::create), invalid_argument);
  EXPECT_ERRC(f.adopt(native, file_mode::truncate), invalid_argument);
  EXPECT_ERRC(f.adopt(native, file_mode{}), invalid_argument);
  EXPECT_FALSE(f.is_open());
  close_native(native);
  proact::file never_opened;
  EXPECT_EQ(never_opened.release(), proact::invalid_native_handle);
}

}  // namespace
}  // namespace proact_test
