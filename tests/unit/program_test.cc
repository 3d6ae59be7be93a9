// A program's slots and its rolling restart, with real test-worker
// processes behind a spawner that can be told to fail.
#include "daemon/program.h"

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/run_loop_until.h"
#include "tests/unit/test_worker_spawner.h"

namespace workerd {
namespace {

using std::chrono::milliseconds;

class ProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Restored in TearDown: later tests check the mask they inherit.
    pthread_sigmask(SIG_SETMASK, nullptr, &saved_mask_);
    BlockSignals({SIGCHLD});
    char dir[] = "/tmp/program_test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    spawner_.dir = dir;
    spec_.name = "web";
    spec_.command = {"app"};
    spec_.workers = 3;
    spec_.start_period = milliseconds(30);
    spec_.stop_timeout = milliseconds(2000);
    spec_.backoff = {milliseconds(10), milliseconds(40)};
  }

  void TearDown() override {
    program_.reset();
    for (pid_t pid : spawner_.pids) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(spawner_.dir);
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
  }

  Program& MakeProgram() {
    WorkerContext context;
    context.loop = &loop_;
    context.spawner = &spawner_;
    context.inherited_env = &env_;
    program_ = std::make_unique<Program>(context, spec_);
    return *program_;
  }

  bool RunUntil(const std::function<bool()>& done) {
    return RunLoopUntil(loop_, done, std::chrono::seconds(10));
  }

  bool AllReady() {
    for (const auto& worker : program_->workers()) {
      if (worker->state() != WorkerState::kReady) return false;
    }
    return true;
  }

  std::vector<pid_t> Pids() {
    std::vector<pid_t> pids;
    for (const auto& worker : program_->workers()) {
      pids.push_back(worker->pid());
    }
    return pids;
  }

  RolloutObserver Record() {
    RolloutObserver observer;
    observer.on_progress = [this](const RolloutProgress& progress) {
      steps_.push_back(std::to_string(progress.instance) + " " +
                       RolloutStepName(progress.step));
      // Never fewer serving processes than slots: each old worker is
      // stopped only after its replacement is ready.
      int ready = 0;
      program_->ForEachWorker([&](const Worker& worker) {
        if (worker.state() == WorkerState::kReady) ++ready;
      });
      min_ready_ = std::min(min_ready_, ready);
    };
    observer.on_finished = [this](const RolloutResult& result) {
      result_ = result;
    };
    return observer;
  }

  EventLoop loop_;
  TestWorkerSpawner spawner_;
  std::vector<std::string> env_ = {"PATH=/usr/bin:/bin"};
  ProgramSpec spec_;
  std::unique_ptr<Program> program_;
  std::vector<std::string> steps_;
  std::optional<RolloutResult> result_;
  int min_ready_ = 1000;
  sigset_t saved_mask_;
};

TEST_F(ProgramTest, RollingRestartReplacesOneSlotAtATime) {
  Program& program = MakeProgram();
  program.Start();
  ASSERT_TRUE(RunUntil([&] { return AllReady(); }));
  const std::vector<pid_t> before = Pids();

  ASSERT_TRUE(program.Roll({}, Record()));
  EXPECT_NE(program.rollout(), nullptr);
  // One rollout at a time.
  EXPECT_FALSE(program.Roll({}, {}));
  ASSERT_TRUE(RunUntil([&] { return result_.has_value(); }));

  EXPECT_TRUE(result_->ok) << result_->message;
  EXPECT_EQ(result_->done, 3);
  EXPECT_EQ(program.rollout(), nullptr);
  EXPECT_EQ(steps_, (std::vector<std::string>{
                        "0 starting", "0 ready", "0 replaced",
                        "1 starting", "1 ready", "1 replaced",
                        "2 starting", "2 ready", "2 replaced"}));
  EXPECT_GE(min_ready_, 3);
  const std::vector<pid_t> after = Pids();
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_NE(after[i], before[i]);
    EXPECT_EQ(program.workers()[i]->state(), WorkerState::kReady);
    EXPECT_EQ(program.workers()[i]->role(), WorkerRole::kServing);
    EXPECT_EQ(program.workers()[i]->label(),
              "web[" + std::to_string(i) + "]");
    EXPECT_EQ(program.FindCandidate(static_cast<int>(i)), nullptr);
  }
  // The old processes are gone, and only the slots' workers remain.
  ASSERT_TRUE(RunUntil([&] {
    int objects = 0;
    program.ForEachWorker([&](const Worker&) { ++objects; });
    return objects == 3;
  }));
  for (pid_t pid : before) EXPECT_NE(::kill(pid, 0), 0);
}

TEST_F(ProgramTest, FailedCandidateStopsTheRolloutAndOldWorkersServe) {
  Program& program = MakeProgram();
  program.Start();
  ASSERT_TRUE(RunUntil([&] { return AllReady(); }));
  const std::vector<pid_t> before = Pids();

  spawner_.fail_with = SpawnError{"exec", "app", ENOENT};
  ASSERT_TRUE(program.Roll({}, Record()));
  ASSERT_TRUE(RunUntil([&] { return result_.has_value(); }));
  EXPECT_FALSE(result_->ok);
  EXPECT_EQ(result_->done, 0);
  EXPECT_EQ(result_->message,
            "the new worker for web:0 failed: exec \"app\": No such file or "
            "directory; the old worker (pid " +
                std::to_string(before[0]) + ") keeps serving");
  EXPECT_EQ(Pids(), before);
  EXPECT_TRUE(AllReady());
  // One attempt, no retries of the candidate.
  EXPECT_EQ(spawner_.requests.size(), 4u);
  ASSERT_TRUE(RunUntil([&] { return program.FindCandidate(0) == nullptr; }));
}

TEST_F(ProgramTest, CandidateThatCrashesBeforeReadyLeavesTheOldOne) {
  spec_.start_period = milliseconds(500);
  Program& program = MakeProgram();
  program.Start();
  ASSERT_TRUE(RunUntil([&] { return AllReady(); }));
  const std::vector<pid_t> before = Pids();

  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "1",
                          "--exit-code", "3"};
  ASSERT_TRUE(program.Roll({1}, Record()));
  ASSERT_TRUE(RunUntil([&] { return result_.has_value(); }));
  EXPECT_FALSE(result_->ok);
  EXPECT_EQ(result_->total, 1);
  EXPECT_NE(result_->message.find("exited with status 3 before it was ready"),
            std::string::npos)
      << result_->message;
  EXPECT_EQ(Pids(), before);
}

TEST_F(ProgramTest, StopCancelsARollout) {
  Program& program = MakeProgram();
  program.Start();
  ASSERT_TRUE(RunUntil([&] { return AllReady(); }));
  ASSERT_TRUE(program.Roll({}, Record()));
  // Stopped while the first candidate is still starting.
  ASSERT_NE(program.FindCandidate(0), nullptr);
  ASSERT_EQ(program.FindCandidate(0)->state(), WorkerState::kStarting);
  program.Stop();
  ASSERT_TRUE(result_.has_value());
  EXPECT_FALSE(result_->ok);
  EXPECT_EQ(result_->message, "web was stopped");
  ASSERT_TRUE(RunUntil([&] { return program.Idle(); }));
  EXPECT_EQ(program.rollout(), nullptr);
}

TEST_F(ProgramTest, SlotWithNothingServingIsRestartedInPlace) {
  Program& program = MakeProgram();
  // Never started: every slot is stopped.
  ASSERT_TRUE(program.Roll({}, Record()));
  ASSERT_TRUE(RunUntil([&] { return result_.has_value(); }));
  EXPECT_TRUE(result_->ok) << result_->message;
  EXPECT_TRUE(AllReady());
  EXPECT_EQ(spawner_.requests.size(), 3u);
}


// The old workers ignore SIGTERM, so each hand-over waits in the phase
// where the old worker is stopping until stop_timeout kills it.
class SlowStoppingProgramTest : public ProgramTest {
 protected:
  void SetUp() override {
    ProgramTest::SetUp();
    spec_.workers = 2;
    spec_.stop_timeout = milliseconds(300);
    spawner_.worker_argv = {TEST_WORKER_PATH, "--ignore-term"};
  }

  // Calls `act` once, when the first new worker is ready and the old one
  // is being stopped.
  RolloutObserver RecordAndOnFirstHandover(std::function<void()> act) {
    RolloutObserver observer = Record();
    observer.on_progress = [this, act = std::move(act),
                            record = observer.on_progress](
                               const RolloutProgress& progress) {
      record(progress);
      if (progress.step == RolloutProgress::Step::kReady && !acted_) {
        acted_ = true;
        act();
      }
    };
    return observer;
  }

  bool acted_ = false;
};

TEST_F(SlowStoppingProgramTest, StartWhileAnOldWorkerStopsDoesNotHangTheRollout) {
  Program& program = MakeProgram();
  program.Start();
  ASSERT_TRUE(RunUntil([&] { return AllReady(); }));
  ASSERT_TRUE(program.Roll({}, RecordAndOnFirstHandover([&] {
    // "Make sure everything runs": asks the stopping old worker to start
    // again once it has exited.
    program.Start();
  })));
  ASSERT_TRUE(RunUntil([&] { return result_.has_value(); }));
  EXPECT_TRUE(result_->ok) << result_->message;
  EXPECT_EQ(result_->done, 2);
  // Only the slots' workers are left running: no old worker came back.
  ASSERT_TRUE(RunUntil([&] {
    int running = 0;
    program.ForEachWorker([&](const Worker& worker) {
      if (worker.HasProcess()) ++running;
    });
    return running == 2;
  }));
}

TEST_F(SlowStoppingProgramTest, StopWhileAnOldWorkerStopsLeavesNoNewWorker) {
  Program& program = MakeProgram();
  program.Start();
  ASSERT_TRUE(RunUntil([&] { return AllReady(); }));
  ASSERT_TRUE(program.Roll({}, RecordAndOnFirstHandover([&] {
    program.Stop();
  })));
  ASSERT_TRUE(RunUntil([&] { return result_.has_value(); }));
  EXPECT_FALSE(result_->ok);
  EXPECT_EQ(result_->message, "web was stopped");
  ASSERT_TRUE(RunUntil([&] { return program.Idle(); }));
  EXPECT_EQ(program.FindCandidate(0), nullptr);
  for (const auto& worker : program.workers()) {
    EXPECT_EQ(worker->state(), WorkerState::kStopped);
  }
}

TEST_F(SlowStoppingProgramTest, NewWorkerEndingAfterItWasReadyStopsTheRollout) {
  spec_.restart = RestartPolicy::kNever;
  Program& program = MakeProgram();
  program.Start();
  ASSERT_TRUE(RunUntil([&] { return AllReady(); }));
  const std::vector<pid_t> before = Pids();
  // New workers are ready after start_period (30 ms), then exit at 100 ms,
  // while their old worker still takes 300 ms to be killed.
  spawner_.worker_argv = {TEST_WORKER_PATH, "--exit-after", "100"};
  ASSERT_TRUE(program.Roll({}, Record()));
  ASSERT_TRUE(RunUntil([&] { return result_.has_value(); }));
  EXPECT_FALSE(result_->ok);
  EXPECT_EQ(result_->done, 0);
  EXPECT_TRUE(result_->message.starts_with(
      "the new worker for web:0 failed after it was ready: pid "))
      << result_->message;
  // The slot not reached keeps its old worker.
  EXPECT_EQ(program.workers()[1]->pid(), before[1]);
  EXPECT_EQ(program.workers()[1]->state(), WorkerState::kReady);
}

}  // namespace
}  // namespace workerd
