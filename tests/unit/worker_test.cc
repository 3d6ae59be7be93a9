// The worker state machine, driven by a real event loop and real processes
// (the test worker) behind a spawner that can also be told to fail.
#include "daemon/worker.h"

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include "tests/unit/run_loop_until.h"
#include "tests/unit/test_worker_spawner.h"

namespace workerd {
namespace {

using std::chrono::milliseconds;

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BlockSignals({SIGCHLD});
    char dir[] = "/tmp/worker_test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    spawner_.dir = dir;
    spec_.name = "web";
    spec_.command = {"app", "{instance}"};
    spec_.start_period = milliseconds(50);
    spec_.stop_timeout = milliseconds(2000);
    spec_.backoff = {milliseconds(10), milliseconds(40)};
    spec_.crash_limit = {3, std::chrono::seconds(60)};
  }

  void TearDown() override {
    worker_.reset();
    // The worker killed what it left; collect the zombies it could not.
    for (pid_t pid : spawner_.pids) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(spawner_.dir);
  }

  // The latest spawned test worker has set up its signal handlers.
  bool RunUntilWorkerUp() {
    std::string up = spawner_.UpFile(spawner_.requests.size() - 1);
    return RunUntil([&] { return std::filesystem::exists(up); });
  }

  Worker& MakeWorker(WorkerRole role = WorkerRole::kServing) {
    WorkerContext context;
    context.loop = &loop_;
    context.spawner = &spawner_;
    context.inherited_env = &env_;
    context.on_change = [this](const Worker& worker) {
      states_.push_back(worker.state());
    };
    context.gate = gate_;
    worker_ = std::make_unique<Worker>(context, &spec_, 1, role);
    return *worker_;
  }

  bool RunUntil(const std::function<bool()>& done) {
    return RunLoopUntil(loop_, done);
  }

  bool RunUntilState(WorkerState state) {
    return RunUntil([&] { return worker_->state() == state; });
  }

  EventLoop loop_;
  TestWorkerSpawner spawner_;
  std::vector<std::string> env_ = {"PATH=/usr/bin:/bin"};
  ProgramSpec spec_;
  std::unique_ptr<Worker> worker_;
  std::vector<WorkerState> states_;
  // The workers' WorkerContext::gate; unset: always open.
  std::function<GateVerdict()> gate_;
};

TEST_F(WorkerTest, StartsThenCountsAsReadyAfterStartPeriod) {
  Worker& worker = MakeWorker();
  EXPECT_EQ(worker.state(), WorkerState::kStopped);
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_GT(worker.pid(), 0);
  ASSERT_EQ(spawner_.requests.size(), 1u);
  EXPECT_EQ(spawner_.requests[0].argv,
            (std::vector<std::string>{"app", "1"}));
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
  EXPECT_EQ(worker.message(),
            "pid " + std::to_string(worker.pid()) + " stayed up 50ms");
  EXPECT_EQ(states_, (std::vector<WorkerState>{WorkerState::kStarting,
                                               WorkerState::kReady}));
}

TEST_F(WorkerTest, ZeroStartPeriodIsReadyAtOnce) {
  spec_.start_period = milliseconds(0);
  Worker& worker = MakeWorker();
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kReady);
}

TEST_F(WorkerTest, ReadyWorkerKilledIsReplacedAtOnce) {
  spec_.backoff = {std::chrono::seconds(30), std::chrono::seconds(30)};
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
  pid_t first = worker.pid();
  ::kill(first, SIGKILL);
  ASSERT_TRUE(RunUntil([&] { return worker.pid() != first; }));
  // No 30 s backoff for a worker that had been up.
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_EQ(worker.restarts(), 1);
  ASSERT_TRUE(worker.last_exit().has_value());
  EXPECT_EQ(worker.last_exit()->Describe(), "killed by SIGKILL");
}

TEST_F(WorkerTest, SpawnFailuresBackOffThenTurnFatal) {
  spawner_.fail_with = SpawnError{"exec", "gunicornn", ENOENT};
  Worker& worker = MakeWorker();
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kBackoff);
  EXPECT_EQ(worker.message(),
            "exec \"gunicornn\": No such file or directory; retrying in "
            "10ms");
  ASSERT_TRUE(RunUntilState(WorkerState::kFatal));
  // The first spawn and three restarts; the fourth is refused.
  EXPECT_EQ(spawner_.requests.size(), 4u);
  EXPECT_EQ(worker.restarts(), 3);
  EXPECT_EQ(worker.last_exit()->Describe(),
            "exec \"gunicornn\": No such file or directory");

  // Fixed, and started by hand: the crash history is forgotten.
  spawner_.fail_with.reset();
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_EQ(worker.restarts(), 0);
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
}

TEST_F(WorkerTest, CrashBeforeStartPeriodIsAFailedStart) {
  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1",
                          "--exit-code", "3"};
  spec_.start_period = std::chrono::seconds(10);
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kBackoff));
  EXPECT_NE(worker.message().find("exited with status 3; failed to start"),
            std::string::npos)
      << worker.message();
  ASSERT_TRUE(RunUntilState(WorkerState::kFatal));
}

TEST_F(WorkerTest, StopEscalatesToSigkillAfterStopTimeout) {
  spawner_.worker_argv = {TEST_WORKER_PATH, "--ignore-term"};
  spec_.stop_timeout = milliseconds(100);
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
  ASSERT_TRUE(RunUntilWorkerUp());
  pid_t pid = worker.pid();
  worker.Stop();
  EXPECT_EQ(worker.state(), WorkerState::kStopping);
  EXPECT_EQ(worker.message(), "sent SIGTERM to pid " + std::to_string(pid));
  ASSERT_TRUE(RunUntilState(WorkerState::kStopped));
  EXPECT_EQ(worker.last_exit()->Describe(), "killed by SIGKILL");
  EXPECT_FALSE(worker.HasProcess());
  EXPECT_EQ(worker.restarts(), 0);
}

TEST_F(WorkerTest, GracefulStopEndsStopped) {
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
  ASSERT_TRUE(RunUntilWorkerUp());
  worker.Stop();
  ASSERT_TRUE(RunUntilState(WorkerState::kStopped));
  EXPECT_EQ(worker.last_exit()->Describe(), "exited successfully");
  EXPECT_EQ(spawner_.requests.size(), 1u);
}

TEST_F(WorkerTest, RestartStopsThenStartsAgain) {
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
  pid_t first = worker.pid();
  worker.Restart();
  EXPECT_EQ(worker.state(), WorkerState::kStopping);
  ASSERT_TRUE(RunUntil(
      [&] { return worker.state() == WorkerState::kReady && worker.pid() != first; }));
  EXPECT_EQ(worker.restarts(), 0);  // asked for, not a crash
}

TEST_F(WorkerTest, StopDuringBackoffCancelsTheRetry) {
  spawner_.fail_with = SpawnError{"exec", "x", ENOENT};
  spec_.backoff = {milliseconds(50), milliseconds(50)};
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_EQ(worker.state(), WorkerState::kBackoff);
  worker.Stop();
  EXPECT_EQ(worker.state(), WorkerState::kStopped);
  // Well past the backoff, nothing was retried.
  auto until = Clock::now() + milliseconds(200);
  RunUntil([&] { return Clock::now() > until; });
  EXPECT_EQ(spawner_.requests.size(), 1u);
  EXPECT_EQ(worker.state(), WorkerState::kStopped);
}

TEST_F(WorkerTest, RestartNeverLeavesItExited) {
  spec_.restart = RestartPolicy::kNever;
  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1"};
  spec_.start_period = milliseconds(0);
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kExited));
  EXPECT_EQ(worker.message(),
            "pid " + std::to_string(*spawner_.pids.begin()) +
                " exited successfully; not restarted (restart = \"never\")");
}

NotifyMessage Ready() {
  NotifyMessage message;
  message.ready = true;
  return message;
}

NotifyMessage WatchdogPing() {
  NotifyMessage message;
  message.watchdog = true;
  return message;
}

TEST_F(WorkerTest, NotifyReadinessWaitsForReadyEvenPastStartPeriod) {
  spec_.ready = Readiness::kNotify;
  spec_.start_period = milliseconds(10);
  Worker& worker = MakeWorker();
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_EQ(worker.message(), "started pid " + std::to_string(worker.pid()) +
                                  "; waiting for READY=1");
  // Well past start_period, still starting: only READY=1 counts.
  auto until = Clock::now() + milliseconds(100);
  RunUntil([&] { return Clock::now() > until; });
  EXPECT_EQ(worker.state(), WorkerState::kStarting);

  NotifyMessage status;
  status.status = "loading model";
  worker.OnNotify(status, worker.pid());
  EXPECT_EQ(worker.notify_status(), "loading model");
  EXPECT_EQ(worker.state(), WorkerState::kStarting);

  worker.OnNotify(Ready(), worker.pid());
  EXPECT_EQ(worker.state(), WorkerState::kReady);
  EXPECT_EQ(worker.message(),
            "pid " + std::to_string(worker.pid()) + " sent READY=1");
}

TEST_F(WorkerTest, ExecReadinessIgnoresReady) {
  spec_.start_period = std::chrono::seconds(10);
  Worker& worker = MakeWorker();
  worker.Start();
  worker.OnNotify(Ready(), worker.pid());
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
}

TEST_F(WorkerTest, NoReadyWithinReadyTimeoutIsAFailedStart) {
  spec_.ready = Readiness::kNotify;
  spec_.ready_timeout = milliseconds(100);
  spec_.backoff = {std::chrono::seconds(30), std::chrono::seconds(30)};
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilWorkerUp());
  pid_t pid = worker.pid();
  ASSERT_TRUE(RunUntilState(WorkerState::kBackoff));
  EXPECT_EQ(worker.message(),
            "pid " + std::to_string(pid) +
                " killed by SIGKILL because it sent no READY=1 within 100ms; "
                "failed to start (it never sent READY=1); retrying in 30s");
  EXPECT_EQ(worker.restarts(), 1);
}

TEST_F(WorkerTest, SilentWorkerIsKilledByItsWatchdog) {
  spec_.start_period = milliseconds(0);
  spec_.watchdog = milliseconds(300);
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_EQ(worker.state(), WorkerState::kReady);
  ASSERT_EQ(spawner_.requests.size(), 1u);
  const auto& env = spawner_.requests[0].env;
  EXPECT_NE(std::find(env.begin(), env.end(), "WATCHDOG_USEC=300000"),
            env.end());
  pid_t first = worker.pid();
  // Pinged for three times the watchdog period, it stays.
  auto until = Clock::now() + milliseconds(900);
  RunUntil([&] {
    worker.OnNotify(WatchdogPing(), worker.pid());
    return Clock::now() > until;
  });
  EXPECT_EQ(worker.pid(), first);
  // Then silent: killed and replaced.
  ASSERT_TRUE(RunUntil([&] { return worker.pid() != first; }));
  EXPECT_EQ(worker.restarts(), 1);
  EXPECT_EQ(worker.last_exit()->Describe(),
            "killed by SIGKILL because it sent no WATCHDOG=1 for 300ms");
}

TEST_F(WorkerTest, WatchdogTriggerKillsAtOnce) {
  spec_.start_period = milliseconds(0);
  spec_.watchdog = std::chrono::seconds(60);
  Worker& worker = MakeWorker();
  worker.Start();
  pid_t first = worker.pid();
  NotifyMessage trigger;
  trigger.watchdog_trigger = true;
  worker.OnNotify(trigger, worker.pid());
  ASSERT_TRUE(RunUntil([&] { return worker.pid() != first; }));
  EXPECT_EQ(worker.last_exit()->Describe(),
            "killed by SIGKILL because it sent WATCHDOG=trigger");
}

TEST_F(WorkerTest, CandidateThatFailsIsNotRestarted) {
  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1",
                          "--exit-code", "4"};
  spec_.start_period = std::chrono::seconds(10);
  Worker& worker = MakeWorker(WorkerRole::kCandidate);
  EXPECT_EQ(worker.label(), "web[1] new");
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kExited));
  EXPECT_EQ(worker.message(),
            "pid " + std::to_string(*spawner_.pids.begin()) +
                " exited with status 4 before it was ready");
  EXPECT_EQ(spawner_.requests.size(), 1u);
  EXPECT_EQ(worker.restarts(), 0);
}

// A oneshot runs to completion: exit 0 is its success, and the restart
// policy only ever retries a failure.
class OneshotWorkerTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    spec_.name = "migrate";
    spec_.type = ProgramType::kOneshot;
    spec_.restart = RestartPolicy::kNever;
    spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "20"};
  }

  // "pid 42"
  static std::string Pid(pid_t pid) { return "pid " + std::to_string(pid); }
};

TEST_F(OneshotWorkerTest, RunsThenCompletesOnExitZero) {
  Worker& worker = MakeWorker();
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kRunning);
  const pid_t pid = worker.pid();
  EXPECT_EQ(worker.message(), "started " + Pid(pid));
  EXPECT_FALSE(worker.Succeeded());
  EXPECT_FALSE(worker.Settled());
  ASSERT_TRUE(RunUntilState(WorkerState::kCompleted));
  EXPECT_EQ(worker.message(), Pid(pid) + " exited successfully");
  EXPECT_TRUE(worker.Succeeded());
  EXPECT_TRUE(worker.Settled());
  EXPECT_FALSE(worker.Held());
  EXPECT_FALSE(worker.HasProcess());
  EXPECT_EQ(worker.restarts(), 0);
  EXPECT_EQ(states_, (std::vector<WorkerState>{WorkerState::kRunning,
                                               WorkerState::kCompleted}));
}

TEST_F(OneshotWorkerTest, ZeroStartPeriodLeavesItRunningNotReady) {
  spec_.start_period = milliseconds(0);
  spawner_.worker_argv = {TEST_WORKER_PATH};
  Worker& worker = MakeWorker();
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kRunning);
  ASSERT_TRUE(RunUntilWorkerUp());
  EXPECT_EQ(worker.state(), WorkerState::kRunning);
  worker.Stop();
  ASSERT_TRUE(RunUntilState(WorkerState::kStopped));
  // Never ready on the way.
  EXPECT_EQ(std::count(states_.begin(), states_.end(), WorkerState::kReady), 0);
}

TEST_F(OneshotWorkerTest, ExitZeroCompletesWhateverTheRestartPolicy) {
  for (RestartPolicy policy :
       {RestartPolicy::kAlways, RestartPolicy::kOnFailure,
        RestartPolicy::kNever}) {
    SCOPED_TRACE(RestartPolicyName(policy));
    spec_.restart = policy;
    states_.clear();
    const std::size_t spawned = spawner_.requests.size();
    Worker& worker = MakeWorker();
    worker.Start();
    ASSERT_TRUE(RunUntilState(WorkerState::kCompleted));
    EXPECT_EQ(spawner_.requests.size(), spawned + 1);
    EXPECT_EQ(states_, (std::vector<WorkerState>{WorkerState::kRunning,
                                                 WorkerState::kCompleted}));
  }
}

TEST_F(OneshotWorkerTest, FailureWithRestartNeverIsExited) {
  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1", "--exit-code",
                          "3"};
  Worker& worker = MakeWorker();
  worker.Start();
  const pid_t pid = worker.pid();
  ASSERT_TRUE(RunUntilState(WorkerState::kExited));
  EXPECT_EQ(worker.message(), Pid(pid) +
                                  " exited with status 3; not restarted "
                                  "(restart = \"never\")");
  EXPECT_FALSE(worker.Succeeded());
  EXPECT_TRUE(worker.Settled());
  EXPECT_EQ(spawner_.requests.size(), 1u);
  EXPECT_EQ(worker.restarts(), 0);
}

TEST_F(OneshotWorkerTest, FailureWithOnFailureBacksOffAndRetries) {
  spec_.restart = RestartPolicy::kOnFailure;
  // Long enough that the test changes the command before the retry.
  spec_.backoff = {milliseconds(50), milliseconds(50)};
  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1", "--exit-code",
                          "3"};
  Worker& worker = MakeWorker();
  worker.Start();
  const pid_t first = worker.pid();
  ASSERT_TRUE(RunUntilState(WorkerState::kBackoff));
  // A oneshot has no start_period to lecture about.
  EXPECT_EQ(worker.message(),
            Pid(first) + " exited with status 3; retrying in 50ms");
  EXPECT_FALSE(worker.Settled());
  EXPECT_EQ(worker.restarts(), 1);

  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1"};
  ASSERT_TRUE(RunUntilState(WorkerState::kCompleted));
  EXPECT_EQ(spawner_.requests.size(), 2u);
  EXPECT_EQ(worker.restarts(), 1);
  EXPECT_TRUE(worker.Succeeded());
  EXPECT_EQ(states_, (std::vector<WorkerState>{
                         WorkerState::kRunning, WorkerState::kBackoff,
                         WorkerState::kRunning, WorkerState::kCompleted}));
}

TEST_F(OneshotWorkerTest, FailuresWithRestartAlwaysTurnFatalNeverExited) {
  spec_.restart = RestartPolicy::kAlways;
  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1", "--exit-code",
                          "3"};
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kFatal));
  EXPECT_EQ(std::count(states_.begin(), states_.end(), WorkerState::kExited),
            0);
  // The first run and three retries.
  EXPECT_EQ(spawner_.requests.size(), 4u);
  EXPECT_TRUE(worker.message().ends_with(
      " exited with status 3; gave up after 3 restarts within 1m; "
      "`workerctl start` tries again"))
      << worker.message();
  EXPECT_TRUE(worker.Settled());
}

TEST_F(OneshotWorkerTest, StartOnACompletedOneshotRunsItAgain) {
  Worker& worker = MakeWorker();
  worker.Start();
  const pid_t first = worker.pid();
  ASSERT_TRUE(RunUntilState(WorkerState::kCompleted));
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kRunning);
  EXPECT_NE(worker.pid(), first);
  EXPECT_EQ(spawner_.requests.size(), 2u);
  ASSERT_TRUE(RunUntilState(WorkerState::kCompleted));
  EXPECT_EQ(worker.restarts(), 0);  // asked for, not a retry
}

TEST_F(OneshotWorkerTest, StopWhileRunningEndsStopped) {
  spawner_.worker_argv = {TEST_WORKER_PATH};
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilWorkerUp());
  const pid_t pid = worker.pid();
  worker.Stop();
  EXPECT_EQ(worker.state(), WorkerState::kStopping);
  EXPECT_EQ(worker.message(), "sent SIGTERM to " + Pid(pid));
  ASSERT_TRUE(RunUntilState(WorkerState::kStopped));
  EXPECT_EQ(worker.message(), Pid(pid) + " exited successfully");
  // Stopped, not completed, although it exited 0.
  EXPECT_FALSE(worker.Succeeded());
  EXPECT_EQ(states_, (std::vector<WorkerState>{WorkerState::kRunning,
                                               WorkerState::kStopping,
                                               WorkerState::kStopped}));
  EXPECT_EQ(spawner_.requests.size(), 1u);
}

TEST_F(OneshotWorkerTest, RestartWhileRunningRunsItAgain) {
  spawner_.worker_argv = {TEST_WORKER_PATH};
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilWorkerUp());
  const pid_t first = worker.pid();
  worker.Restart();
  ASSERT_TRUE(RunUntil([&] {
    return worker.state() == WorkerState::kRunning && worker.pid() != first;
  }));
  EXPECT_EQ(spawner_.requests.size(), 2u);
  EXPECT_EQ(worker.restarts(), 0);
}

GateVerdict Waiting(std::string reason) {
  return {GateVerdict::Kind::kWaiting, std::move(reason)};
}

GateVerdict Blocked(std::string reason) {
  return {GateVerdict::Kind::kBlocked, std::move(reason)};
}

const char kBlockedByMigrate[] =
    "needs migrate to complete, but migrate:0 is exited: pid 7 exited with "
    "status 1";

TEST_F(WorkerTest, WaitingGateKeepsStartFromSpawning) {
  GateVerdict verdict = Waiting("waiting for migrate to complete");
  int judged = 0;
  gate_ = [&] {
    ++judged;
    return verdict;
  };
  Worker& worker = MakeWorker();
  worker.Start();
  EXPECT_EQ(judged, 1);
  EXPECT_EQ(worker.state(), WorkerState::kWaiting);
  EXPECT_EQ(worker.message(), "waiting for migrate to complete");
  EXPECT_TRUE(worker.Held());
  EXPECT_FALSE(worker.Settled());
  EXPECT_FALSE(worker.HasProcess());
  EXPECT_TRUE(spawner_.requests.empty());
  EXPECT_EQ(states_, std::vector<WorkerState>{WorkerState::kWaiting});

  // Judged again, the same verdict is no news.
  worker.Start();
  EXPECT_EQ(judged, 2);
  EXPECT_EQ(states_.size(), 1u);
  EXPECT_TRUE(spawner_.requests.empty());

  // A new reason is.
  verdict = Waiting("waiting for migrate to complete and redis to be ready");
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kWaiting);
  EXPECT_EQ(worker.message(),
            "waiting for migrate to complete and redis to be ready");
  EXPECT_EQ(states_.size(), 2u);

  verdict = {};
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_FALSE(worker.Held());
  EXPECT_EQ(spawner_.requests.size(), 1u);
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
}

TEST_F(WorkerTest, BlockedGateSettlesTheWorker) {
  GateVerdict verdict = Blocked(kBlockedByMigrate);
  gate_ = [&] { return verdict; };
  Worker& worker = MakeWorker();
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kBlocked);
  EXPECT_EQ(worker.message(), kBlockedByMigrate);
  EXPECT_TRUE(worker.Held());
  EXPECT_TRUE(worker.Settled());
  EXPECT_FALSE(worker.Succeeded());
  EXPECT_TRUE(spawner_.requests.empty());

  worker.Start();
  worker.Release(verdict);
  EXPECT_EQ(states_, std::vector<WorkerState>{WorkerState::kBlocked});

  // The dependency was started again: on its way, then met.
  worker.Release(Waiting("waiting for migrate to complete"));
  EXPECT_EQ(worker.state(), WorkerState::kWaiting);
  EXPECT_EQ(worker.message(), "waiting for migrate to complete");
  EXPECT_TRUE(spawner_.requests.empty());
  worker.Release({});
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_EQ(spawner_.requests.size(), 1u);
  EXPECT_EQ(states_, (std::vector<WorkerState>{WorkerState::kBlocked,
                                               WorkerState::kWaiting,
                                               WorkerState::kStarting}));
}

TEST_F(WorkerTest, ReleaseLeavesAWorkerThatIsNotHeldAlone) {
  Worker& worker = MakeWorker();
  worker.Release({});
  EXPECT_EQ(worker.state(), WorkerState::kStopped);
  EXPECT_TRUE(spawner_.requests.empty());
  worker.Start();
  const pid_t pid = worker.pid();
  worker.Release({});
  worker.Release(Blocked(kBlockedByMigrate));
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_EQ(worker.pid(), pid);
  EXPECT_EQ(spawner_.requests.size(), 1u);
  EXPECT_EQ(states_, std::vector<WorkerState>{WorkerState::kStarting});
}

TEST_F(WorkerTest, CandidateIgnoresTheGate) {
  int judged = 0;
  gate_ = [&] {
    ++judged;
    return Blocked(kBlockedByMigrate);
  };
  Worker& worker = MakeWorker(WorkerRole::kCandidate);
  worker.Start();
  EXPECT_EQ(worker.state(), WorkerState::kStarting);
  EXPECT_EQ(spawner_.requests.size(), 1u);
  EXPECT_EQ(judged, 0);
}

TEST_F(WorkerTest, StopOfAHeldWorkerEndsStopped) {
  for (const GateVerdict& verdict : {Waiting("waiting for migrate to complete"),
                                     Blocked(kBlockedByMigrate)}) {
    SCOPED_TRACE(verdict.reason);
    gate_ = [verdict] { return verdict; };
    states_.clear();
    Worker& worker = MakeWorker();
    worker.Start();
    ASSERT_TRUE(worker.Held());
    worker.Stop();
    EXPECT_EQ(worker.state(), WorkerState::kStopped);
    EXPECT_EQ(worker.message(), "stopped on request");
    EXPECT_FALSE(worker.Held());
    // Stopped, it is no longer released by its dependencies.
    worker.Release({});
    EXPECT_EQ(worker.state(), WorkerState::kStopped);
    EXPECT_EQ(states_.size(), 2u);
  }
  EXPECT_TRUE(spawner_.requests.empty());
}

TEST_F(WorkerTest, StartDuringAStopIsJudgedByTheGateOnceTheProcessIsGone) {
  GateVerdict verdict;
  gate_ = [&] { return verdict; };
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
  ASSERT_TRUE(RunUntilWorkerUp());
  worker.Stop();
  ASSERT_EQ(worker.state(), WorkerState::kStopping);
  // Stopped by request, then started again before its process is gone,
  // while its dependency is on its way (`workerctl stop web`, then
  // `workerctl start web`, which starts redis first): a start from rest.
  verdict = Waiting("waiting for redis to be ready");
  worker.Start();
  ASSERT_TRUE(
      RunUntil([&] { return worker.state() != WorkerState::kStopping; }));
  EXPECT_EQ(WorkerStateName(worker.state()), "waiting");
  EXPECT_EQ(worker.message(), "waiting for redis to be ready");
  EXPECT_FALSE(worker.HasProcess());
  EXPECT_EQ(spawner_.requests.size(), 1u);
}

TEST_F(WorkerTest, RetryAfterBackoffIsNotJudgedByTheGate) {
  GateVerdict verdict;
  int judged = 0;
  gate_ = [&] {
    ++judged;
    return verdict;
  };
  spawner_.fail_with = SpawnError{"exec", "app", ENOENT};
  Worker& worker = MakeWorker();
  worker.Start();
  ASSERT_EQ(worker.state(), WorkerState::kBackoff);
  EXPECT_EQ(judged, 1);
  // Started before: the retry is supervision, not a new start.
  verdict = Waiting("waiting for migrate to complete");
  spawner_.fail_with.reset();
  ASSERT_TRUE(RunUntilState(WorkerState::kReady));
  EXPECT_EQ(spawner_.requests.size(), 2u);
  EXPECT_EQ(judged, 1);
}

}  // namespace
}  // namespace workerd
