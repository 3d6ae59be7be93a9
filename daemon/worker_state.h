// The states of a worker (one slot of a program), as status shows them.
// Kept apart from worker.h so that pure policies can judge states without
// the machinery around a process.
#pragma once

#include <string_view>

namespace workerd {

enum class WorkerState {
  kStopped,    // not running, by request or autostart = false
  kWaiting,    // to start once the program's dependencies meet their
               // conditions
  kBlocked,    // a dependency failed; starts when it recovers
  kStarting,   // running, not yet up for start_period (or READY=1)
  kReady,      // running and counted as up
  kRunning,    // a oneshot's process is running
  kCompleted,  // a oneshot's process exited 0
  kStopping,   // stop signal sent, waiting for the exit
  kBackoff,    // waiting to retry a failed start
  kExited,     // ended; the restart policy says not to restart
  kFatal,      // crash_limit reached; left alone until Start()
  // Development mode: it failed, and starts again when a file the program
  // watches changes (or on Start()); crashes here count toward nothing.
  kWaitingForChange,
};

std::string_view WorkerStateName(WorkerState state);

}  // namespace workerd
