#include "daemon/restart_policy.h"

#include <gtest/gtest.h>

namespace workerd {
namespace {

using Action = RestartDecision::Action;
using std::chrono::milliseconds;
using std::chrono::seconds;

ExitStatus Exited(int code) {
  ExitStatus status;
  status.kind = ExitStatus::Kind::kExited;
  status.code = code;
  return status;
}

ExitStatus Killed(int signal) {
  ExitStatus status;
  status.kind = ExitStatus::Kind::kKilled;
  status.signal = signal;
  return status;
}

ProgramSpec Spec() {
  ProgramSpec spec;
  spec.name = "web";
  spec.backoff = {milliseconds(100), seconds(2)};
  spec.crash_limit = {3, seconds(60)};
  spec.start_period = seconds(1);
  return spec;
}

const TimePoint kStart = TimePoint(seconds(1000));

TEST(BackoffDelayTest, DoublesFromInitialUpToMax) {
  Backoff backoff{milliseconds(100), seconds(1)};
  EXPECT_EQ(BackoffDelay(backoff, 1), milliseconds(100));
  EXPECT_EQ(BackoffDelay(backoff, 2), milliseconds(200));
  EXPECT_EQ(BackoffDelay(backoff, 3), milliseconds(400));
  EXPECT_EQ(BackoffDelay(backoff, 4), milliseconds(800));
  EXPECT_EQ(BackoffDelay(backoff, 5), seconds(1));
  EXPECT_EQ(BackoffDelay(backoff, 500), seconds(1));
}

TEST(RestartPolicyTest, LongRunningWorkerIsRestartedAtOnce) {
  RestartHistory history;
  history.failed_starts_in_a_row = 4;
  auto decision = DecideRestart(Spec(), history, Killed(9), true, kStart);
  EXPECT_EQ(decision.action, Action::kRestartNow);
  EXPECT_EQ(decision.delay, milliseconds(0));
  RecordRestart(Spec(), history, decision, kStart);
  EXPECT_EQ(history.failed_starts_in_a_row, 0);  // the backoff resets
  EXPECT_EQ(history.restarts.size(), 1u);
}

TEST(RestartPolicyTest, FailedStartsBackOffExponentially) {
  ProgramSpec spec = Spec();
  spec.crash_limit = {100, seconds(60)};
  RestartHistory history;
  TimePoint now = kStart;
  std::vector<Duration> delays;
  for (int i = 0; i < 6; ++i) {
    auto decision = DecideRestart(spec, history, Exited(1), false, now);
    ASSERT_EQ(decision.action, Action::kRestartLater);
    delays.push_back(decision.delay);
    RecordRestart(spec, history, decision, now);
    now += decision.delay;
  }
  EXPECT_EQ(delays, (std::vector<Duration>{milliseconds(100), milliseconds(200),
                                           milliseconds(400), milliseconds(800),
                                           milliseconds(1600), seconds(2)}));
}

TEST(RestartPolicyTest, FailedStartReasonSaysWhenItRetries) {
  auto decision = DecideRestart(Spec(), {}, Exited(1), false, kStart);
  EXPECT_EQ(decision.reason,
            "failed to start (it must stay up 1s); retrying in 100ms");
}

TEST(RestartPolicyTest, CrashLimitWithinWindowGivesUp) {
  ProgramSpec spec = Spec();
  RestartHistory history;
  TimePoint now = kStart;
  for (int i = 0; i < 3; ++i) {
    auto decision = DecideRestart(spec, history, Killed(9), true, now);
    ASSERT_EQ(decision.action, Action::kRestartNow) << i;
    RecordRestart(spec, history, decision, now);
    now += seconds(5);
  }
  auto decision = DecideRestart(spec, history, Killed(9), true, now);
  EXPECT_EQ(decision.action, Action::kGiveUp);
  EXPECT_EQ(decision.reason,
            "gave up after 3 restarts within 1m; `workerctl start` tries "
            "again");
}

TEST(RestartPolicyTest, RestartsOutsideTheWindowAreForgotten) {
  ProgramSpec spec = Spec();
  RestartHistory history;
  TimePoint now = kStart;
  // One crash every 25 s never has 3 restarts within 60 s.
  for (int i = 0; i < 10; ++i) {
    auto decision = DecideRestart(spec, history, Killed(9), true, now);
    ASSERT_EQ(decision.action, Action::kRestartNow) << i;
    RecordRestart(spec, history, decision, now);
    now += seconds(25);
  }
  EXPECT_LE(history.restarts.size(), 3u);
}

TEST(RestartPolicyTest, PolicyNeverLeavesItExited) {
  ProgramSpec spec = Spec();
  spec.restart = RestartPolicy::kNever;
  auto decision = DecideRestart(spec, {}, Killed(9), true, kStart);
  EXPECT_EQ(decision.action, Action::kLeaveExited);
  EXPECT_EQ(decision.reason, "not restarted (restart = \"never\")");
}

TEST(RestartPolicyTest, OnFailureRestartsOnlyFailures) {
  ProgramSpec spec = Spec();
  spec.restart = RestartPolicy::kOnFailure;
  EXPECT_EQ(DecideRestart(spec, {}, Exited(0), true, kStart).action,
            Action::kLeaveExited);
  EXPECT_EQ(DecideRestart(spec, {}, Exited(2), true, kStart).action,
            Action::kRestartNow);
  EXPECT_EQ(DecideRestart(spec, {}, Killed(15), true, kStart).action,
            Action::kRestartNow);
  EXPECT_EQ(DecideRestart(spec, {}, ExitStatus::SpawnFailed("exec"), false,
                          kStart)
                .action,
            Action::kRestartLater);
}

TEST(RestartPolicyTest, LeavingExitedRecordsNothing) {
  ProgramSpec spec = Spec();
  spec.restart = RestartPolicy::kNever;
  RestartHistory history;
  RecordRestart(spec, history,
                DecideRestart(spec, history, Exited(1), false, kStart), kStart);
  EXPECT_TRUE(history.restarts.empty());
  EXPECT_EQ(history.failed_starts_in_a_row, 0);
}

TEST(RestartPolicyTest, NotifyFailedStartReasonNamesReady) {
  ProgramSpec spec = Spec();
  spec.ready = Readiness::kNotify;
  auto decision = DecideRestart(spec, {}, Exited(1), false, kStart);
  EXPECT_EQ(decision.reason,
            "failed to start (it never sent READY=1); retrying in 100ms");
}

TEST(RestartPolicyTest, SpawnFailureJustSaysWhenItRetries) {
  auto decision =
      DecideRestart(Spec(), {}, ExitStatus::SpawnFailed("exec"), false, kStart);
  EXPECT_EQ(decision.action, Action::kRestartLater);
  EXPECT_EQ(decision.reason, "retrying in 100ms");
}

ProgramSpec Oneshot(RestartPolicy restart) {
  ProgramSpec spec = Spec();
  spec.name = "migrate";
  spec.type = ProgramType::kOneshot;
  spec.restart = restart;
  return spec;
}

TEST(RestartPolicyTest, FailedOneshotRetriesWithoutTheStartPeriodSentence) {
  ProgramSpec spec = Oneshot(RestartPolicy::kOnFailure);
  RestartHistory history;
  auto first = DecideRestart(spec, history, Exited(3), false, kStart);
  EXPECT_EQ(first.action, Action::kRestartLater);
  EXPECT_EQ(first.delay, milliseconds(100));
  EXPECT_EQ(first.reason, "retrying in 100ms");
  RecordRestart(spec, history, first, kStart);
  auto second = DecideRestart(spec, history, Killed(9), false,
                              kStart + milliseconds(100));
  EXPECT_EQ(second.reason, "retrying in 200ms");
  // Nor the READY=1 one.
  spec.ready = Readiness::kNotify;
  EXPECT_EQ(DecideRestart(spec, {}, Exited(3), false, kStart).reason,
            "retrying in 100ms");
}

TEST(RestartPolicyTest, OneshotFailuresCountTowardsTheCrashLimit) {
  ProgramSpec spec = Oneshot(RestartPolicy::kAlways);
  RestartHistory history;
  TimePoint now = kStart;
  for (int i = 0; i < 3; ++i) {
    auto decision = DecideRestart(spec, history, Exited(1), false, now);
    ASSERT_EQ(decision.action, Action::kRestartLater) << i;
    RecordRestart(spec, history, decision, now);
    now += decision.delay;
  }
  EXPECT_EQ(DecideRestart(spec, history, Exited(1), false, now).action,
            Action::kGiveUp);
}

TEST(RestartPolicyTest, FailedOneshotWithRestartNeverIsLeftExited) {
  auto decision = DecideRestart(Oneshot(RestartPolicy::kNever), {}, Exited(3),
                                false, kStart);
  EXPECT_EQ(decision.action, Action::kLeaveExited);
  EXPECT_EQ(decision.reason, "not restarted (restart = \"never\")");
}

}  // namespace
}  // namespace workerd
