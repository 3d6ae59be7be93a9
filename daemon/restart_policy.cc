#include "daemon/restart_policy.h"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/duration.h"

namespace workerd {
namespace {

bool PolicyRestarts(RestartPolicy policy, const ExitStatus& exit) {
  switch (policy) {
    case RestartPolicy::kAlways:
      return true;
    case RestartPolicy::kOnFailure:
      return !exit.Success();
    case RestartPolicy::kNever:
      return false;
  }
  return false;
}

int RestartsWithin(const CrashLimit& limit, const RestartHistory& history,
                   TimePoint now) {
  return static_cast<int>(std::count_if(
      history.restarts.begin(), history.restarts.end(),
      [&](TimePoint t) { return now - t < limit.within; }));
}

}  // namespace

Duration BackoffDelay(const Backoff& backoff, int failures) {
  Duration delay = backoff.initial;
  for (int i = 1; i < failures && delay < backoff.max; ++i) delay *= 2;
  return std::min(delay, backoff.max);
}

RestartDecision DecideRestart(const ProgramSpec& spec,
                              const RestartHistory& history,
                              const ExitStatus& exit, bool was_up,
                              TimePoint now) {
  using Action = RestartDecision::Action;
  RestartDecision decision;
  if (!PolicyRestarts(spec.restart, exit)) {
    decision.action = Action::kLeaveExited;
    decision.reason = fmt::format("not restarted (restart = \"{}\")",
                                  RestartPolicyName(spec.restart));
    return decision;
  }
  if (RestartsWithin(spec.crash_limit, history, now) >=
      spec.crash_limit.restarts) {
    decision.action = Action::kGiveUp;
    decision.reason = fmt::format(
        "gave up after {} restarts within {}; `workerctl start` tries again",
        spec.crash_limit.restarts, FormatDuration(spec.crash_limit.within));
    return decision;
  }
  if (was_up) {
    decision.action = Action::kRestartNow;
    decision.reason = "restarted";
    return decision;
  }
  decision.action = Action::kRestartLater;
  decision.delay = BackoffDelay(spec.backoff, history.failed_starts_in_a_row + 1);
  // A process that never ran needs no lecture about start_period.
  if (exit.kind == ExitStatus::Kind::kSpawnFailed ||
      spec.type == ProgramType::kOneshot) {
    decision.reason =
        fmt::format("retrying in {}", FormatDuration(decision.delay));
  } else if (spec.ready == Readiness::kNotify) {
    decision.reason = fmt::format(
        "failed to start (it never sent READY=1); retrying in {}",
        FormatDuration(decision.delay));
  } else {
    decision.reason =
        fmt::format("failed to start (it must stay up {}); retrying in {}",
                    FormatDuration(spec.start_period),
                    FormatDuration(decision.delay));
  }
  return decision;
}

void RecordRestart(const ProgramSpec& spec, RestartHistory& history,
                   const RestartDecision& decision, TimePoint now) {
  using Action = RestartDecision::Action;
  if (decision.action == Action::kRestartNow) {
    history.failed_starts_in_a_row = 0;
  } else if (decision.action == Action::kRestartLater) {
    ++history.failed_starts_in_a_row;
  } else {
    return;
  }
  history.restarts.push_back(now);
  while (!history.restarts.empty() &&
         now - history.restarts.front() >= spec.crash_limit.within) {
    history.restarts.pop_front();
  }
}

}  // namespace workerd
