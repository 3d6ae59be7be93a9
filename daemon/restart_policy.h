// What to do when a worker's process ends: pure functions of the spec, the
// slot's restart history and the time. No I/O, so every case is unit-tested.
#pragma once

#include <deque>
#include <string>

#include "daemon/config.h"
#include "daemon/event_loop.h"
#include "daemon/exit_status.h"

namespace workerd {

struct RestartHistory {
  // Times of the automatic restarts still inside the crash_limit window.
  std::deque<TimePoint> restarts;
  // Failed starts in a row (died before start_period); sets the backoff.
  int failed_starts_in_a_row = 0;
};

struct RestartDecision {
  enum class Action {
    kRestartNow,    // it ran long enough: restart at once
    kRestartLater,  // a failed start: restart after `delay`
    kLeaveExited,   // the restart policy says no
    kGiveUp,        // crash_limit reached: fatal
  };
  Action action = Action::kLeaveExited;
  Duration delay{0};
  std::string reason;  // a sentence for the log and `workerctl status`
};

// `was_up`: the process had counted as started (stayed up start_period).
RestartDecision DecideRestart(const ProgramSpec& spec,
                              const RestartHistory& history,
                              const ExitStatus& exit, bool was_up,
                              TimePoint now);

// Records a decision in the history (call when acting on it).
void RecordRestart(const ProgramSpec& spec, RestartHistory& history,
                   const RestartDecision& decision, TimePoint now);

// initial, 2x initial, 4x initial, ... capped at max; `failures` >= 1.
Duration BackoffDelay(const Backoff& backoff, int failures);

}  // namespace workerd
