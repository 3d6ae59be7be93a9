#include "daemon/worker_state.h"

namespace workerd {

std::string_view WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kStopped:
      return "stopped";
    case WorkerState::kWaiting:
      return "waiting";
    case WorkerState::kBlocked:
      return "blocked";
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kReady:
      return "ready";
    case WorkerState::kRunning:
      return "running";
    case WorkerState::kCompleted:
      return "completed";
    case WorkerState::kStopping:
      return "stopping";
    case WorkerState::kBackoff:
      return "backoff";
    case WorkerState::kExited:
      return "exited";
    case WorkerState::kFatal:
      return "fatal";
    case WorkerState::kWaitingForChange:
      return "waiting for change";
  }
  return "unknown";
}

}  // namespace workerd
