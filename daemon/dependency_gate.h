// Whether a program may start: the conditions of its depends_on judged
// against what its dependencies' workers are doing. Pure functions over
// plain views, so every state and condition is unit-tested.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config.h"
#include "daemon/worker_state.h"

namespace workerd {

// One slot of a dependency, as the gate sees it. Views are built for every
// judgement, so they borrow the message instead of copying it.
struct SlotView {
  int instance = 0;
  WorkerState state = WorkerState::kStopped;
  std::string_view message;  // why it is in that state
};

// A dependency: whether it is started (by request, autostart or a
// dependent) and its wanted slots.
struct ProgramView {
  std::string name;
  bool active = false;
  std::vector<SlotView> slots;
};

// One dependency's condition: met, on its way, or failed in a way that
// will not mend by itself (`reason` then says how).
struct ConditionCheck {
  enum class Kind { kMet, kPending, kFailed };
  Kind kind = Kind::kMet;
  std::string reason;  // kFailed: "migrate:0 is exited: pid 7 exited 1..."

  bool operator==(const ConditionCheck&) const = default;
};

ConditionCheck CheckCondition(DependencyCondition condition,
                              const ProgramView& program);

// What the condition asks, after "for redis to": "start", "be ready",
// "complete".
std::string_view ConditionGoal(DependencyCondition condition);

// The verdict on starting a program.
struct GateVerdict {
  enum class Kind { kOpen, kWaiting, kBlocked };
  Kind kind = Kind::kOpen;
  // kWaiting: "waiting for migrate to complete and redis to be ready".
  // kBlocked: "needs migrate to complete, but migrate:0 is exited: ...".
  std::string reason;

  bool operator==(const GateVerdict&) const = default;
};

// Every dependency of a program with the view of the program it names
// (null when there is no such program). Blocked when any dependency
// failed (the first one in depends_on order is named), waiting when any
// is on its way, open when all are met.
GateVerdict JudgeDependencies(
    const std::vector<std::pair<const Dependency*, const ProgramView*>>&
        dependencies);

}  // namespace workerd
