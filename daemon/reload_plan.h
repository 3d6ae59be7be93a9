// What a reload of workers.toml does to each program, decided from the
// difference between the running and the new configuration (config_diff.h)
// before anything is touched: the same plan is a dry run's answer, the
// supervisor's instructions and, with the outcome filled in, the answer to
// `workerctl reload`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"
#include "daemon/config_diff.h"

namespace workerd {

enum class ReloadAction {
  kStarted,    // new, autostart: started in dependency order
  kAdded,      // new, autostart = false: known, not started
  kStopped,    // removed: stopped gracefully, then forgotten
  kRolled,     // definition changed: its workers replaced one at a time
  kRestarted,  // its `type` changed: restarted all at once
  kUpdated,    // only keys that need no new process changed
  kScaled,     // only `workers` changed
  kUnchanged,
};

// "started", "added", ..., as the protocol writes them.
std::string_view ReloadActionName(ReloadAction action);

struct ProgramReload {
  std::string name;
  ReloadAction action = ReloadAction::kUnchanged;
  // workers.toml keys that changed (ProgramDiff::changed_keys).
  std::vector<std::string> changes;
  int from = 0;  // workers before and after; 0 where the program is not
  int to = 0;
  // The outcome, once known: false when the program did not reach its
  // aim (a rollout stopped early, a started worker did not become ready).
  bool ok = true;
  // Why not ok; or, ok, a note ("not running; ...").
  std::string message;
};

struct ReloadPlan {
  ConfigDiff diff;
  // The new file's programs in its order, then the removed ones.
  std::vector<ProgramReload> programs;
  // Changes that this reload does not apply, as sentences.
  std::vector<std::string> warnings;
};

// Both configs are loaded ones with the same log default applied.
ReloadPlan PlanReload(const Config& running, const Config& next);

// "web: rolled (command, env); scaled 4 -> 8", "old: stopped",
// "jobs: scaled 2 -> 4", for the log.
std::string DescribeProgramReload(const ProgramReload& program);

}  // namespace workerd
