// Runs a check as the unprivileged user `nobody`, on a thread of its own,
// so that tests of "permission denied" paths hold even when the suite runs
// as root.
//
// A thread, not a forked child: the test process may have other threads
// (a fake control server's), and a child forked from it may only make
// async-signal-safe calls, where the check allocates and logs. Linux keeps
// credentials per thread; the raw system calls change only the calling
// thread's (glibc's setuid() would change every thread's), and the thread
// ends with them.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

namespace workerd::testing {

// The text `attempt` returns, computed as nobody (or as we are, when not
// root); "could not drop privileges" when that failed.
inline std::string AsNobody(const std::function<std::string()>& attempt) {
  if (::geteuid() != 0) return attempt();
  constexpr long kNobody = 65534;
  std::string text = "could not drop privileges";
  std::thread nobody([&] {
    if (::syscall(SYS_setgroups, 0L, nullptr) == 0 &&
        ::syscall(SYS_setresgid, kNobody, kNobody, kNobody) == 0 &&
        ::syscall(SYS_setresuid, kNobody, kNobody, kNobody) == 0) {
      text = attempt();
    }
  });
  nobody.join();
  return text;
}

}  // namespace workerd::testing
