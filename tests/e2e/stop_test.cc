// Stopping end to end: one instance, a worker that ignores its stop signal
// (the whole process group must go), workerd's own exit on SIGTERM (bounded
// by shutdown_timeout, hurried by a second SIGTERM) and on `shutdown`, and
// the reaping of daemonized grandchildren; and workers that stop on their
// own when workerd is killed.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

TEST(Stop, StopsOneInstanceAndLeavesTheOthers) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--pidfile", "@DIR@/web.{instance}.pid"]
workers = 3
start_period = "100ms"
)toml");
  ASSERT_TRUE(daemon.Start());
  // The pidfile says the worker handles SIGTERM (it exits 0 on it); being
  // `ready` alone does not prove that on a loaded machine.
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("web.0.pid")));
  Json before;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 3, "ready"); },
      "3 ready workers", kDeadline, &before));
  pid_t stopped_pid = PidOf(before, "web", 0);

  CommandResult stopped = daemon.RunCtl({"stop", "web:0"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_NE(stopped.out.find("web:0"), std::string::npos) << stopped.out;
  EXPECT_NE(stopped.out.find("stopped"), std::string::npos) << stopped.out;

  // `stop` waits until the worker has stopped.
  Json after = daemon.Status();
  EXPECT_EQ(StateOf(after, "web", 0), "stopped") << after.dump(2);
  EXPECT_EQ(PidOf(after, "web", 0), 0);
  // The test worker exits 0 on SIGTERM.
  EXPECT_EQ(Field(after, "web", 0, "last_exit")["text"], "exited successfully");
  EXPECT_TRUE(daemon.WaitReaped(stopped_pid, "the stopped worker"));
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(StateOf(after, "web", i), "ready");
    EXPECT_EQ(PidOf(after, "web", i), PidOf(before, "web", i));
  }
  // A stopped worker is not restarted by policy.
  EXPECT_EQ(Field(after, "web", 0, "restarts"), 0);

  CommandResult started = daemon.RunCtl({"start", "web:0"});
  EXPECT_EQ(started.exit_code, 0) << started.err;
  Json again = daemon.Status();
  EXPECT_EQ(StateOf(again, "web", 0), "ready");
  EXPECT_GT(PidOf(again, "web", 0), 0);
  EXPECT_NE(PidOf(again, "web", 0), stopped_pid);
}

TEST(Stop, StopTimeoutKillsTheWholeProcessGroup) {
  // The worker ignores SIGTERM and has a child in its process group that
  // ignores it too: only the SIGKILL to the group after stop_timeout ends
  // them both.
  Daemon daemon(R"toml(
[program.stubborn]
command = ["@WORKER@", "--ignore-term", "--fork-child", "@DIR@/child.pid",
           "--pidfile", "@DIR@/main.pid"]
start_period = "0s"
stop_timeout = "300ms"
)toml");
  ASSERT_TRUE(daemon.Start());
  std::optional<pid_t> child = daemon.ReadPidfile(daemon.Path("child.pid"));
  std::optional<pid_t> main = daemon.ReadPidfile(daemon.Path("main.pid"));
  ASSERT_TRUE(child && main);
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        return StateOf(s, "stubborn", 0) == "ready" &&
               PidOf(s, "stubborn", 0) == *main;
      },
      "stubborn:0 ready"));

  CommandResult stopped = daemon.RunCtl({"stop", "stubborn"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
  Json status = daemon.Status();
  EXPECT_EQ(StateOf(status, "stubborn", 0), "stopped") << status.dump(2);
  EXPECT_EQ(Field(status, "stubborn", 0, "last_exit")["text"],
            "killed by SIGKILL");

  EXPECT_TRUE(daemon.WaitReaped(*main, "the worker that ignored SIGTERM"));
  // The child was orphaned into workerd (a subreaper), which must reap it.
  EXPECT_TRUE(daemon.WaitReaped(*child, "the worker's child in its group"));
  std::string log = daemon.Log();
  EXPECT_NE(log.find("did not stop within 300ms"), std::string::npos) << log;
  EXPECT_NE(log.find("SIGKILL"), std::string::npos) << log;
}

TEST(Stop, SigtermStopsEveryWorkerAndExitsZero) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--fork-child", "@DIR@/child.{instance}.pid"]
workers = 2
start_period = "0s"
stop_timeout = "5s"
)toml");
  ASSERT_TRUE(daemon.Start());
  std::optional<pid_t> child0 = daemon.ReadPidfile(daemon.Path("child.0.pid"));
  std::optional<pid_t> child1 = daemon.ReadPidfile(daemon.Path("child.1.pid"));
  ASSERT_TRUE(child0 && child1);
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 2, "ready"); },
      "2 ready workers", kDeadline, &status));

  EXPECT_EQ(daemon.Stop(), 0);
  // The workers exit on SIGTERM; their children ignore it and must be
  // killed with the group when the workers exit.
  EXPECT_TRUE(daemon.WaitGone(PidOf(status, "web", 0), "web:0"));
  EXPECT_TRUE(daemon.WaitGone(PidOf(status, "web", 1), "web:1"));
  EXPECT_TRUE(daemon.WaitGone(*child0, "web:0's child"));
  EXPECT_TRUE(daemon.WaitGone(*child1, "web:1's child"));
  EXPECT_NE(daemon.Log().find("received SIGTERM"), std::string::npos);
  // Its socket file goes with it, so workerctl says "not running".
  EXPECT_NE(access(daemon.socket_path().c_str(), F_OK), 0)
      << daemon.socket_path() << " was left behind";
  CommandResult ctl = daemon.RunCtl({"status"});
  EXPECT_EQ(ctl.exit_code, 3) << ctl.out << ctl.err;
}

TEST(Stop, ShutdownTimeoutCutsAStubbornStopShort) {
  // stop_timeout alone would let this worker linger 30 s; the daemon's
  // shutdown_timeout ends it (and its group) after 300 ms.
  Daemon daemon(R"toml(
[daemon]
shutdown_timeout = "300ms"

[program.stubborn]
command = ["@WORKER@", "--ignore-term", "--fork-child", "@DIR@/child.pid"]
start_period = "0s"
stop_timeout = "30s"
)toml");
  ASSERT_TRUE(daemon.Start());
  std::optional<pid_t> child = daemon.ReadPidfile(daemon.Path("child.pid"));
  ASSERT_TRUE(child);
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "stubborn", 0) == "ready"; },
      "stubborn:0 ready", kDeadline, &status));

  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_TRUE(daemon.WaitGone(PidOf(status, "stubborn", 0), "stubborn:0"));
  EXPECT_TRUE(daemon.WaitGone(*child, "stubborn:0's child"));
  EXPECT_NE(daemon.Log().find("after shutdown_timeout"), std::string::npos)
      << daemon.Log();
}

TEST(Stop, WhileShuttingDownNewWorkIsRefusedAndASecondSigtermKills) {
  Daemon daemon(R"toml(
[daemon]
shutdown_timeout = "60s"

[program.stubborn]
command = ["@WORKER@", "--ignore-term", "--pidfile", "@DIR@/main.pid"]
start_period = "0s"
stop_timeout = "60s"
)toml");
  ASSERT_TRUE(daemon.Start());
  // The pidfile comes after the worker ignores SIGTERM; "ready" alone
  // (start_period 0s) could come before.
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("main.pid")));
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "stubborn", 0) == "ready"; },
      "stubborn:0 ready", kDeadline, &status));

  daemon.Signal(SIGTERM);
  // Still answering while it waits for the worker: status yes, new work no.
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "stubborn", 0) == "stopping"; },
      "stubborn:0 stopping"));
  auto refused = daemon.Call("start", {{"targets", {"stubborn"}}});
  ASSERT_TRUE(std::holds_alternative<proto::Response>(refused))
      << std::get<std::string>(refused);
  ASSERT_TRUE(std::get<proto::Response>(refused).error);
  EXPECT_EQ(std::get<proto::Response>(refused).error->code, "shutting_down");
  CommandResult ctl = daemon.RunCtl({"restart", "stubborn"});
  EXPECT_EQ(ctl.exit_code, 1) << ctl.out << ctl.err;
  EXPECT_NE(ctl.err.find("shutting down"), std::string::npos) << ctl.err;

  // The impatient second signal: everything is killed now, not in 60 s.
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.WaitForExit(), 0);
  EXPECT_TRUE(daemon.WaitGone(PidOf(status, "stubborn", 0), "stubborn:0"));
  EXPECT_NE(daemon.Log().find("received SIGTERM again"), std::string::npos)
      << daemon.Log();
}

TEST(Stop, ShutdownCommandStopsWorkersAndWorkerd) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@"]
workers = 2
start_period = "0s"
)toml");
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 2, "ready"); },
      "2 ready workers", kDeadline, &status));

  CommandResult shutdown = daemon.RunCtl({"shutdown"});
  EXPECT_EQ(shutdown.exit_code, 0) << shutdown.err;
  EXPECT_NE(shutdown.out.find("stopped 2 workers"), std::string::npos)
      << shutdown.out;
  EXPECT_EQ(daemon.WaitForExit(), 0);
  EXPECT_TRUE(daemon.WaitGone(PidOf(status, "web", 0), "web:0"));
  EXPECT_TRUE(daemon.WaitGone(PidOf(status, "web", 1), "web:1"));

  CommandResult after = daemon.RunCtl({"status"});
  EXPECT_EQ(after.exit_code, 3) << after.out << after.err;
  EXPECT_NE(after.err.find("workerd is not running"), std::string::npos)
      << after.err;
}

TEST(Stop, DaemonizedGrandchildIsReapedByWorkerd) {
  // debug: the orphan reaper says whom it reaped.
  Daemon daemon(R"toml(
[daemon]
log_level = "debug"

[program.web]
command = ["@WORKER@", "--daemonize-child", "@DIR@/grandchild.pid"]
start_period = "0s"
)toml");
  ASSERT_TRUE(daemon.Start());
  std::optional<pid_t> grandchild =
      daemon.ReadPidfile(daemon.Path("grandchild.pid"));
  ASSERT_TRUE(grandchild);

  // It exits 200 ms after starting, orphaned: unless workerd (the
  // subreaper) collects it, it stays a zombie of workerd's for good.
  EXPECT_TRUE(daemon.WaitReaped(*grandchild, "the daemonized grandchild"));
  EXPECT_TRUE(daemon.WaitForLog("reaped orphaned process " +
                                std::to_string(*grandchild)));
  // The worker that daemonized it is unaffected.
  Json status = daemon.Status();
  EXPECT_EQ(StateOf(status, "web", 0), "ready");
  EXPECT_EQ(Field(status, "web", 0, "restarts"), 0);
}

// Adopts the orphans of the test's descendants (as systemd's manager or
// PID 1 would) while it exists, so that a test can learn how they ended.
class AdoptOrphans {
 public:
  AdoptOrphans() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~AdoptOrphans() { prctl(PR_SET_CHILD_SUBREAPER, 0); }
  AdoptOrphans(const AdoptOrphans&) = delete;
  AdoptOrphans& operator=(const AdoptOrphans&) = delete;
};

// Waits for an adopted child's end: its wait status, or nullopt (and a
// failure) when it is still running after the deadline.
std::optional<int> WaitAdopted(pid_t pid, const std::string& what) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    const pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return status;
    if (reaped < 0) {
      ADD_FAILURE() << what << " (pid " << pid << ") was not adopted: "
                    << strerror(errno);
      return std::nullopt;
    }
    std::this_thread::sleep_for(Millis(5));
  }
  ADD_FAILURE() << what << " (pid " << pid << ") still runs without workerd";
  return std::nullopt;
}

TEST(Stop, WorkersGetTheirStopSignalWhenWorkerdIsKilled) {
  AdoptOrphans adopt;
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--term-exit-code", "42", "--pidfile", "@DIR@/web.{instance}.pid"]
workers = 2
start_period = "100ms"

[program.stubborn]
command = ["@WORKER@", "--ignore-term", "--pidfile", "@DIR@/stubborn.pid"]
stop_signal = "INT"
start_period = "100ms"
)toml");
  ASSERT_TRUE(daemon.Start());
  // Pidfiles: their signal handling is in place.
  auto web0 = daemon.ReadPidfile(daemon.Path("web.0.pid"));
  auto web1 = daemon.ReadPidfile(daemon.Path("web.1.pid"));
  auto stubborn = daemon.ReadPidfile(daemon.Path("stubborn.pid"));
  ASSERT_TRUE(web0 && web1 && stubborn);

  // No shutdown, no stop: workerd is gone at once.
  daemon.Signal(SIGKILL);
  EXPECT_EQ(daemon.WaitForExit(), 128 + SIGKILL);

  // The kernel signals each worker as workerd dies: web with SIGTERM (it
  // exits 42 on it), stubborn with its stop_signal, SIGINT (it ignores
  // SIGTERM; SIGINT makes it exit 0). Neither was SIGKILLed.
  for (pid_t pid : {*web0, *web1}) {
    auto status = WaitAdopted(pid, "web");
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 42)
        << "web exited with wait status " << *status;
  }
  auto status = WaitAdopted(*stubborn, "stubborn");
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "stubborn exited with wait status " << *status;
}

}  // namespace
}  // namespace workerd::e2e
