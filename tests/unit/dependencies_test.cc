// depends_on at runtime: real Programs of real test-worker processes, each
// program's gate asking Dependencies as the supervisor's do, and the
// ordered stop built from the same graph.
#include "daemon/dependencies.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/ordered_stop.h"
#include "tests/unit/run_loop_until.h"
#include "tests/unit/test_worker_spawner.h"

namespace workerd {
namespace {

using std::chrono::milliseconds;
using Names = std::vector<std::string>;

Dependency Needs(std::string program, DependencyCondition condition) {
  Dependency dependency;
  dependency.program = std::move(program);
  dependency.condition = condition;
  return dependency;
}

GateVerdict Open() { return {}; }
GateVerdict Waiting(std::string reason) {
  return {GateVerdict::Kind::kWaiting, std::move(reason)};
}
GateVerdict Blocked(std::string reason) {
  return {GateVerdict::Kind::kBlocked, std::move(reason)};
}

class DependenciesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Restored in TearDown: later tests check the mask they inherit.
    pthread_sigmask(SIG_SETMASK, nullptr, &saved_mask_);
    BlockSignals({SIGCHLD});
    char dir[] = "/tmp/dependencies_test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }

  void TearDown() override {
    // The workers kill what is left of their process groups as they go;
    // the zombies are collected here.
    programs_.clear();
    for (const auto& [name, spawner] : spawners_) {
      for (pid_t pid : spawner->pids) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    std::filesystem::remove_all(dir_);
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
  }

  // A program of one test worker that stays up, ready after 20 ms (a
  // oneshot: one that exits 0 after 20 ms). Valid until the next Add.
  ProgramSpec& Add(std::string name, std::vector<Dependency> needs = {},
                   ProgramType type = ProgramType::kService) {
    ProgramSpec spec;
    spec.name = name;
    spec.command = {"app"};
    spec.type = type;
    spec.start_period = milliseconds(20);
    spec.stop_timeout = milliseconds(2000);
    spec.backoff = {milliseconds(10), milliseconds(40)};
    spec.depends_on = std::move(needs);
    auto spawner = std::make_unique<TestWorkerSpawner>();
    spawner->dir = dir_ + "/" + name;
    std::filesystem::create_directory(spawner->dir);
    if (type == ProgramType::kOneshot) {
      spec.restart = RestartPolicy::kNever;
      spawner->worker_argv = {TEST_WORKER_PATH, "--exit-after", "20"};
    }
    spawners_[name] = std::move(spawner);
    specs_.push_back(std::move(spec));
    return specs_.back();
  }

  // The programs of the specs added, wired as the supervisor wires them.
  void Build() {
    for (const ProgramSpec& spec : specs_) {
      WorkerContext context;
      context.loop = &loop_;
      context.spawner = spawners_.at(spec.name).get();
      context.inherited_env = &env_;
      context.gate = [this, name = spec.name] {
        return dependencies_->Gate(name);
      };
      context.on_change = [this](const Worker& worker) {
        OnWorkerChange(worker);
      };
      programs_.push_back(std::make_unique<Program>(context, spec));
    }
    dependencies_ = std::make_unique<Dependencies>(specs_, programs_);
  }

  // Every change is recorded ("web[0] stopping"). With `follow_`, Check
  // runs once after the current dispatch, as the supervisor does it.
  void OnWorkerChange(const Worker& worker) {
    events_.push_back(worker.label() + " " +
                      std::string(WorkerStateName(worker.state())));
    if (!follow_ || check_scheduled_) return;
    check_scheduled_ = true;
    loop_.RunSoon([this] {
      check_scheduled_ = false;
      if (dependencies_) dependencies_->Check();
    });
  }

  Program& P(const std::string& name) {
    for (const auto& program : programs_) {
      if (program->name() == name) return *program;
    }
    ADD_FAILURE() << "no program " << name;
    return *programs_.front();
  }

  TestWorkerSpawner& Spawner(const std::string& name) {
    return *spawners_.at(name);
  }

  Worker& W(const std::string& name, int instance = 0) {
    return *P(name).workers().at(instance);
  }

  bool AllIn(const std::string& name, WorkerState state) {
    const Program& program = P(name);
    for (int i = 0; i < program.wanted(); ++i) {
      if (program.workers()[i]->state() != state) return false;
    }
    return true;
  }

  std::vector<pid_t> Pids(const std::string& name) {
    std::vector<pid_t> pids;
    for (const auto& worker : P(name).workers()) pids.push_back(worker->pid());
    return pids;
  }

  // Every slot of `name` has a process other than the ones in `before`, is
  // ready, and no rollout is going on.
  bool Replaced(const std::string& name, const std::vector<pid_t>& before) {
    if (P(name).rollout() != nullptr || !AllIn(name, WorkerState::kReady)) {
      return false;
    }
    for (pid_t pid : Pids(name)) {
      if (std::find(before.begin(), before.end(), pid) != before.end()) {
        return false;
      }
    }
    return true;
  }

  // The latest test worker of `name` has its signal handlers in place.
  bool Up(const std::string& name) {
    const TestWorkerSpawner& spawner = Spawner(name);
    return !spawner.requests.empty() &&
           std::filesystem::exists(spawner.UpFile(spawner.requests.size() - 1));
  }

  // Where `event` was first recorded; events_.size() when never.
  std::size_t IndexOf(const std::string& event) {
    return static_cast<std::size_t>(
        std::find(events_.begin(), events_.end(), event) - events_.begin());
  }

  bool RunUntil(const std::function<bool()>& done) {
    return RunLoopUntil(loop_, done, std::chrono::seconds(10));
  }

  EventLoop loop_;
  std::string dir_;
  std::vector<std::string> env_ = {"PATH=/usr/bin:/bin"};
  std::map<std::string, std::unique_ptr<TestWorkerSpawner>> spawners_;
  std::vector<ProgramSpec> specs_;
  std::vector<std::unique_ptr<Program>> programs_;
  std::unique_ptr<Dependencies> dependencies_;
  std::vector<std::string> events_;
  bool follow_ = false;
  bool check_scheduled_ = false;
  sigset_t saved_mask_;
};

TEST_F(DependenciesTest, GateFollowsADependencyThroughItsStates) {
  Add("migrate", {}, ProgramType::kOneshot);
  Add("web", {Needs("migrate", DependencyCondition::kCompleted)});
  Build();
  EXPECT_EQ(dependencies_->Gate("migrate"), Open());
  EXPECT_EQ(dependencies_->Gate("nothing"), Open());
  EXPECT_EQ(dependencies_->Gate("web"),
            Blocked("needs migrate to complete, but migrate is stopped"));

  P("migrate").Start();
  ASSERT_EQ(W("migrate").state(), WorkerState::kRunning);
  EXPECT_EQ(dependencies_->Gate("web"),
            Waiting("waiting for migrate to complete"));

  ASSERT_TRUE(
      RunUntil([&] { return AllIn("migrate", WorkerState::kCompleted); }));
  EXPECT_EQ(dependencies_->Gate("web"), Open());

  // Stopped by request, a completed oneshot no longer counts.
  P("migrate").Stop();
  EXPECT_EQ(dependencies_->Gate("web"),
            Blocked("needs migrate to complete, but migrate is stopped"));
}

TEST_F(DependenciesTest, GateNamesEveryDependencyOnItsWay) {
  Add("migrate", {}, ProgramType::kOneshot);
  Add("redis").workers = 2;
  Add("web", {Needs("migrate", DependencyCondition::kCompleted),
              Needs("redis", DependencyCondition::kReady)});
  Build();
  // migrate runs until the end of the test.
  Spawner("migrate").worker_argv = {TEST_WORKER_PATH};
  P("migrate").Start();
  P("redis").Start();
  EXPECT_EQ(dependencies_->Gate("web"),
            Waiting("waiting for migrate to complete and redis to be ready"));
  ASSERT_TRUE(RunUntil([&] { return AllIn("redis", WorkerState::kReady); }));
  ASSERT_EQ(W("migrate").state(), WorkerState::kRunning);
  EXPECT_EQ(dependencies_->Gate("web"),
            Waiting("waiting for migrate to complete"));

  // One slot down is enough to block: redis:1 was stopped on its own.
  // Signalled only once its handlers are in place (its up file, the latest
  // of redis), so that it exits 0 rather than dying of the signal.
  ASSERT_TRUE(RunUntil([&] { return Up("redis"); }));
  const pid_t stopped = W("redis", 1).pid();
  W("redis", 1).Stop();
  ASSERT_TRUE(
      RunUntil([&] { return W("redis", 1).state() == WorkerState::kStopped; }));
  EXPECT_EQ(dependencies_->Gate("web"),
            Blocked("needs redis to be ready, but redis:1 is stopped: pid " +
                    std::to_string(stopped) + " exited successfully"));
}

TEST_F(DependenciesTest, StartNeedsStartsTheChainDependenciesFirst) {
  // c needs b, which needs a.
  Add("a");
  Add("b", {Needs("a", DependencyCondition::kReady)});
  Add("c", {Needs("b", DependencyCondition::kReady)});
  Build();
  dependencies_->StartNeeds(P("c"));
  EXPECT_TRUE(P("a").active());
  EXPECT_EQ(W("a").state(), WorkerState::kStarting);
  EXPECT_TRUE(P("b").active());
  EXPECT_EQ(W("b").state(), WorkerState::kWaiting);
  EXPECT_EQ(W("b").message(), "waiting for a to be ready");
  EXPECT_TRUE(Spawner("b").requests.empty());
  // Only what it needs: c itself is left to its caller.
  EXPECT_FALSE(P("c").active());
  EXPECT_EQ(W("c").state(), WorkerState::kStopped);
  EXPECT_EQ(events_, (Names{"a[0] starting", "b[0] waiting"}));

  follow_ = true;
  P("c").Start();
  EXPECT_EQ(W("c").message(), "waiting for b to be ready");
  ASSERT_TRUE(RunUntil([&] { return AllIn("c", WorkerState::kReady); }));
  EXPECT_LT(IndexOf("a[0] ready"), IndexOf("b[0] starting"));
  EXPECT_LT(IndexOf("b[0] ready"), IndexOf("c[0] starting"));
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_EQ(Spawner(name).requests.size(), 1u) << name;
  }
}

TEST_F(DependenciesTest, StartNeedsLeavesWhatIsMetOrOnItsWayAlone) {
  Add("migrate", {}, ProgramType::kOneshot);
  Add("redis");
  Add("web", {Needs("migrate", DependencyCondition::kCompleted),
              Needs("redis", DependencyCondition::kReady)});
  Build();
  P("migrate").Start();
  P("redis").Start();
  ASSERT_EQ(W("migrate").state(), WorkerState::kRunning);
  ASSERT_EQ(W("redis").state(), WorkerState::kStarting);
  const int migrate_generation = P("migrate").generation();
  const int redis_generation = P("redis").generation();

  // Running and starting: on their way.
  dependencies_->StartNeeds(P("web"));
  EXPECT_EQ(Spawner("migrate").requests.size(), 1u);
  EXPECT_EQ(Spawner("redis").requests.size(), 1u);

  // Completed and ready: met. A completed oneshot is not run again.
  ASSERT_TRUE(RunUntil([&] {
    return AllIn("migrate", WorkerState::kCompleted) &&
           AllIn("redis", WorkerState::kReady);
  }));
  dependencies_->StartNeeds(P("web"));
  EXPECT_EQ(Spawner("migrate").requests.size(), 1u);
  EXPECT_EQ(Spawner("redis").requests.size(), 1u);
  EXPECT_EQ(W("migrate").state(), WorkerState::kCompleted);
  EXPECT_EQ(P("migrate").generation(), migrate_generation);
  EXPECT_EQ(P("redis").generation(), redis_generation);
  EXPECT_FALSE(P("web").active());
}

TEST_F(DependenciesTest, StartNeedsStartsAFailedOrStoppedDependencyAgain) {
  Add("migrate", {}, ProgramType::kOneshot);
  Add("redis").restart = RestartPolicy::kNever;
  Add("web", {Needs("migrate", DependencyCondition::kCompleted),
              Needs("redis", DependencyCondition::kReady)});
  Build();
  Spawner("migrate").worker_argv = {TEST_WORKER_PATH, "--exit-after", "1",
                                    "--exit-code", "3"};
  P("migrate").Start();
  P("redis").Start();
  ASSERT_TRUE(RunUntil([&] { return Up("redis"); }));
  ::kill(W("redis").pid(), SIGKILL);
  ASSERT_TRUE(RunUntil([&] {
    return AllIn("migrate", WorkerState::kExited) &&
           AllIn("redis", WorkerState::kExited);
  }));

  Spawner("migrate").worker_argv = {TEST_WORKER_PATH, "--exit-after", "20"};
  dependencies_->StartNeeds(P("web"));
  EXPECT_EQ(Spawner("migrate").requests.size(), 2u);
  EXPECT_EQ(W("migrate").state(), WorkerState::kRunning);
  EXPECT_EQ(Spawner("redis").requests.size(), 2u);
  EXPECT_EQ(W("redis").state(), WorkerState::kStarting);

  // Stopped by request: a dependent's start needs it again.
  P("redis").Stop();
  ASSERT_TRUE(RunUntil([&] { return AllIn("redis", WorkerState::kStopped); }));
  ASSERT_FALSE(P("redis").active());
  dependencies_->StartNeeds(P("web"));
  EXPECT_TRUE(P("redis").active());
  EXPECT_EQ(Spawner("redis").requests.size(), 3u);
}

TEST_F(DependenciesTest, StartNeedsJudgesABlockedDependencyAgain) {
  Add("a");
  Add("b", {Needs("a", DependencyCondition::kReady)});
  Add("c", {Needs("b", DependencyCondition::kStarted)});
  Build();
  P("b").Start();
  ASSERT_EQ(W("b").state(), WorkerState::kBlocked);
  EXPECT_EQ(W("b").message(), "needs a to be ready, but a is stopped");

  dependencies_->StartNeeds(P("c"));
  EXPECT_EQ(W("a").state(), WorkerState::kStarting);
  EXPECT_EQ(W("b").state(), WorkerState::kWaiting);
  EXPECT_EQ(W("b").message(), "waiting for a to be ready");
}

TEST_F(DependenciesTest, CheckReleasesWaitingWorkersOnceTheConditionHolds) {
  Add("migrate", {}, ProgramType::kOneshot);
  Add("web", {Needs("migrate", DependencyCondition::kCompleted)}).workers = 2;
  Build();
  P("migrate").Start();
  P("web").Start();
  EXPECT_TRUE(P("web").Held());
  EXPECT_TRUE(AllIn("web", WorkerState::kWaiting));
  EXPECT_EQ(W("web", 1).message(), "waiting for migrate to complete");

  ASSERT_TRUE(
      RunUntil([&] { return AllIn("migrate", WorkerState::kCompleted); }));
  // Nothing judges them again but Check.
  EXPECT_TRUE(AllIn("web", WorkerState::kWaiting));
  EXPECT_TRUE(Spawner("web").requests.empty());
  dependencies_->Check();
  EXPECT_TRUE(AllIn("web", WorkerState::kStarting));
  EXPECT_FALSE(P("web").Held());
  EXPECT_EQ(Spawner("web").requests.size(), 2u);
  dependencies_->Check();
  EXPECT_EQ(Spawner("web").requests.size(), 2u);
  ASSERT_TRUE(RunUntil([&] { return AllIn("web", WorkerState::kReady); }));
}

TEST_F(DependenciesTest, CheckBlocksWaitingWorkersWhenADependencyFails) {
  Add("migrate", {}, ProgramType::kOneshot);
  Add("web", {Needs("migrate", DependencyCondition::kCompleted)});
  Build();
  Spawner("migrate").worker_argv = {TEST_WORKER_PATH, "--exit-after", "20",
                                    "--exit-code", "3"};
  P("migrate").Start();
  const pid_t pid = W("migrate").pid();
  P("web").Start();
  ASSERT_EQ(W("web").state(), WorkerState::kWaiting);
  ASSERT_TRUE(RunUntil([&] { return AllIn("migrate", WorkerState::kExited); }));
  dependencies_->Check();
  EXPECT_EQ(W("web").state(), WorkerState::kBlocked);
  EXPECT_EQ(W("web").message(),
            "needs migrate to complete, but migrate:0 is exited: pid " +
                std::to_string(pid) +
                " exited with status 3; not restarted (restart = \"never\")");
  EXPECT_TRUE(W("web").Settled());
  // Judged again with nothing new: said once.
  const std::size_t events = events_.size();
  dependencies_->Check();
  EXPECT_EQ(events_.size(), events);

  // Fixed and started again: once it completes, web starts.
  Spawner("migrate").worker_argv = {TEST_WORKER_PATH, "--exit-after", "20"};
  P("migrate").Start();
  dependencies_->Check();
  EXPECT_EQ(W("web").state(), WorkerState::kWaiting);
  EXPECT_EQ(W("web").message(), "waiting for migrate to complete");
  ASSERT_TRUE(
      RunUntil([&] { return AllIn("migrate", WorkerState::kCompleted); }));
  dependencies_->Check();
  EXPECT_EQ(W("web").state(), WorkerState::kStarting);
  EXPECT_EQ(Spawner("web").requests.size(), 1u);
}

TEST_F(DependenciesTest, StartWhileStoppingWaitsForTheDependencies) {
  // redis takes 300 ms to be ready again; web must not start before.
  Add("redis").start_period = milliseconds(300);
  Add("web", {Needs("redis", DependencyCondition::kReady)}).start_period =
      milliseconds(0);
  Build();
  follow_ = true;
  dependencies_->StartNeeds(P("web"));
  P("web").Start();
  ASSERT_TRUE(RunUntil([&] {
    return AllIn("web", WorkerState::kReady) && Up("web") && Up("redis");
  }));
  events_.clear();
  // `workerctl stop --with-dependents redis` ...
  P("web").Stop();
  P("redis").Stop();
  ASSERT_EQ(W("web").state(), WorkerState::kStopping);
  // ... and at once `workerctl start web`, which starts redis first.
  dependencies_->StartNeeds(P("web"));
  P("web").Start();
  ASSERT_TRUE(RunUntil([&] {
    return W("web").state() != WorkerState::kStopping &&
           W("redis").state() != WorkerState::kStopping;
  }));
  EXPECT_EQ(WorkerStateName(W("redis").state()), "starting");
  EXPECT_EQ(WorkerStateName(W("web").state()), "waiting");
  EXPECT_EQ(Spawner("web").requests.size(), 1u);
  ASSERT_TRUE(RunUntil([&] { return AllIn("web", WorkerState::kReady); }));
  EXPECT_LT(IndexOf("redis[0] ready"), IndexOf("web[0] ready"));
}

TEST_F(DependenciesTest, DependentsComeInTheOrderToStopThem) {
  // c needs b, which needs a; d needs a; e is alone.
  Add("a");
  Add("b", {Needs("a", DependencyCondition::kReady)});
  Add("c", {Needs("b", DependencyCondition::kReady)});
  Add("d", {Needs("a", DependencyCondition::kStarted)});
  Add("e");
  Build();
  auto names = [&](const std::string& name) {
    Names result;
    for (const Program* program : dependencies_->Dependents(P(name))) {
      result.push_back(program->name());
    }
    return result;
  };
  EXPECT_EQ(names("a"), (Names{"d", "c", "b"}));
  EXPECT_EQ(names("b"), (Names{"c"}));
  EXPECT_EQ(names("c"), Names{});
  EXPECT_EQ(names("e"), Names{});
  EXPECT_EQ(dependencies_->Dependents(P("a")).front(), &P("d"));
}

TEST_F(DependenciesTest, StopInOrderStopsADependencyOnceItsDependentIsGone) {
  Add("redis");
  Add("web", {Needs("redis", DependencyCondition::kReady)}).stop_timeout =
      milliseconds(150);
  Build();
  // web takes stop_timeout to go.
  Spawner("web").worker_argv = {TEST_WORKER_PATH, "--ignore-term"};
  follow_ = true;
  dependencies_->StartNeeds(P("web"));
  P("web").Start();
  ASSERT_TRUE(RunUntil([&] {
    return AllIn("web", WorkerState::kReady) && Up("web") && Up("redis");
  }));
  const pid_t redis_pid = W("redis").pid();

  OrderedStop stop = dependencies_->StopInOrder({&P("redis"), &P("web")});
  EXPECT_FALSE(stop.Advance());
  EXPECT_EQ(W("web").state(), WorkerState::kStopping);
  EXPECT_FALSE(P("web").active());
  EXPECT_EQ(W("redis").state(), WorkerState::kReady);
  EXPECT_TRUE(P("redis").active());

  // While web still has its process, redis is not told to stop.
  ASSERT_TRUE(RunUntil([&] {
    if (!P("web").Idle()) {
      EXPECT_FALSE(stop.Advance());
      EXPECT_EQ(W("redis").state(), WorkerState::kReady);
      EXPECT_EQ(W("redis").pid(), redis_pid);
    }
    return P("web").Idle();
  }));
  EXPECT_EQ(W("web").last_exit()->Describe(), "killed by SIGKILL");
  EXPECT_EQ(W("redis").state(), WorkerState::kReady);

  EXPECT_FALSE(stop.Advance());
  EXPECT_EQ(W("redis").state(), WorkerState::kStopping);
  ASSERT_TRUE(RunUntil([&] { return stop.Advance(); }));
  EXPECT_TRUE(AllIn("redis", WorkerState::kStopped));
  EXPECT_TRUE(AllIn("web", WorkerState::kStopped));
  EXPECT_LT(IndexOf("web[0] stopped"), IndexOf("redis[0] stopping"));
  // Done is done.
  EXPECT_TRUE(stop.Advance());
}

TEST_F(DependenciesTest, StopInOrderFollowsAChain) {
  Add("a");
  Add("b", {Needs("a", DependencyCondition::kReady)});
  Add("c", {Needs("b", DependencyCondition::kReady)});
  Build();
  follow_ = true;
  dependencies_->StartNeeds(P("c"));
  P("c").Start();
  ASSERT_TRUE(RunUntil([&] {
    return AllIn("c", WorkerState::kReady) && Up("a") && Up("b") && Up("c");
  }));

  OrderedStop stop = dependencies_->StopInOrder({&P("a"), &P("c"), &P("b")});
  ASSERT_TRUE(RunUntil([&] { return stop.Advance(); }));
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_TRUE(AllIn(name, WorkerState::kStopped)) << name;
    EXPECT_TRUE(P(name).Idle()) << name;
  }
  EXPECT_LT(IndexOf("c[0] stopped"), IndexOf("b[0] stopping"));
  EXPECT_LT(IndexOf("b[0] stopped"), IndexOf("a[0] stopping"));
}

TEST_F(DependenciesTest, StopInOrderWaitsOnlyForProgramsOfTheSet) {
  Add("redis");
  Add("web", {Needs("redis", DependencyCondition::kReady)});
  Build();
  follow_ = true;
  dependencies_->StartNeeds(P("web"));
  P("web").Start();
  ASSERT_TRUE(RunUntil(
      [&] { return AllIn("web", WorkerState::kReady) && Up("redis"); }));
  const pid_t web_pid = W("web").pid();

  // `workerctl stop redis`: web keeps running.
  OrderedStop stop = dependencies_->StopInOrder({&P("redis")});
  EXPECT_FALSE(stop.Advance());
  EXPECT_EQ(W("redis").state(), WorkerState::kStopping);
  ASSERT_TRUE(RunUntil([&] { return stop.Advance(); }));
  EXPECT_EQ(W("web").state(), WorkerState::kReady);
  EXPECT_EQ(W("web").pid(), web_pid);
}

TEST_F(DependenciesTest, StopInOrderOfIdleProgramsIsDoneAtOnce) {
  Add("redis");
  Add("web", {Needs("redis", DependencyCondition::kReady)});
  Build();
  OrderedStop stop = dependencies_->StopInOrder({&P("web"), &P("redis")});
  EXPECT_TRUE(stop.Advance());
  EXPECT_TRUE(AllIn("web", WorkerState::kStopped));
  EXPECT_TRUE(AllIn("redis", WorkerState::kStopped));
  EXPECT_TRUE(Spawner("web").requests.empty());
}

// redis, with web (two workers, restart_with_dependency) and jobs (without)
// depending on it, all ready; Check runs after every change.
class RestartWithDependencyTest : public DependenciesTest {
 protected:
  void SetUp() override {
    DependenciesTest::SetUp();
    Add("redis");
    ProgramSpec& web =
        Add("web", {Needs("redis", DependencyCondition::kReady)});
    web.workers = 2;
    web.restart_with_dependency = true;
    Add("jobs", {Needs("redis", DependencyCondition::kStarted)});
    Build();
    follow_ = true;
    for (const char* name : {"redis", "web", "jobs"}) P(name).Start();
    ASSERT_TRUE(RunUntil([&] {
      return AllIn("redis", WorkerState::kReady) &&
             AllIn("web", WorkerState::kReady) &&
             AllIn("jobs", WorkerState::kReady);
    }));
    web_pids_ = Pids("web");
    jobs_pids_ = Pids("jobs");
    web_generation_ = P("web").generation();
    jobs_generation_ = P("jobs").generation();
  }

  // After the dependents settled: Check, however often, rolls nothing more.
  void ExpectNoMoreRolls() {
    for (int i = 0; i < 3; ++i) {
      dependencies_->Check();
      EXPECT_EQ(P("web").rollout(), nullptr);
      EXPECT_EQ(P("jobs").rollout(), nullptr);
    }
    EXPECT_EQ(Pids("jobs"), jobs_pids_);
    EXPECT_EQ(P("jobs").generation(), jobs_generation_);
    EXPECT_EQ(Spawner("jobs").requests.size(), 1u);
  }

  std::vector<pid_t> web_pids_;
  std::vector<pid_t> jobs_pids_;
  int web_generation_ = 0;
  int jobs_generation_ = 0;
};

TEST_F(RestartWithDependencyTest, RollOfADependencyRollsTheDependentOnce) {
  std::optional<RolloutResult> result;
  RolloutObserver observer;
  observer.on_finished = [&](const RolloutResult& finished) {
    result = finished;
  };
  ASSERT_TRUE(P("redis").Roll({}, observer));
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  EXPECT_TRUE(result->ok) << result->message;
  ASSERT_TRUE(RunUntil([&] { return Replaced("web", web_pids_); }));
  EXPECT_EQ(P("web").generation(), web_generation_ + 1);
  EXPECT_EQ(Spawner("web").requests.size(), 4u);
  ExpectNoMoreRolls();
  EXPECT_EQ(P("web").generation(), web_generation_ + 1);
  EXPECT_EQ(Spawner("web").requests.size(), 4u);
}

TEST_F(RestartWithDependencyTest, RestartOfADependencyRollsTheDependentOnce) {
  const pid_t redis_pid = W("redis").pid();
  P("redis").Restart();
  ASSERT_TRUE(RunUntil([&] { return Replaced("web", web_pids_); }));
  EXPECT_NE(W("redis").pid(), redis_pid);
  // Rolled once redis was ready again, not while it restarted.
  EXPECT_EQ(W("redis").state(), WorkerState::kReady);
  EXPECT_LT(IndexOf("redis[0] ready"), IndexOf("web[0] new starting"));
  EXPECT_EQ(P("web").generation(), web_generation_ + 1);
  ExpectNoMoreRolls();
  EXPECT_EQ(Spawner("web").requests.size(), 4u);
}

TEST_F(RestartWithDependencyTest, StartOfAStoppedDependencyRollsTheDependent) {
  P("redis").Stop();
  ASSERT_TRUE(RunUntil([&] { return AllIn("redis", WorkerState::kStopped); }));
  // Running workers are not judged again: web keeps serving.
  EXPECT_EQ(Pids("web"), web_pids_);
  P("redis").Start();
  ASSERT_TRUE(RunUntil([&] { return Replaced("web", web_pids_); }));
  EXPECT_EQ(P("web").generation(), web_generation_ + 1);
  ExpectNoMoreRolls();
  EXPECT_EQ(Spawner("web").requests.size(), 4u);
}

TEST_F(RestartWithDependencyTest, CrashRestartByPolicyRollsNothing) {
  ASSERT_TRUE(RunUntil([&] { return Up("redis"); }));
  const pid_t crashed = W("redis").pid();
  const int redis_generation = P("redis").generation();
  ::kill(crashed, SIGKILL);
  ASSERT_TRUE(RunUntil([&] {
    return W("redis").pid() != crashed &&
           W("redis").state() == WorkerState::kReady;
  }));
  EXPECT_EQ(W("redis").restarts(), 1);
  EXPECT_EQ(P("redis").generation(), redis_generation);
  ExpectNoMoreRolls();
  EXPECT_EQ(Pids("web"), web_pids_);
  EXPECT_EQ(P("web").generation(), web_generation_);
  EXPECT_EQ(Spawner("web").requests.size(), 2u);
}

TEST_F(RestartWithDependencyTest, TwoRestartsInARowRollTheDependentOnce) {
  P("redis").Restart();
  ASSERT_EQ(W("redis").state(), WorkerState::kStopping);
  P("redis").Restart();
  ASSERT_TRUE(RunUntil([&] { return Replaced("web", web_pids_); }));
  EXPECT_EQ(P("web").generation(), web_generation_ + 1);
  ExpectNoMoreRolls();
  EXPECT_EQ(Spawner("web").requests.size(), 4u);
  EXPECT_EQ(Spawner("redis").requests.size(), 2u);
}

TEST_F(RestartWithDependencyTest, RestartDuringTheDependentsRollRollsItAgain) {
  P("redis").Restart();
  ASSERT_TRUE(RunUntil([&] { return P("web").rollout() != nullptr; }));
  P("redis").Restart();
  // The rollout in progress ends, then web is rolled once more.
  ASSERT_TRUE(RunUntil([&] {
    return P("web").generation() == web_generation_ + 2 &&
           Replaced("web", web_pids_) && AllIn("redis", WorkerState::kReady);
  }));
  ExpectNoMoreRolls();
  EXPECT_EQ(P("web").generation(), web_generation_ + 2);
  EXPECT_EQ(Spawner("web").requests.size(), 6u);
}

TEST_F(DependenciesTest, DependenciesRestartedTogetherRollTheDependentOnce) {
  Add("a");
  Add("b");
  ProgramSpec& web = Add("web", {Needs("a", DependencyCondition::kReady),
                                 Needs("b", DependencyCondition::kStarted)});
  web.restart_with_dependency = true;
  Build();
  follow_ = true;
  dependencies_->StartNeeds(P("web"));
  P("web").Start();
  ASSERT_TRUE(RunUntil([&] { return AllIn("web", WorkerState::kReady); }));
  const std::vector<pid_t> before = Pids("web");
  const int generation = P("web").generation();

  P("a").Restart();
  P("b").Restart();
  ASSERT_TRUE(RunUntil([&] {
    return Replaced("web", before) && AllIn("a", WorkerState::kReady) &&
           AllIn("b", WorkerState::kReady);
  }));
  for (int i = 0; i < 3; ++i) dependencies_->Check();
  EXPECT_EQ(P("web").rollout(), nullptr);
  EXPECT_EQ(P("web").generation(), generation + 1);
  EXPECT_EQ(Spawner("web").requests.size(), 2u);
}

TEST_F(DependenciesTest, OneshotWithRestartWithDependencyRunsAgain) {
  Add("redis");
  ProgramSpec& warm = Add("warm", {Needs("redis", DependencyCondition::kReady)},
                          ProgramType::kOneshot);
  warm.restart_with_dependency = true;
  Build();
  follow_ = true;
  dependencies_->StartNeeds(P("warm"));
  P("warm").Start();
  ASSERT_TRUE(RunUntil([&] { return AllIn("warm", WorkerState::kCompleted); }));
  ASSERT_EQ(Spawner("warm").requests.size(), 1u);

  P("redis").Restart();
  ASSERT_TRUE(RunUntil([&] {
    return Spawner("warm").requests.size() == 2u &&
           AllIn("warm", WorkerState::kCompleted);
  }));
  dependencies_->Check();
  EXPECT_EQ(Spawner("warm").requests.size(), 2u);
}

}  // namespace
}  // namespace workerd
