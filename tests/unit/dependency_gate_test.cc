// The dependency gate: every worker state against every condition, and
// the verdicts with their exact sentences.
#include "daemon/dependency_gate.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "daemon/config.h"
#include "daemon/worker_state.h"

namespace workerd {
namespace {

using Kind = ConditionCheck::Kind;
using enum WorkerState;
constexpr DependencyCondition kToStart = DependencyCondition::kStarted;
constexpr DependencyCondition kToBeReady = DependencyCondition::kReady;
constexpr DependencyCondition kToComplete = DependencyCondition::kCompleted;

ConditionCheck MetCheck() { return {Kind::kMet, ""}; }
ConditionCheck PendingCheck() { return {Kind::kPending, ""}; }
ConditionCheck FailedCheck(std::string reason) {
  return {Kind::kFailed, std::move(reason)};
}

// An active program `name` whose slots are in `states`, in order.
ProgramView Active(std::string name, std::vector<WorkerState> states,
                   std::string_view message = "") {
  ProgramView view;
  view.name = std::move(name);
  view.active = true;
  for (std::size_t i = 0; i < states.size(); ++i) {
    view.slots.push_back({static_cast<int>(i), states[i], message});
  }
  return view;
}

Dependency Needs(std::string program, DependencyCondition condition) {
  Dependency dependency;
  dependency.program = std::move(program);
  dependency.condition = condition;
  return dependency;
}

TEST(ConditionGoalTest, ReadsAfterTo) {
  EXPECT_EQ(ConditionGoal(kToStart), "start");
  EXPECT_EQ(ConditionGoal(kToBeReady), "be ready");
  EXPECT_EQ(ConditionGoal(kToComplete), "complete");
}

// One slot in `state`, with the message a failed state is reported with.
ConditionCheck OneSlot(DependencyCondition condition, WorkerState state) {
  return CheckCondition(
      condition, Active("migrate", {state}, "pid 7 exited with status 1"));
}

TEST(CheckConditionTest, ReadyServiceMeetsStartedAndReadyNotCompleted) {
  EXPECT_EQ(OneSlot(kToStart, kReady), MetCheck());
  EXPECT_EQ(OneSlot(kToBeReady, kReady), MetCheck());
  EXPECT_EQ(OneSlot(kToComplete, kReady), PendingCheck());
}

TEST(CheckConditionTest, StartingOrRunningMeetsStartedOnly) {
  for (WorkerState state : {kStarting, kRunning}) {
    SCOPED_TRACE(WorkerStateName(state));
    EXPECT_EQ(OneSlot(kToStart, state), MetCheck());
    EXPECT_EQ(OneSlot(kToBeReady, state), PendingCheck());
    EXPECT_EQ(OneSlot(kToComplete, state), PendingCheck());
  }
}

TEST(CheckConditionTest, CompletedMeetsEveryCondition) {
  EXPECT_EQ(OneSlot(kToStart, kCompleted), MetCheck());
  EXPECT_EQ(OneSlot(kToBeReady, kCompleted), MetCheck());
  EXPECT_EQ(OneSlot(kToComplete, kCompleted), MetCheck());
}

TEST(CheckConditionTest, WaitingStoppingAndBackoffArePending) {
  for (WorkerState state : {kWaiting, kStopping, kBackoff}) {
    for (DependencyCondition condition : {kToStart, kToBeReady, kToComplete}) {
      SCOPED_TRACE(std::string(WorkerStateName(state)) + " for " +
                   std::string(ConditionGoal(condition)));
      EXPECT_EQ(OneSlot(condition, state), PendingCheck());
    }
  }
}

TEST(CheckConditionTest, SettledWithoutSuccessFailsWithTheSlotsMessage) {
  for (DependencyCondition condition : {kToStart, kToBeReady, kToComplete}) {
    SCOPED_TRACE(ConditionGoal(condition));
    EXPECT_EQ(OneSlot(condition, kBlocked),
              FailedCheck("migrate:0 is blocked: pid 7 exited with status 1"));
    EXPECT_EQ(OneSlot(condition, kStopped),
              FailedCheck("migrate:0 is stopped: pid 7 exited with status 1"));
    EXPECT_EQ(OneSlot(condition, kExited),
              FailedCheck("migrate:0 is exited: pid 7 exited with status 1"));
    EXPECT_EQ(OneSlot(condition, kFatal),
              FailedCheck("migrate:0 is fatal: pid 7 exited with status 1"));
  }
}

// Every state against every condition, so a state added to the enum
// without a decision here shows up.
TEST(CheckConditionTest, EveryStateAgainstEveryCondition) {
  struct Row {
    WorkerState state;
    Kind started, ready, completed;
  };
  // Met, pending, failed.
  const Kind M = Kind::kMet, P = Kind::kPending, F = Kind::kFailed;
  const std::vector<Row> table = {
      {kStopped, F, F, F},   {kWaiting, P, P, P},  {kBlocked, F, F, F},
      {kStarting, M, P, P},  {kReady, M, M, P},    {kRunning, M, P, P},
      {kCompleted, M, M, M}, {kStopping, P, P, P}, {kBackoff, P, P, P},
      {kExited, F, F, F},    {kFatal, F, F, F},
  };
  ASSERT_EQ(table.size(), static_cast<std::size_t>(kFatal) + 1);
  for (const Row& row : table) {
    SCOPED_TRACE(WorkerStateName(row.state));
    EXPECT_EQ(OneSlot(kToStart, row.state).kind, row.started);
    EXPECT_EQ(OneSlot(kToBeReady, row.state).kind, row.ready);
    EXPECT_EQ(OneSlot(kToComplete, row.state).kind, row.completed);
  }
}

TEST(CheckConditionTest, FailedSlotWithoutMessageHasNoColon) {
  EXPECT_EQ(CheckCondition(kToBeReady, Active("redis", {kReady, kStopped})),
            FailedCheck("redis:1 is stopped"));
}

TEST(CheckConditionTest, InactiveProgramIsStoppedWhateverItsSlots) {
  ProgramView redis = Active("redis", {kReady});
  redis.active = false;
  for (DependencyCondition condition : {kToStart, kToBeReady, kToComplete}) {
    SCOPED_TRACE(ConditionGoal(condition));
    EXPECT_EQ(CheckCondition(condition, redis),
              FailedCheck("redis is stopped"));
  }
}

TEST(CheckConditionTest, ActiveProgramWithoutSlotsIsMet) {
  for (DependencyCondition condition : {kToStart, kToBeReady, kToComplete}) {
    EXPECT_EQ(CheckCondition(condition, Active("redis", {})), MetCheck());
  }
}

TEST(CheckConditionTest, EverySlotMustMeetIt) {
  EXPECT_EQ(CheckCondition(kToBeReady, Active("web", {kReady, kReady, kReady})),
            MetCheck());
  EXPECT_EQ(
      CheckCondition(kToBeReady, Active("web", {kReady, kStarting, kReady})),
      PendingCheck());
}

TEST(CheckConditionTest, AFailedSlotWinsOverReadyAndPendingOnes) {
  ProgramView web = Active("web", {kReady, kStarting, kReady, kFatal});
  web.slots[3].message = "gave up";
  EXPECT_EQ(CheckCondition(kToBeReady, web),
            FailedCheck("web:3 is fatal: gave up"));
  // Failed before pending in slot order too.
  ProgramView first = Active("web", {kExited, kStarting});
  EXPECT_EQ(CheckCondition(kToBeReady, first), FailedCheck("web:0 is exited"));
}

TEST(CheckConditionTest, TheFirstFailedSlotIsNamed) {
  ProgramView web = Active("web", {kReady, kExited, kFatal});
  EXPECT_EQ(CheckCondition(kToStart, web), FailedCheck("web:1 is exited"));
}

// JudgeDependencies over `needs`, each paired with a view (null: no such
// program).
GateVerdict Judge(
    const std::vector<std::pair<Dependency, const ProgramView*>>& needs) {
  std::vector<std::pair<const Dependency*, const ProgramView*>> judged;
  for (const auto& [dependency, view] : needs) {
    judged.emplace_back(&dependency, view);
  }
  return JudgeDependencies(judged);
}

GateVerdict Open() { return {GateVerdict::Kind::kOpen, ""}; }
GateVerdict Waiting(std::string reason) {
  return {GateVerdict::Kind::kWaiting, std::move(reason)};
}
GateVerdict Blocked(std::string reason) {
  return {GateVerdict::Kind::kBlocked, std::move(reason)};
}

TEST(JudgeDependenciesTest, NoDependenciesIsOpen) {
  EXPECT_EQ(JudgeDependencies({}), Open());
}

TEST(JudgeDependenciesTest, OpenWhenEveryConditionIsMet) {
  const ProgramView migrate = Active("migrate", {kCompleted});
  const ProgramView redis = Active("redis", {kReady, kReady});
  EXPECT_EQ(Judge({{Needs("migrate", kToComplete), &migrate},
                   {Needs("redis", kToBeReady), &redis}}),
            Open());
}

TEST(JudgeDependenciesTest, WaitingNamesTheOneOnItsWay) {
  const ProgramView migrate = Active("migrate", {kRunning});
  const ProgramView redis = Active("redis", {kReady});
  EXPECT_EQ(Judge({{Needs("migrate", kToComplete), &migrate},
                   {Needs("redis", kToBeReady), &redis}}),
            Waiting("waiting for migrate to complete"));
}

TEST(JudgeDependenciesTest, WaitingForTwoJoinsThemWithAnd) {
  const ProgramView migrate = Active("migrate", {kRunning});
  const ProgramView redis = Active("redis", {kStarting});
  EXPECT_EQ(Judge({{Needs("migrate", kToComplete), &migrate},
                   {Needs("redis", kToBeReady), &redis}}),
            Waiting("waiting for migrate to complete and redis to be ready"));
}

TEST(JudgeDependenciesTest, WaitingForThreeIsAList) {
  const ProgramView a = Active("a", {kWaiting});
  const ProgramView b = Active("b", {kStarting});
  const ProgramView c = Active("c", {kRunning});
  EXPECT_EQ(Judge({{Needs("a", kToStart), &a},
                   {Needs("b", kToBeReady), &b},
                   {Needs("c", kToComplete), &c}}),
            Waiting("waiting for a to start, b to be ready and c to complete"));
}

TEST(JudgeDependenciesTest, MetDependenciesAreLeftOutOfTheList) {
  const ProgramView a = Active("a", {kWaiting});
  const ProgramView b = Active("b", {kReady});
  const ProgramView c = Active("c", {kBackoff});
  EXPECT_EQ(Judge({{Needs("a", kToStart), &a},
                   {Needs("b", kToBeReady), &b},
                   {Needs("c", kToBeReady), &c}}),
            Waiting("waiting for a to start and c to be ready"));
}

TEST(JudgeDependenciesTest, BlockedNamesTheFailedDependencyAndWhy) {
  const ProgramView migrate =
      Active("migrate", {kExited},
             "pid 7 exited with status 1; not restarted (restart = \"never\")");
  EXPECT_EQ(Judge({{Needs("migrate", kToComplete), &migrate}}),
            Blocked("needs migrate to complete, but migrate:0 is exited: pid "
                    "7 exited with status 1; not restarted (restart = "
                    "\"never\")"));
}

TEST(JudgeDependenciesTest, AFailureWinsOverWaitingAndTheFirstIsNamed) {
  const ProgramView a = Active("a", {kStarting});
  ProgramView b = Active("b", {kReady});
  b.active = false;
  const ProgramView c = Active("c", {kFatal}, "gave up");
  EXPECT_EQ(Judge({{Needs("a", kToBeReady), &a},
                   {Needs("b", kToBeReady), &b},
                   {Needs("c", kToStart), &c}}),
            Blocked("needs b to be ready, but b is stopped"));
  EXPECT_EQ(Judge({{Needs("a", kToBeReady), &a},
                   {Needs("c", kToStart), &c},
                   {Needs("b", kToBeReady), &b}}),
            Blocked("needs c to start, but c:0 is fatal: gave up"));
}

TEST(JudgeDependenciesTest, UnknownProgramBlocks) {
  const ProgramView a = Active("a", {kReady});
  EXPECT_EQ(
      Judge({{Needs("a", kToBeReady), &a}, {Needs("x", kToBeReady), nullptr}}),
      Blocked("needs x to be ready, but there is no program x"));
  EXPECT_EQ(Judge({{Needs("x", kToComplete), nullptr}}),
            Blocked("needs x to complete, but there is no program x"));
}

}  // namespace
}  // namespace workerd
