// Runs a check as the unprivileged user `nobody`, in a forked child, so that
// tests of "permission denied" paths hold even when the suite runs as root.
#pragma once

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace workerd::testing {

// The text `attempt` returns, computed as nobody (or as we are, when not
// root); "could not drop privileges" when that failed.
inline std::string AsNobody(const std::function<std::string()>& attempt) {
  if (::geteuid() != 0) return attempt();
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    ::close(fds[0]);
    std::string text = "could not drop privileges";
    if (::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 &&
        ::setuid(65534) == 0) {
      text = attempt();
    }
    ssize_t ignored = ::write(fds[1], text.data(), text.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  return text;
}

}  // namespace workerd::testing
