// Supervision end to end: workers started with what they should receive,
// replaced when killed, crash loops ending in `fatal`, restart policies and
// autostart.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <string>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

using std::chrono::steady_clock;

TEST(Supervision, StartsWorkersWithTheirInstanceAndEnvironment) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--report", "@DIR@/report.{instance}",
           "--print", "hello from {program}[{instance}]"]
workers = 3
start_period = "100ms"
env = { SLOT = "slot-{instance}-of-{program}" }
)toml");
  ASSERT_TRUE(daemon.Start());

  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 3, "ready"); },
      "3 ready workers", kDeadline, &status));

  std::set<pid_t> pids;
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("web:" + std::to_string(i));
    const Json* worker = FindWorker(status, "web", i);
    ASSERT_NE(worker, nullptr);
    pid_t pid = PidOf(*worker);
    ASSERT_GT(pid, 0);
    pids.insert(pid);
    EXPECT_EQ((*worker)["restarts"], 0);
    EXPECT_TRUE((*worker)["last_exit"].is_null());

    std::string report_path = daemon.Path("report." + std::to_string(i));
    std::optional<Report> report = WaitForReport(report_path);
    ASSERT_TRUE(report);
    EXPECT_EQ((*report)["pid"], std::to_string(pid));
    // Its own process group, so that a stop can take the whole group.
    EXPECT_EQ((*report)["pgid"], std::to_string(pid));
    EXPECT_EQ((*report)["env.WORKERD_PROGRAM"], "web");
    EXPECT_EQ((*report)["env.WORKERD_INSTANCE"], std::to_string(i));
    EXPECT_EQ((*report)["env.SLOT"], "slot-" + std::to_string(i) + "-of-web");
    // {instance} expanded in the command itself.
    EXPECT_EQ((*report)["argv2"], report_path);
    EXPECT_EQ((*report)["argv4"], "hello from web[" + std::to_string(i) + "]");
  }
  EXPECT_EQ(pids.size(), 3u) << "pids must be distinct";
  // Workers' stdout is captured into workerd's output.
  EXPECT_TRUE(daemon.WaitForLog("hello from web[2]"));
}

TEST(Supervision, KilledReadyWorkerIsReplacedAtOnce) {
  // A backoff of 5 s: a replacement within 2 s proves that a worker that
  // was up is restarted at once, without backoff.
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@"]
workers = 2
start_period = "100ms"
backoff = { initial = "5s", max = "5s" }
)toml");
  ASSERT_TRUE(daemon.Start());
  Json before;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 2, "ready"); },
      "2 ready workers", kDeadline, &before));
  pid_t victim = PidOf(before, "web", 1);
  pid_t bystander = PidOf(before, "web", 0);

  ASSERT_EQ(kill(victim, SIGKILL), 0);
  const auto killed_at = steady_clock::now();
  Json after;
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        pid_t pid = PidOf(s, "web", 1);
        return pid > 0 && pid != victim;
      },
      "web:1 to get a new process", std::chrono::milliseconds(2000), &after));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      steady_clock::now() - killed_at);
  EXPECT_LT(took.count(), 2000);

  const Json* worker = FindWorker(after, "web", 1);
  ASSERT_NE(worker, nullptr);
  EXPECT_EQ((*worker)["restarts"], 1);
  EXPECT_EQ((*worker)["last_exit"]["text"], "killed by SIGKILL");
  EXPECT_EQ((*worker)["last_exit"]["signal"], 9);
  EXPECT_TRUE((*worker)["last_exit"]["code"].is_null());
  EXPECT_TRUE(daemon.WaitReaped(victim, "the killed worker"));
  EXPECT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "web", 1) == "ready"; },
      "the replacement to be ready"));

  // The other slot is none of its business.
  Json status = daemon.Status();
  EXPECT_EQ(PidOf(status, "web", 0), bystander);
  EXPECT_EQ(Field(status, "web", 0, "restarts"), 0);
}

TEST(Supervision, CrashLoopEndsFatalAndStartClearsIt) {
  // start_period 1s: every exit after 10 ms is a failed start, so backoff
  // applies (10, 20, 40 ms) and the fourth failure hits the crash limit.
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--exit-after", "10", "--exit-code", "3"]
start_period = "1s"
backoff = { initial = "10ms", max = "1s" }
crash_limit = { restarts = 3, within = "60s" }
)toml");
  ASSERT_TRUE(daemon.Start());

  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "web", 0) == "fatal"; },
      "web:0 to be fatal", kDeadline, &status));
  const Json* worker = FindWorker(status, "web", 0);
  ASSERT_NE(worker, nullptr);
  EXPECT_EQ((*worker)["restarts"], 3);
  EXPECT_TRUE((*worker)["pid"].is_null());
  EXPECT_EQ((*worker)["last_exit"]["code"], 3);
  EXPECT_EQ((*worker)["last_exit"]["text"], "exited with status 3");
  std::string message = (*worker)["message"].get<std::string>();
  EXPECT_NE(message.find("gave up after 3 restarts"), std::string::npos)
      << message;
  EXPECT_NE(daemon.Log().find("gave up after 3 restarts"), std::string::npos);

  // `start` clears fatal and the crash history: the slot is back in the
  // loop with its counter at zero.
  CommandResult started =
      daemon.RunCtl({"--json", "--no-wait", "start", "web"});
  EXPECT_EQ(started.exit_code, 0) << started.err;
  Json answer = Json::parse(started.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << started.out;
  ASSERT_EQ(answer["workers"].size(), 1u) << started.out;
  EXPECT_EQ(answer["workers"][0]["restarts"], 0) << started.out;
  EXPECT_NE(answer["workers"][0]["state"], "fatal") << started.out;

  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return StateOf(s, "web", 0) == "fatal" &&
               Field(s, "web", 0, "restarts") == 3;
      },
      "web:0 to go through 3 restarts and be fatal again"));
  std::string log = daemon.Log();
  size_t first = log.find("gave up after 3 restarts");
  EXPECT_NE(log.find("gave up after 3 restarts", first + 1), std::string::npos)
      << "a second trip through the loop should end fatal again";

  // With waiting, a start that ends fatal is a failed command.
  CommandResult waited = daemon.RunCtl({"start", "web"});
  EXPECT_EQ(waited.exit_code, 1) << waited.out << waited.err;
  EXPECT_NE(waited.err.find("fatal"), std::string::npos) << waited.err;
}

TEST(Supervision, RestartPoliciesLeaveWorkersExited) {
  Daemon daemon(R"toml(
[program.never]
command = ["@WORKER@", "--exit-after", "20", "--exit-code", "7"]
restart = "never"
start_period = "0s"

[program.clean]
command = ["@WORKER@", "--exit-after", "20", "--exit-code", "0"]
restart = "on-failure"
start_period = "0s"

[program.failing]
command = ["@WORKER@", "--exit-after", "20", "--exit-code", "2"]
restart = "on-failure"
start_period = "0s"
crash_limit = { restarts = 1, within = "60s" }
)toml");
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return StateOf(s, "never", 0) == "exited" &&
               StateOf(s, "clean", 0) == "exited" &&
               StateOf(s, "failing", 0) == "fatal";
      },
      "never and clean exited, failing fatal", kDeadline, &status));

  EXPECT_EQ(Field(status, "never", 0, "restarts"), 0);
  EXPECT_EQ(Field(status, "never", 0, "last_exit")["code"], 7);
  EXPECT_EQ(Field(status, "never", 0, "last_exit")["text"],
            "exited with status 7");
  EXPECT_TRUE(Field(status, "never", 0, "pid").is_null());

  EXPECT_EQ(Field(status, "clean", 0, "restarts"), 0);
  EXPECT_EQ(Field(status, "clean", 0, "last_exit")["code"], 0);
  EXPECT_EQ(Field(status, "clean", 0, "last_exit")["text"],
            "exited successfully");

  // on-failure does restart a failure, up to the crash limit.
  EXPECT_EQ(Field(status, "failing", 0, "restarts"), 1);
  EXPECT_EQ(Field(status, "failing", 0, "last_exit")["code"], 2);
}

TEST(Supervision, AutostartFalseStaysStoppedUntilStarted) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@"]
workers = 2
autostart = false
start_period = "100ms"

[program.other]
command = ["@WORKER@"]
start_period = "0s"
)toml");
  ASSERT_TRUE(daemon.Start());
  // Once `other` runs, workerd has started all it was going to start.
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "other", 0) == "ready"; },
      "other:0 ready", kDeadline, &status));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(StateOf(status, "web", i), "stopped") << status.dump(2);
    EXPECT_EQ(PidOf(status, "web", i), 0);
  }
  EXPECT_NE(daemon.Log().find("autostart = false"), std::string::npos);

  CommandResult started = daemon.RunCtl({"start", "web"});
  EXPECT_EQ(started.exit_code, 0) << started.err;
  EXPECT_NE(started.out.find("web:0"), std::string::npos) << started.out;
  EXPECT_NE(started.out.find("web:1"), std::string::npos) << started.out;
  // `start` waits for readiness: no polling needed here.
  status = daemon.Status();
  EXPECT_TRUE(AllInState(status, "web", 2, "ready")) << status.dump(2);
  EXPECT_NE(PidOf(status, "web", 0), PidOf(status, "web", 1));
}

}  // namespace
}  // namespace workerd::e2e
