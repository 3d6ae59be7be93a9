#include "daemon/reload_plan.h"

#include <fmt/format.h>

namespace workerd {
namespace {

ReloadAction ActionFor(const ProgramDiff& diff, const Config& next) {
  switch (diff.kind) {
    case ProgramChangeKind::kAdded: {
      const ProgramSpec* spec = next.FindProgram(diff.name);
      return spec != nullptr && spec->autostart ? ReloadAction::kStarted
                                                : ReloadAction::kAdded;
    }
    case ProgramChangeKind::kRemoved:
      return ReloadAction::kStopped;
    case ProgramChangeKind::kRolled:
      // A service's rollout waits for readiness a oneshot never reports,
      // and the other way round: a new type starts over at once.
      for (const std::string& key : diff.changed_keys) {
        if (key == "type") return ReloadAction::kRestarted;
      }
      return ReloadAction::kRolled;
    case ProgramChangeKind::kUpdated:
      return ReloadAction::kUpdated;
    case ProgramChangeKind::kUnchanged:
      return diff.Scaled() ? ReloadAction::kScaled : ReloadAction::kUnchanged;
  }
  return ReloadAction::kUnchanged;
}

}  // namespace

std::string_view ReloadActionName(ReloadAction action) {
  switch (action) {
    case ReloadAction::kStarted:
      return "started";
    case ReloadAction::kAdded:
      return "added";
    case ReloadAction::kStopped:
      return "stopped";
    case ReloadAction::kRolled:
      return "rolled";
    case ReloadAction::kRestarted:
      return "restarted";
    case ReloadAction::kUpdated:
      return "updated";
    case ReloadAction::kScaled:
      return "scaled";
    case ReloadAction::kUnchanged:
      return "unchanged";
  }
  return "unchanged";
}

ReloadPlan PlanReload(const Config& running, const Config& next) {
  ReloadPlan plan;
  plan.diff = DiffConfigs(running, next);
  for (const ProgramDiff& diff : plan.diff.programs) {
    ProgramReload program;
    program.name = diff.name;
    program.action = ActionFor(diff, next);
    program.changes = diff.changed_keys;
    program.from = diff.workers_from;
    program.to = diff.workers_to;
    plan.programs.push_back(std::move(program));
  }
  for (const std::string& key : plan.diff.daemon.restart_keys) {
    plan.warnings.push_back(fmt::format(
        "[daemon] {} changed; it takes effect when workerd restarts", key));
  }
  return plan;
}

std::string DescribeProgramReload(const ProgramReload& program) {
  std::string line = fmt::format("{}: {}", program.name,
                                 ReloadActionName(program.action));
  if (!program.changes.empty()) {
    line += " (";
    for (std::size_t i = 0; i < program.changes.size(); ++i) {
      if (i > 0) line += ", ";
      line += program.changes[i];
    }
    line += ")";
  }
  const bool scaled_too = program.action != ReloadAction::kScaled &&
                          program.action != ReloadAction::kStarted &&
                          program.action != ReloadAction::kAdded &&
                          program.action != ReloadAction::kStopped &&
                          program.from != program.to;
  if (program.action == ReloadAction::kScaled || scaled_too) {
    line += fmt::format("{}{} -> {}", scaled_too ? "; scaled " : " ",
                        program.from, program.to);
  }
  if (!program.message.empty()) line += ": " + program.message;
  return line;
}

}  // namespace workerd
