#include "daemon/orphan_reaper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <string>
#include <vector>

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

namespace {

// The kernel's own list of our children, zombies included. waitid(P_ALL)
// cannot be used: it would take a worker's exit away from its source.
std::vector<pid_t> Children() {
  std::ifstream list("/proc/self/task/" + std::to_string(::getpid()) +
                     "/children");
  std::vector<pid_t> pids;
  pid_t pid = 0;
  while (list >> pid) pids.push_back(pid);
  return pids;
}

}  // namespace

void OrphanReaper::KillAndReapAll() {
  // Orphans may reparent to us while we reap; a few rounds catch them.
  for (int round = 0; round < 10; ++round) {
    std::vector<pid_t> children = Children();
    if (children.empty()) return;
    for (pid_t pid : children) {
      if (is_worker_(pid)) continue;
      ::kill(pid, SIGKILL);
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED) == 0) {
        spdlog::debug("reaped leftover process {} ({})", pid,
                      ExitStatus::FromSiginfo(info).Describe());
      }
    }
  }
}

int OrphanReaper::ReapNow() {
  int reaped = 0;
  for (pid_t pid : Children()) {
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
