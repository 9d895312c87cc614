// A child process for the TLS tests that talk to the openssl command line
// (POSIX only: the Windows build gets its peer from tests/tls/tls_peer.sh).
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "proact/socket.hpp"

extern char** environ;

namespace proact_test {

// A shell command line run as a child process, ended (SIGKILL) and reaped
// when the object goes if it has not exited by then.
class child {
 public:
  explicit child(const std::string& command) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    if (posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
      pid_ = -1;
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() {
    if (pid_ <= 0) return;
    if (!exited()) kill(pid_, SIGKILL);
    int status = 0;
    if (!reaped_) (void)waitpid(pid_, &status, 0);
  }
  bool started() const noexcept { return pid_ > 0; }
  // Waits up to `t` for the exit; true if it exited with 0.
  bool wait_ok(std::chrono::milliseconds t) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (!exited() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return reaped_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0;
  }

 private:
  bool exited() {
    if (reaped_) return true;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return reaped_;
  }
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

// A loopback port nothing listens on right now.
inline std::uint16_t free_port() {
  proact::tcp_listener l;
  if (l.listen(proact::endpoint::loopback(proact::address_family::ipv4, 0))) return 0;
  std::error_code ec;
  const std::uint16_t port = l.local_endpoint(ec).port();
  (void)l.close();
  return ec ? 0 : port;
}

}  // namespace proact_test
