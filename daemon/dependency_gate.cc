#include "daemon/dependency_gate.h"

#include <fmt/format.h>

namespace workerd {
namespace {

ConditionCheck Met() { return {ConditionCheck::Kind::kMet, ""}; }
ConditionCheck Pending() { return {ConditionCheck::Kind::kPending, ""}; }

ConditionCheck Failed(const ProgramView& program, const SlotView& slot) {
  std::string reason = fmt::format("{}:{} is {}", program.name, slot.instance,
                                   WorkerStateName(slot.state));
  if (!slot.message.empty()) {
    reason += ": ";
    reason += slot.message;
  }
  return {ConditionCheck::Kind::kFailed, std::move(reason)};
}

// One slot of `program` against the condition.
ConditionCheck CheckSlot(DependencyCondition condition,
                         const ProgramView& program, const SlotView& slot) {
  using enum WorkerState;
  switch (slot.state) {
    case kCompleted:
      return Met();
    case kReady:
      return condition == DependencyCondition::kCompleted ? Pending() : Met();
    case kStarting:
    case kRunning:
      return condition == DependencyCondition::kStarted ? Met() : Pending();
    case kWaiting:
    case kStopping:  // a restart in progress, or a stop that ends stopped
    case kBackoff:
      return Pending();
    case kBlocked:
    case kStopped:
    case kExited:
    case kFatal:
    case kWaitingForChange:
      return Failed(program, slot);
  }
  return Pending();
}

}  // namespace

std::string_view ConditionGoal(DependencyCondition condition) {
  switch (condition) {
    case DependencyCondition::kStarted:
      return "start";
    case DependencyCondition::kReady:
      return "be ready";
    case DependencyCondition::kCompleted:
      return "complete";
  }
  return "start";
}

ConditionCheck CheckCondition(DependencyCondition condition,
                              const ProgramView& program) {
  if (!program.active) {
    return {ConditionCheck::Kind::kFailed, program.name + " is stopped"};
  }
  ConditionCheck combined = Met();
  for (const SlotView& slot : program.slots) {
    ConditionCheck check = CheckSlot(condition, program, slot);
    if (check.kind == ConditionCheck::Kind::kFailed) return check;
    if (check.kind == ConditionCheck::Kind::kPending) combined = check;
  }
  return combined;
}

GateVerdict JudgeDependencies(
    const std::vector<std::pair<const Dependency*, const ProgramView*>>&
        dependencies) {
  std::vector<std::string> pending;
  for (const auto& [dependency, program] : dependencies) {
    const std::string need =
        fmt::format("{} to {}", dependency->program,
                    ConditionGoal(dependency->condition));
    if (program == nullptr) {
      return {GateVerdict::Kind::kBlocked,
              fmt::format("needs {}, but there is no program {}", need,
                          dependency->program)};
    }
    const ConditionCheck check =
        CheckCondition(dependency->condition, *program);
    if (check.kind == ConditionCheck::Kind::kFailed) {
      return {GateVerdict::Kind::kBlocked,
              fmt::format("needs {}, but {}", need, check.reason)};
    }
    if (check.kind == ConditionCheck::Kind::kPending) pending.push_back(need);
  }
  if (pending.empty()) return {};
  std::string reason = "waiting for " + pending.front();
  for (std::size_t i = 1; i < pending.size(); ++i) {
    reason += (i + 1 == pending.size() ? " and " : ", ") + pending[i];
  }
  return {GateVerdict::Kind::kWaiting, std::move(reason)};
}

}  // namespace workerd
