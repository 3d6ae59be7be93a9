// The service manager's view of workerd: the STATUS= summary of real
// programs as their workers start, fail and back off, when READY=1 is due,
// and the datagrams ServiceNotifier writes.
#include "daemon/service_notifier.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/unit/run_loop_until.h"
#include "tests/unit/test_worker_spawner.h"

namespace workerd {
namespace {

using std::chrono::milliseconds;

class StatusSummaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pthread_sigmask(SIG_SETMASK, nullptr, &saved_mask_);
    BlockSignals({SIGCHLD});
    char dir[] = "/tmp/service_notifier_test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    spawner_.dir = dir;
  }

  void TearDown() override {
    programs_.clear();
    for (pid_t pid : spawner_.pids) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(spawner_.dir);
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
  }

  Program& Add(const std::string& name, int workers,
               Readiness ready = Readiness::kExec) {
    ProgramSpec spec;
    spec.name = name;
    spec.command = {"app"};
    spec.workers = workers;
    spec.ready = ready;
    spec.start_period = milliseconds(30);
    spec.stop_timeout = milliseconds(2000);
    spec.backoff = {milliseconds(10000), milliseconds(10000)};
    WorkerContext context;
    context.loop = &loop_;
    context.spawner = &spawner_;
    context.inherited_env = &env_;
    programs_.push_back(std::make_unique<Program>(context, spec));
    return *programs_.back();
  }

  bool RunUntil(const std::function<bool()>& done) {
    return RunLoopUntil(loop_, done, std::chrono::seconds(10));
  }

  EventLoop loop_;
  TestWorkerSpawner spawner_;
  std::vector<std::string> env_;
  std::vector<std::unique_ptr<Program>> programs_;
  sigset_t saved_mask_;
};

TEST_F(StatusSummaryTest, CountsWorkersUpOfWantedPerProgramInOrder) {
  Program& web = Add("web", 3);
  Add("jobs", 2);
  EXPECT_EQ(StatusSummary(programs_), "web stopped, jobs stopped");
  EXPECT_TRUE(StartSettled(programs_)) << "nothing is started";

  web.Start();
  EXPECT_EQ(StatusSummary(programs_),
            "web 0/3 running (3 starting), jobs stopped");
  EXPECT_FALSE(StartSettled(programs_));
  ASSERT_TRUE(RunUntil([&] { return StartSettled(programs_); }));
  EXPECT_EQ(StatusSummary(programs_), "web 3/3 running, jobs stopped");
}

TEST_F(StatusSummaryTest, NamesWhatIsWrongAndReadyComesDespiteACrashLoop) {
  Program& web = Add("web", 2, Readiness::kNotify);
  spawner_.fail_with = SpawnError{"exec", "app", ENOENT};
  web.Start();
  // Every start fails; backing off for 10 s counts as settled.
  ASSERT_TRUE(RunUntil([&] { return StartSettled(programs_); }));
  EXPECT_EQ(StatusSummary(programs_), "web 0/2 ready (2 backoff)");
}

TEST_F(StatusSummaryTest, ScalingDownCountsOnlyTheSlotsStillWanted) {
  Program& web = Add("web", 3);
  web.Start();
  ASSERT_TRUE(RunUntil([&] { return StartSettled(programs_); }));
  web.Scale(1);
  EXPECT_EQ(StatusSummary(programs_), "web 1/1 running");
}

TEST_F(StatusSummaryTest, AnOverlongLineEndsWithHowManyProgramsAreLeftOut) {
  for (int i = 0; i < 10; ++i) Add("program" + std::to_string(i), 1);
  // "programN stopped" is 16 characters, 18 with its separator.
  EXPECT_EQ(StatusSummary(programs_, 60),
            "program0 stopped, program1 stopped, +8 more");
  EXPECT_EQ(StatusSummary(programs_, 1000).size(), 10 * 16 + 9 * 2u);
  programs_.clear();
  EXPECT_EQ(StatusSummary(programs_), "no programs");
}

TEST(ServiceNotifierTest, SendsEachStateWithTheStatusLine) {
  std::vector<std::string> sent;
  ServiceNotifier notifier([&](const std::string& m) { sent.push_back(m); });
  notifier.Ready("web 1/1 ready");
  notifier.Stopping("stopping: 1 worker left");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0], "READY=1\nSTATUS=web 1/1 ready");
  EXPECT_EQ(sent[1], "STOPPING=1\nSTATUS=stopping: 1 worker left");
}

TEST(ServiceNotifierTest, ReloadingCarriesTheMonotonicClockInMicroseconds) {
  std::vector<std::string> sent;
  ServiceNotifier notifier([&](const std::string& m) { sent.push_back(m); });
  auto now = [] {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<unsigned long long>(t.tv_sec) * 1000000ULL +
           static_cast<unsigned long long>(t.tv_nsec) / 1000ULL;
  };
  const unsigned long long before = now();
  notifier.Reloading("reloading /etc/workerd/workers.toml");
  const unsigned long long after = now();
  ASSERT_EQ(sent.size(), 1u);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(sent[0].rfind(prefix, 0), 0u) << sent[0];
  const std::size_t end = sent[0].find('\n', prefix.size());
  const unsigned long long stamp =
      std::stoull(sent[0].substr(prefix.size(), end - prefix.size()));
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, after);
  EXPECT_EQ(sent[0].substr(end), "\nSTATUS=reloading /etc/workerd/workers.toml");
}

TEST(ServiceNotifierTest, StatusIsSentOnlyWhenItChangesAndOnOneLine) {
  std::vector<std::string> sent;
  ServiceNotifier notifier([&](const std::string& m) { sent.push_back(m); });
  notifier.Status("web 0/2 running (2 starting)");
  notifier.Status("web 0/2 running (2 starting)");
  notifier.Status("web 2/2 running");
  notifier.Ready("web 2/2 running");  // states are always sent
  notifier.Status("web 2/2 running");
  notifier.Status("a\nb");
  EXPECT_EQ(sent, (std::vector<std::string>{
                      "STATUS=web 0/2 running (2 starting)",
                      "STATUS=web 2/2 running",
                      "READY=1\nSTATUS=web 2/2 running",
                      "STATUS=a b",
                  }));
}

}  // namespace
}  // namespace workerd
