// workerd is a child subreaper: processes that daemonize away from a
// worker are reparented to it. Workers are reaped through their own pidfd
// sources; this reaps every other child, and only those.
#pragma once

#include <sys/types.h>

#include <functional>

#include "daemon/event_loop.h"

namespace workerd {

class OrphanReaper {
 public:
  // `is_worker(pid)`: the pid belongs to a worker with its own exit source,
  // which must be left to it. SIGCHLD must be blocked.
  OrphanReaper(EventLoop& loop, std::function<bool(pid_t)> is_worker);

  // Reaps every exited child that is not a worker; returns how many.
  int ReapNow();

  // At exit, when no worker is left: kills and reaps every remaining child
  // (group members just SIGKILLed, daemonized escapees), so that nothing
  // passes to PID 1 as an orphan or a zombie. Blocks only while SIGKILLed
  // processes die.
  void KillAndReapAll();

 private:
  std::function<bool(pid_t)> is_worker_;
  EventSource sigchld_;
};

// Makes the calling process a child subreaper (PR_SET_CHILD_SUBREAPER).
bool BecomeSubreaper();

}  // namespace workerd
