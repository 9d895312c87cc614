// Item 26: a file's size, space and permissions, synchronously: size,
// set_size, preallocate; open with permissions; an exclusive create of an
// existing file is file_exists.
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "fixture.hpp"
#include "platform.hpp"

namespace proact_test {
namespace {

using proact::file_mode;

constexpr file_mode read_write = file_mode::read | file_mode::write | file_mode::create;

class Item26_FileSpace : public FileTest {
 protected:
  // The whole content of the open, associated file f.
  std::string read_all(proact::file& f) {
    std::uint64_t size = 0;
    EXPECT_OK(f.size(size));
    std::string data(static_cast<std::size_t>(size), '\0');
    std::size_t got = 0;
    while (got < data.size()) {
      proact::completion c;
      if (!read_at_and_wait(port_, f, got, data.data() + got, data.size() - got, c) || c.error ||
          c.bytes == 0) {
        ADD_FAILURE() << "read at " << got << ": " << describe(c.error);
        break;
      }
      got += c.bytes;
    }
    return data;
  }
};

TEST_F(Item26_FileSpace, SizeReportsTheSizeOrAnError) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "sized", read_write));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "0123456789", 10));
  std::uint64_t size = 0;
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, 10u);
  ASSERT_OK(f.close());
  size = 7;
  EXPECT_ERRC(f.size(size), bad_handle);
  EXPECT_EQ(size, 0u);
}

TEST_F(Item26_FileSpace, SetSizeTruncatesAndExtendsWithZeros) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "resized", read_write));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "0123456789", 10));
  ASSERT_OK(f.set_size(4));
  EXPECT_EQ(read_all(f), "0123");
  ASSERT_OK(f.set_size(4096 + 4));
  EXPECT_EQ(read_all(f), "0123" + std::string(4096, '\0'));
  ASSERT_OK(f.set_size(0));
  std::uint64_t size = 1;
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, 0u);
  // Synchronous: it works on a file with no port too.
  proact::file plain;
  ASSERT_OK(plain.open(dir_.path("plain"), read_write));
  ASSERT_OK(plain.set_size(123));
  ASSERT_OK(plain.size(size));
  EXPECT_EQ(size, 123u);
  EXPECT_TRUE(stays_idle(port_));
}

TEST_F(Item26_FileSpace, SetSizeRefusesBadInput) {
  proact::file never_opened;
  EXPECT_ERRC(never_opened.set_size(1), bad_handle);
  proact::file f;
  ASSERT_TRUE(open_associated(f, "bad", read_write));
  EXPECT_ERRC(f.set_size(std::uint64_t{1} << 63), invalid_argument);
  std::uint64_t size = 1;
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, 0u);
}

TEST_F(Item26_FileSpace, PreallocateReservesAndExtendsKeepingTheContent) {
  proact::file f;
  ASSERT_TRUE(open_associated(f, "reserved", read_write));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "abc", 3));
  constexpr std::uint64_t mib = 1024 * 1024;
  const std::error_code ec = f.preallocate(0, mib);
  if (ec == proact::errc::operation_not_supported) {
    // The contract for such a file system: this error, nothing changed.
    std::uint64_t size = 0;
    ASSERT_OK(f.size(size));
    EXPECT_EQ(size, 3u);
    GTEST_SKIP() << "this file system cannot preallocate: " << describe(ec);
  }
  ASSERT_OK(ec);
  std::uint64_t size = 0;
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, mib);
  const std::string all = read_all(f);
  ASSERT_EQ(all.size(), mib);
  EXPECT_EQ(all.substr(0, 3), "abc");
  EXPECT_EQ(all.find_first_not_of('\0', 3), std::string::npos)
      << "the new bytes must read as zeros";
  // A range inside the file changes nothing; one past its end extends it.
  ASSERT_OK(f.preallocate(100, 1000));
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, mib);
  ASSERT_OK(f.preallocate(mib, 4096));
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, mib + 4096);
  // The reserved range can be written.
  ASSERT_TRUE(write_at_and_wait(port_, f, mib + 10, "xyz", 3));
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, mib + 4096);
}

TEST_F(Item26_FileSpace, PreallocateRefusesBadInput) {
  proact::file never_opened;
  EXPECT_ERRC(never_opened.preallocate(0, 1), bad_handle);
  proact::file f;
  ASSERT_TRUE(open_associated(f, "bad", read_write));
  EXPECT_ERRC(f.preallocate(0, 0), invalid_argument);
  EXPECT_ERRC(f.preallocate(std::uint64_t{1} << 63, 1), invalid_argument);
  EXPECT_ERRC(f.preallocate((std::uint64_t{1} << 62) * 3 / 2, std::uint64_t{1} << 62),
              invalid_argument);
  std::uint64_t size = 1;
  ASSERT_OK(f.size(size));
  EXPECT_EQ(size, 0u);
}

TEST_F(Item26_FileSpace, FileOpenedWithoutWriteCannotBeResized) {
  ASSERT_TRUE(create_file("kept", "0123456789", 10));
  proact::file f;
  ASSERT_TRUE(open_associated(f, "kept", file_mode::read));
  EXPECT_ERRC(f.set_size(4), bad_handle);
  EXPECT_ERRC(f.set_size(100), bad_handle);
  EXPECT_ERRC(f.preallocate(0, 4096), bad_handle);
  EXPECT_EQ(read_all(f), "0123456789");
}

TEST_F(Item26_FileSpace, ExclusiveCreateOfAnExistingFileIsFileExists) {
  proact::file first;
  ASSERT_TRUE(open_associated(first, "once", read_write | file_mode::exclusive));
  proact::file second;
  const std::error_code ec = second.open(dir_.path("once"), read_write | file_mode::exclusive);
  EXPECT_ERRC(ec, file_exists);
  EXPECT_EQ(ec, std::errc::file_exists) << describe(ec);
  EXPECT_NE(ec, proact::errc::not_found);
  EXPECT_FALSE(second.is_open());
}

TEST_F(Item26_FileSpace, CreateAppliesItsPermissions) {
  const std::string read_only = dir_.path("read-only");
  proact::file f;
  // A read-only file is still written through the handle that created it.
  ASSERT_OK(f.open(read_only, read_write | file_mode::exclusive, 0444));
  ASSERT_OK(port_.associate(f, file_key));
  ASSERT_TRUE(write_at_and_wait(port_, f, 0, "ro", 2));
  ASSERT_OK(f.close());
  EXPECT_TRUE(is_read_only(read_only));

  const std::string private_file = dir_.path("private");
  ASSERT_OK(f.open(private_file, read_write | file_mode::exclusive, 0640));
  ASSERT_OK(f.close());
  EXPECT_FALSE(is_read_only(private_file));
  unsigned bits = 0;
  if (permission_bits(private_file, bits)) {
    EXPECT_EQ(bits, 0640u & ~process_umask());
    ASSERT_TRUE(permission_bits(read_only, bits));
    EXPECT_EQ(bits, 0444u & ~process_umask());
  } else {
    std::printf("[   INFO   ] no POSIX permission bits here: only read-only is checked\n");
  }
  // An existing file keeps its permissions.
  ASSERT_OK(f.open(private_file, file_mode::write | file_mode::create, 0444));
  ASSERT_OK(f.close());
  EXPECT_FALSE(is_read_only(private_file));
  EXPECT_TRUE(make_writable(read_only));  // so that the directory can go
}

TEST_F(Item26_FileSpace, PermissionsOutsideTheModeBitsAreInvalid) {
  proact::file f;
  EXPECT_ERRC(f.open(dir_.path("odd"), read_write, 010000), invalid_argument);
  EXPECT_FALSE(f.is_open());
  EXPECT_FALSE(file_exists(dir_.path("odd")));
}

}  // namespace
}  // namespace proact_test
