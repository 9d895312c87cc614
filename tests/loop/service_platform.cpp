#include "service_platform.hpp"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "proact/signal_set.hpp"

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winsock2.h>
#else
#include <netdb.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#endif

#include "../conformance/platform.hpp"

namespace proact_test {

namespace {
std::atomic<int> fallback_count{0};
}  // namespace

#if defined(_WIN32)

std::vector<std::pair<std::error_code, proact::errc>> native_resolver_failures() {
  const auto& c = proact::resolver_category();
  return {{{WSAHOST_NOT_FOUND, c}, proact::errc::host_not_found},
          {{WSANO_DATA, c}, proact::errc::host_not_found},
          {{WSATRY_AGAIN, c}, proact::errc::try_again},
          {{WSATYPE_NOT_FOUND, c}, proact::errc::service_not_found}};
}

bool raise_signal(int signal, std::string& why) {
  if (signal != proact::signal_set::interrupt) {
    why = "Windows has no way for a program to raise this console event itself";
    return false;
  }
  // Ctrl-C may be disabled for this process (a new process group): enable it.
  SetConsoleCtrlHandler(nullptr, FALSE);
  if (GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) return true;
  const DWORD first = GetLastError();
  // No console (a test runner's pipes): try one of our own.
  if (AllocConsole() && GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) return true;
  why =
      "cannot raise a console control event: GenerateConsoleCtrlEvent(CTRL_C_EVENT) failed with "
      "Win32 error " +
      std::to_string(first) + " and AllocConsole/GenerateConsoleCtrlEvent with " +
      std::to_string(GetLastError()) +
      " (under Wine without a console; the README proxy test stops the proxy with SIGINT, "
      "which Wine turns into Ctrl-C)";
  return false;
}

namespace {
constexpr wchar_t child_variable[] = L"PROACT_TEST_OWN_CONSOLE";

std::wstring widen(const std::string& s) {
  return std::wstring(s.begin(), s.end());  // ASCII: test names, backends, paths we make
}
}  // namespace

bool raise_signals_in_child() {
  return GetEnvironmentVariableW(child_variable, nullptr, 0) == 0;
}

::testing::AssertionResult run_test_in_child(const std::string& name, const std::string& backend,
                                             bool& skipped, std::string& why) {
  skipped = false;
  wchar_t exe[MAX_PATH];
  if (GetModuleFileNameW(nullptr, exe, MAX_PATH) == 0)
    return ::testing::AssertionFailure() << "GetModuleFileNameW: " << GetLastError();
  wchar_t temp[MAX_PATH];
  wchar_t out_path[MAX_PATH];
  if (GetTempPathW(MAX_PATH, temp) == 0 || GetTempFileNameW(temp, L"sig", 0, out_path) == 0)
    return ::testing::AssertionFailure() << "no temporary file: " << GetLastError();
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE out = CreateFileW(out_path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                           CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (out == INVALID_HANDLE_VALUE)
    return ::testing::AssertionFailure() << "CreateFileW: " << GetLastError();
  std::wstring command = L"\"" + std::wstring(exe) + L"\" --backend=" + widen(backend) +
                         L" --gtest_filter=" + widen(name);
  STARTUPINFOW si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = nullptr;
  si.hStdOutput = out;
  si.hStdError = out;
  PROCESS_INFORMATION pi{};
  SetEnvironmentVariableW(child_variable, L"1");
  BOOL started = FALSE;
  DWORD start_error = 0;
  // Wine's CreateProcessW now and then fails with ERROR_INTERNAL_ERROR while
  // its server is busy (seen once in a full test run); starting the child
  // again works. Any other failure, or a persistent one, fails the test.
  for (int attempt = 0; attempt < 5; ++attempt) {
    started = CreateProcessW(nullptr, command.data(), nullptr, nullptr, TRUE, CREATE_NEW_CONSOLE,
                             nullptr, nullptr, &si, &pi);
    start_error = started ? 0 : GetLastError();
    if (started || start_error != ERROR_INTERNAL_ERROR) break;
    Sleep(100);
  }
  SetEnvironmentVariableW(child_variable, nullptr);
  CloseHandle(out);
  if (!started) {
    DeleteFileW(out_path);
    return ::testing::AssertionFailure() << "CreateProcessW: " << start_error;
  }
  const DWORD waited = WaitForSingleObject(pi.hProcess, 120000);
  DWORD code = 1;
  if (waited != WAIT_OBJECT_0) TerminateProcess(pi.hProcess, 1);
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  std::ifstream file(out_path);
  std::stringstream output;
  output << file.rdbuf();
  file.close();
  DeleteFileW(out_path);
  const std::string text = output.str();
  if (waited != WAIT_OBJECT_0)
    return ::testing::AssertionFailure() << name << " did not end within 120 s in its child:\n"
                                         << text;
  if (code != 0)
    return ::testing::AssertionFailure() << name << " failed in its child (exit " << code << "):\n"
                                         << text;
  if (text.find("[  SKIPPED ] 1 test") != std::string::npos) {
    skipped = true;
    why = "skipped in its child process:\n" + text;
    return ::testing::AssertionSuccess();
  }
  if (text.find("[  PASSED  ] 1 test") == std::string::npos)
    return ::testing::AssertionFailure() << name << " did not pass in its child:\n" << text;
  return ::testing::AssertionSuccess();
}

namespace {
BOOL WINAPI fallback(DWORD) {
  fallback_count.fetch_add(1);
  return TRUE;
}
}  // namespace

fallback_signal_handlers::fallback_signal_handlers() {
  fallback_count.store(0);
  SetConsoleCtrlHandler(&fallback, TRUE);
}
fallback_signal_handlers::~fallback_signal_handlers() {
  SetConsoleCtrlHandler(&fallback, FALSE);
}

::testing::AssertionResult run_test_with_hosts(const std::string&, const std::string&,
                                               const std::string&, bool& skipped,
                                               std::string& why) {
  skipped = true;
  why =
      "the hosts file is the machine's (%SystemRoot%\\System32\\drivers\\etc\\hosts, "
      "administrators only); a test cannot give a process hosts data of its own";
  return ::testing::AssertionSuccess();
}

bool in_private_hosts_child() {
  return false;
}

#else

std::vector<std::pair<std::error_code, proact::errc>> native_resolver_failures() {
  const auto& c = proact::resolver_category();
  return {{{EAI_NONAME, c}, proact::errc::host_not_found},
          {{EAI_AGAIN, c}, proact::errc::try_again},
          {{EAI_SERVICE, c}, proact::errc::service_not_found}};
}

bool raise_signal(int signal, std::string&) {
  return ::kill(::getpid(), signal) == 0;
}

bool raise_signals_in_child() {
  return false;
}

::testing::AssertionResult run_test_in_child(const std::string&, const std::string&, bool&,
                                             std::string&) {
  return ::testing::AssertionFailure() << "POSIX tests raise signals in their own process";
}

namespace {

// Exit statuses of the child before it runs the test.
constexpr int no_namespace = 77;
constexpr int no_bind_mount = 78;
constexpr int no_exec = 79;

}  // namespace

::testing::AssertionResult run_test_with_hosts(const std::string& name, const std::string& backend,
                                               const std::string& hosts, bool& skipped,
                                               std::string& why) {
  skipped = false;
  char path[] = "/tmp/proact-hosts-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return ::testing::AssertionFailure() << "mkstemp: " << std::strerror(errno);
  const bool written =
      ::write(fd, hosts.data(), hosts.size()) == static_cast<ssize_t>(hosts.size());
  ::close(fd);
  if (!written) {
    ::unlink(path);
    return ::testing::AssertionFailure() << "could not write " << path;
  }
  // Everything the child needs is made before fork(): after it, only
  // system calls until exec.
  std::string backend_arg = "--backend=" + backend;
  std::string filter_arg = "--gtest_filter=" + name;
  std::string self = "/proc/self/exe";
  char* argv[] = {self.data(), backend_arg.data(), filter_arg.data(), nullptr};
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    // The child must not write over this process's test report.
    if (std::strncmp(*e, "GTEST_OUTPUT=", 13) != 0) env_strings.emplace_back(*e);
  }
  env_strings.emplace_back("PROACT_TEST_PRIVATE_HOSTS=1");
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::unlink(path);
    return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  }
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(no_namespace);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(no_namespace);
    if (::mount(path, "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) ::_exit(no_bind_mount);
    ::execve(argv[0], argv, envp.data());
    ::_exit(no_exec);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::unlink(path);
  if (!WIFEXITED(status))
    return ::testing::AssertionFailure() << "the child ended abnormally (status " << status << ")";
  switch (WEXITSTATUS(status)) {
    case 0:
      return ::testing::AssertionSuccess();
    case no_namespace:
      skipped = true;
      why = "no private mount namespace for a child (unshare(CLONE_NEWNS) needs CAP_SYS_ADMIN)";
      return ::testing::AssertionSuccess();
    case no_bind_mount:
      skipped = true;
      why = "cannot bind a file over /etc/hosts in a private mount namespace";
      return ::testing::AssertionSuccess();
    default:
      return ::testing::AssertionFailure()
             << "the test failed in the child with its own hosts file (exit status "
             << WEXITSTATUS(status) << "; its output is above)";
  }
}

bool in_private_hosts_child() {
  return !environment_variable("PROACT_TEST_PRIVATE_HOSTS").empty();
}

namespace {
constexpr int test_signals[] = {SIGHUP, SIGINT, SIGTERM};
struct sigaction saved[3];
extern "C" void fallback(int) {
  fallback_count.fetch_add(1);
}
}  // namespace

fallback_signal_handlers::fallback_signal_handlers() {
  fallback_count.store(0);
  for (int i = 0; i < 3; ++i) {
    struct sigaction action {};
    action.sa_handler = &fallback;
    sigemptyset(&action.sa_mask);
    ::sigaction(test_signals[i], &action, &saved[i]);
  }
}
fallback_signal_handlers::~fallback_signal_handlers() {
  for (int i = 0; i < 3; ++i) ::sigaction(test_signals[i], &saved[i], nullptr);
}

#endif

int fallback_signal_handlers::uncaught() const noexcept {
  return fallback_count.load();
}

}  // namespace proact_test
