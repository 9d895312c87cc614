// document_root on Linux: openat2(RESOLVE_BENEATH) where the kernel has it
// (5.6+), opening the file for reading at once (non-blocking, so that a FIFO
// cannot hold the loop thread; only a regular file is then kept) and handing
// the descriptor to proact (file::adopt). Else a walk of the path one
// component at a time with O_NOFOLLOW that resolves each symbolic link
// itself and refuses one that leaves the root; the file it finds is reopened
// for proact through /proc/self/fd, which names the very file that was
// opened, not a path.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "confined_open.hpp"

namespace http {

namespace {

constexpr int max_links = 40;  // as the kernel's own limit

class fd_holder {
 public:
  explicit fd_holder(int fd = -1) noexcept : fd_(fd) {}
  fd_holder(const fd_holder&) = delete;
  fd_holder& operator=(const fd_holder&) = delete;
  ~fd_holder() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  void release() noexcept { fd_ = -1; }

 private:
  int fd_;
};

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// openat2 with RESOLVE_BENEATH: -1 with errno (ENOSYS where the kernel lacks it).
int open_beneath(int root, const std::string& relative) {
  open_how how{};
  how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const char* p = relative.empty() ? "." : relative.c_str();
  return static_cast<int>(::syscall(SYS_openat2, root, p, &how, sizeof how));
}

// The fallback: the directories walked so far are a stack of descriptors
// (the root at the bottom); ".." pops, and a link's target is walked in
// place of the link. -1 with errno EXDEV when it would leave the root.
int open_walking(int root, const std::string& relative) {
  std::vector<std::string> pending = split(relative);
  std::vector<int> stack;  // directories below the root
  auto top = [&] { return stack.empty() ? root : stack.back(); };
  auto release = [&] {
    for (int fd : stack) ::close(fd);
  };
  std::size_t next = 0;
  int links = 0;
  for (;;) {
    if (next == pending.size()) {
      const int fd = ::fcntl(top(), F_DUPFD_CLOEXEC, 0);
      release();
      return fd;
    }
    const std::string part = pending[next++];
    if (part == "..") {
      if (stack.empty()) {
        release();
        errno = EXDEV;
        return -1;
      }
      ::close(stack.back());
      stack.pop_back();
      continue;
    }
    const int fd = ::openat(top(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      release();
      errno = e;
      return -1;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      release();
      return -1;
    }
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      const ssize_t n = ::readlinkat(fd, "", target, sizeof target);
      ::close(fd);
      if (n <= 0 || n == static_cast<ssize_t>(sizeof target) || ++links > max_links ||
          target[0] == '/') {  // an absolute link always leaves the root
        release();
        errno = n > 0 && target[0] == '/' ? EXDEV : ELOOP;
        return -1;
      }
      std::vector<std::string> rest = split(std::string_view(target, static_cast<std::size_t>(n)));
      rest.insert(rest.end(), pending.begin() + static_cast<std::ptrdiff_t>(next), pending.end());
      pending = std::move(rest);
      next = 0;
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      stack.push_back(fd);
      continue;
    }
    if (next != pending.size()) {  // a file in the middle of the path
      ::close(fd);
      release();
      errno = ENOTDIR;
      return -1;
    }
    release();
    return fd;
  }
}

}  // namespace

bool document_root::open(const std::string& path, std::string& why) {
  const int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    why = "not a directory: " + path;
    return false;
  }
  native_ = fd;
  path_ = path;
  return true;
}

document_root::~document_root() {
  if (native_ >= 0) ::close(static_cast<int>(native_));
}

document_root::outcome document_root::open_file(std::string_view relative, proact::file& out,
                                                std::uint64_t& size) const {
  const std::string rel(relative);
  const int root = static_cast<int>(native_);
  bool walked = false;
  int fd = open_beneath(root, rel);
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {  // EPERM: seccomp
    fd = open_walking(root, rel);
    walked = true;
  }
  if (fd < 0) {
    if (errno == EXDEV) return outcome::outside_root;
    return out_of_resources(std::error_code(errno, std::generic_category())) ? outcome::unavailable
                                                                             : outcome::not_found;
  }
  fd_holder held(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return outcome::not_found;
  if (S_ISDIR(st.st_mode)) return outcome::directory;
  if (!S_ISREG(st.st_mode)) return outcome::not_found;
  size = static_cast<std::uint64_t>(st.st_size);
  if (!walked) {
    // Opened for reading already: proact takes the descriptor as it is.
    if (out.adopt(fd, proact::file_mode::read)) return outcome::not_found;
    held.release();
    return outcome::file;
  }
  // The walk opened a path-only descriptor: the file itself, not a path
  // that could have changed since.
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  if (const std::error_code ec = out.open(self, proact::file_mode::read))
    return out_of_resources(ec) ? outcome::unavailable : outcome::not_found;
  return outcome::file;
}

}  // namespace http
