#include "daemon/orphan_reaper.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <string>

#include "daemon/exit_status.h"

namespace workerd {

OrphanReaper::OrphanReaper(EventLoop& loop,
                           std::function<bool(pid_t)> is_worker)
    : is_worker_(std::move(is_worker)) {
  // Lowest priority: workers' exit sources have had their turn, so a
  // waiting worker zombie is never mistaken for an orphan.
  sigchld_ = loop.AddSignal(
      SIGCHLD, [this](const signalfd_siginfo&) { ReapNow(); },
      Priority::kOrphans);
}

int OrphanReaper::ReapNow() {
  // The kernel's own list of our children, zombies included. waitid(P_ALL)
  // cannot be used: it would take a worker's exit away from its source.
  std::string path = "/proc/self/task/" + std::to_string(::getpid()) +
                     "/children";
  std::ifstream children(path);
  int reaped = 0;
  pid_t pid = 0;
  while (children >> pid) {
    if (is_worker_(pid)) continue;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) ==
            0 &&
        info.si_pid == pid) {
      ++reaped;
      spdlog::debug("reaped orphaned process {} ({})", pid,
                    ExitStatus::FromSiginfo(info).Describe());
    }
  }
  return reaped;
}

bool BecomeSubreaper() {
  return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
}

}  // namespace workerd
