// Rolling restarts end to end: `workerctl restart` replaces the workers of a
// program one slot at a time on the same sockets, each new worker ready
// before the old one is stopped, so that HTTP clients hammering the socket
// see no failed request; a new worker that does not become ready stops the
// rollout and the old one keeps serving.
//
// Tests that change what new workers do start them through
//   /bin/sh -c 'exec @WORKER@ $(cat @DIR@/flags)'
// and rewrite the flags file between the first start and the restart
// (`exec` keeps the pid, so LISTEN_PID and READY=1 still match).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/harness_http.h"
#include "tests/support/load_checks.h"

namespace workerd::e2e {
namespace {

using std::chrono::steady_clock;

// The test worker, its flags read from @DIR@/flags at every spawn.
constexpr const char* kFlagsCommand =
    R"cmd(["/bin/sh", "-c", "exec @WORKER@ $(cat @DIR@/flags)"])cmd";
constexpr const char* kServeAndNotify = "--http --notify-ready\n";

// workers.toml: `web`, `workers` instances of `command` (a TOML array) on
// [socket.http] at 127.0.0.1:`port`, ready = "notify".
std::string WebConfig(int port, std::string_view balance, int workers,
                      std::string_view command,
                      std::string_view ready_timeout = "5s") {
  std::ostringstream toml;
  toml << "[socket.http]\n"
       << "listen = \"127.0.0.1:" << port << "\"\n"
       << "balance = \"" << balance << "\"\n\n"
       << "[program.web]\n"
       << "command = " << command << "\n"
       << "workers = " << workers << "\n"
       << "sockets = [\"http\"]\n"
       << "ready = \"notify\"\n"
       << "ready_timeout = \"" << ready_timeout << "\"\n"
       << "stop_timeout = \"5s\"\n";
  return toml.str();
}

std::vector<pid_t> SlotPids(const Json& status, int workers) {
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) pids.push_back(PidOf(status, "web", i));
  return pids;
}

// Whether `status` shows exactly `workers` rows for web, all ready and none
// in a hand-over.
bool SettledReady(const Json& status, int workers) {
  if (!AllInState(status, "web", workers, "ready")) return false;
  std::vector<Json> rows = Workers(status, "web");
  if (static_cast<int>(rows.size()) != workers) return false;
  for (const Json& row : rows) {
    if (!row["handover"].is_null()) return false;
  }
  return true;
}

// Starts the daemon and waits until every worker of web is ready and
// answers HTTP; the slots' pids, or empty (with a failure).
std::vector<pid_t> StartServing(Daemon& daemon, int workers,
                                const HttpTarget& target) {
  if (!daemon.Start()) return {};
  Json status;
  if (!daemon.WaitFor([&](const Json& s) { return SettledReady(s, workers); },
                      std::to_string(workers) + " ready web workers", kDeadline,
                      &status)) {
    return {};
  }
  if (!WaitForHttp(target)) {
    ADD_FAILURE() << "nothing answers HTTP on " << target.ToString();
    return {};
  }
  return SlotPids(status, workers);
}

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream lines(text);
  for (std::string got; std::getline(lines, got);) {
    if (got == line) return true;
  }
  return false;
}

// `extra_flags` go to the test worker, e.g. "--http-delay 20".
void RollUnderLoad(std::string_view balance, bool keep_alive,
                   std::string_view extra_flags) {
  constexpr int kWorkers = 4;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  std::string command = R"(["@WORKER@", "--http", "--notify-ready")";
  std::istringstream extra{std::string(extra_flags)};
  for (std::string flag; extra >> flag;) command += ", \"" + flag + "\"";
  command += "]";
  Daemon daemon(WebConfig(port, balance, kWorkers, command));
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  LoadLoop load(target, 4, keep_alive);
  ASSERT_TRUE(WaitForRequests(load, 0, 50));
  const int before = load.requests();
  CommandResult restart = daemon.RunCtl({"restart", "web"});
  const int during = load.requests() - before;
  // Some answers from the new workers only, after the rollout.
  const bool more = WaitForRequests(load, load.requests(), 50);
  LoadResult result = load.Stop();
  ReportLoad(result);
  std::cout << "[   LOAD   ] " << during << " answers during the rollout"
            << std::endl;
  ASSERT_TRUE(more);

  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_EQ(result.failed, 0) << DescribeLoad(result);
  EXPECT_GE(result.ok, 100) << DescribeLoad(result);
  EXPECT_GT(during, 0) << "no request was answered during the rollout";

  Json status = daemon.Status();
  ASSERT_TRUE(SettledReady(status, kWorkers)) << status.dump(2);
  std::vector<pid_t> new_pids = SlotPids(status, kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    SCOPED_TRACE("web:" + std::to_string(i));
    const std::string slot = "web:" + std::to_string(i);
    const std::string old_pid = std::to_string(old_pids[i]);
    const std::string new_pid = std::to_string(new_pids[i]);
    EXPECT_GT(new_pids[i], 0);
    EXPECT_NE(new_pids[i], old_pids[i]);
    for (pid_t old : old_pids) EXPECT_NE(new_pids[i], old);
    // Every step of every slot, in the order of the slots.
    const std::string done = "[" + std::to_string(i) + "/4] ";
    const std::string next = "[" + std::to_string(i + 1) + "/4] ";
    EXPECT_TRUE(HasLine(restart.out, done + slot + ": starting pid " + new_pid +
                                         " to replace pid " + old_pid))
        << restart.out;
    EXPECT_TRUE(HasLine(restart.out, done + slot + ": pid " + new_pid +
                                         " is ready; stopping pid " + old_pid))
        << restart.out;
    EXPECT_TRUE(HasLine(restart.out,
                        next + slot + ": replaced: pid " + new_pid + " serves"))
        << restart.out;
    EXPECT_TRUE(daemon.WaitReaped(old_pids[i], "the old worker of " + slot));
  }
  EXPECT_TRUE(HasLine(restart.out, "web: 4 of 4 workers replaced"))
      << restart.out;
  EXPECT_LT(restart.out.find("[0/4] web:0"), restart.out.find("[3/4] web:3"))
      << restart.out;

  // Clients were served by the old workers and then by the new ones.
  std::set<pid_t> answered = AnsweringPids(result);
  bool old_answered = false;
  bool new_answered = false;
  for (pid_t pid : old_pids) old_answered = old_answered || answered.count(pid);
  for (pid_t pid : new_pids) new_answered = new_answered || answered.count(pid);
  EXPECT_TRUE(old_answered) << "no answer from an old worker";
  EXPECT_TRUE(new_answered) << "no answer from a new worker";
  for (pid_t pid : answered) {
    bool known = false;
    for (pid_t p : old_pids) known = known || p == pid;
    for (pid_t p : new_pids) known = known || p == pid;
    EXPECT_TRUE(known) << "pid " << pid << " answered but is no worker";
  }
}

TEST(RollingRestart, NoRequestFailsWhileEveryWorkerIsReplaced) {
  RollUnderLoad("shared", /*keep_alive=*/false, "");
}

TEST(RollingRestart, KeepAliveRequestsInFlightAreAnsweredByTheOldWorker) {
  // Every request takes 20 ms, so the old workers get SIGTERM with
  // requests in flight on kept-alive connections.
  RollUnderLoad("shared", /*keep_alive=*/true, "--http-delay 20");
}

TEST(RollingRestart, NoRequestFailsWithReuseportListeners) {
  RollUnderLoad("reuseport", /*keep_alive=*/false, "");
}

TEST(RollingRestart, NoRequestFailsWithReuseportAndKeepAlive) {
  RollUnderLoad("reuseport", /*keep_alive=*/true, "--http-delay 20");
}

// The slots' workers are the same processes, alive and ready, with no
// hand-over row left.
void ExpectOldWorkersServing(Daemon& daemon, const std::vector<pid_t>& pids) {
  const int workers = static_cast<int>(pids.size());
  Json status;
  EXPECT_TRUE(daemon.WaitFor(
      [&](const Json& s) { return SettledReady(s, workers); },
      "web's workers ready and no new worker left", kDeadline, &status));
  EXPECT_EQ(SlotPids(status, workers), pids) << status.dump(2);
  EXPECT_EQ(Workers(status, "web").size(), pids.size()) << status.dump(2);
  for (pid_t pid : pids) {
    EXPECT_EQ(::kill(pid, 0), 0) << "pid " << pid << " is gone";
    EXPECT_NE(ProcessState(pid), std::optional<char>('Z'));
  }
}

TEST(RollingRestart, NewWorkerThatExitsStopsTheRolloutAndOldOnesKeepServing) {
  constexpr int kWorkers = 3;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(WebConfig(port, "shared", kWorkers, kFlagsCommand));
  daemon.dir().Write("flags", kServeAndNotify);
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  // New workers die before they are ready (without touching the socket).
  daemon.dir().Write("flags", "--exit-after 50 --exit-code 3\n");
  LoadLoop load(target, 4, /*keep_alive=*/false);
  ASSERT_TRUE(WaitForRequests(load, 0, 20));
  CommandResult restart = daemon.RunCtl({"restart", "web"});
  ASSERT_TRUE(WaitForRequests(load, load.requests(), 20));
  LoadResult result = load.Stop();
  ReportLoad(result);

  EXPECT_EQ(restart.exit_code, 1) << restart.out << restart.err;
  const std::string old0 = std::to_string(old_pids[0]);
  const std::string prefix = "workerctl: the new worker for web:0 failed: pid ";
  const std::string suffix = std::string(" exited with status 3 before it ") +
                             "was ready; the old worker (pid " + old0 +
                             ") keeps serving\n";
  EXPECT_EQ(restart.err.rfind(prefix, 0), 0u) << restart.err;
  EXPECT_NE(restart.err.find(suffix), std::string::npos) << restart.err;
  EXPECT_TRUE(HasLine(restart.out, "web: 0 of 3 workers replaced"))
      << restart.out;
  EXPECT_EQ(restart.out.find("web:1:"), std::string::npos)
      << "the rollout went on past the failed slot:\n"
      << restart.out;
  EXPECT_EQ(result.failed, 0) << DescribeLoad(result);
  ExpectOldWorkersServing(daemon, old_pids);
  EXPECT_TRUE(
      daemon.WaitForLog("web: rolling restart stopped after 0 of 3 workers"));

  // Nothing of the failed rollout is left over: once new workers can
  // start, a restart goes through.
  daemon.dir().Write("flags", kServeAndNotify);
  CommandResult again = daemon.RunCtl({"restart", "web"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_TRUE(HasLine(again.out, "web: 3 of 3 workers replaced")) << again.out;
  Json status = daemon.Status();
  EXPECT_TRUE(SettledReady(status, kWorkers)) << status.dump(2);
  for (int i = 0; i < kWorkers; ++i) {
    EXPECT_NE(PidOf(status, "web", i), old_pids[i]);
  }
}

TEST(RollingRestart, NewWorkerThatCannotBeStartedStopsTheRollout) {
  constexpr int kWorkers = 2;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  // The program is a symlink the test removes once the workers run.
  Daemon daemon(WebConfig(port, "shared", kWorkers,
                          R"(["@DIR@/worker", "--http", "--notify-ready"])"));
  const std::string link = daemon.Path("worker");
  ASSERT_EQ(::symlink(kTestWorkerPath, link.c_str()), 0);
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  ASSERT_EQ(::unlink(link.c_str()), 0);
  LoadLoop load(target, 4, /*keep_alive=*/false);
  ASSERT_TRUE(WaitForRequests(load, 0, 20));
  CommandResult restart = daemon.RunCtl({"restart", "web"});
  ASSERT_TRUE(WaitForRequests(load, load.requests(), 20));
  LoadResult result = load.Stop();
  ReportLoad(result);

  EXPECT_EQ(restart.exit_code, 1) << restart.out << restart.err;
  EXPECT_EQ(
      restart.err.rfind("workerctl: the new worker for web:0 failed: ", 0), 0u)
      << restart.err;
  EXPECT_NE(restart.err.find(link), std::string::npos) << restart.err;
  EXPECT_NE(restart.err.find("; the old worker (pid " +
                             std::to_string(old_pids[0]) + ") keeps serving"),
            std::string::npos)
      << restart.err;
  EXPECT_EQ(result.failed, 0) << DescribeLoad(result);
  ExpectOldWorkersServing(daemon, old_pids);
}

TEST(RollingRestart, NewWorkerWithoutReadyIsGivenUpAfterReadyTimeout) {
  constexpr int kWorkers = 2;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(WebConfig(port, "shared", kWorkers, kFlagsCommand, "500ms"));
  daemon.dir().Write("flags", kServeAndNotify);
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  // New workers run but never send READY=1. They stay off the socket: a
  // worker killed for not becoming ready would take the connections it
  // accepted with it.
  daemon.dir().Write("flags", "--print never-ready\n");
  LoadLoop load(target, 4, /*keep_alive=*/false);
  ASSERT_TRUE(WaitForRequests(load, 0, 20));
  const auto started = steady_clock::now();
  CommandResult restart = daemon.RunCtl({"restart", "web"});
  const auto took =
      std::chrono::duration_cast<Millis>(steady_clock::now() - started);
  ASSERT_TRUE(WaitForRequests(load, load.requests(), 20));
  LoadResult result = load.Stop();
  ReportLoad(result);

  EXPECT_EQ(restart.exit_code, 1) << restart.out << restart.err;
  EXPECT_EQ(
      restart.err.rfind("workerctl: the new worker for web:0 failed: ", 0), 0u)
      << restart.err;
  EXPECT_NE(restart.err.find("sent no READY=1 within 500ms"), std::string::npos)
      << restart.err;
  EXPECT_NE(restart.err.find("; the old worker (pid " +
                             std::to_string(old_pids[0]) + ") keeps serving"),
            std::string::npos)
      << restart.err;
  EXPECT_GE(took.count(), 500) << "given up before ready_timeout";
  EXPECT_EQ(result.failed, 0) << DescribeLoad(result);
  ExpectOldWorkersServing(daemon, old_pids);
}

TEST(RollingRestart, StatusShowsOldAndNewWorkerDuringTheHandover) {
  constexpr int kWorkers = 2;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(WebConfig(port, "shared", kWorkers, kFlagsCommand));
  daemon.dir().Write("flags", kServeAndNotify);
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  daemon.dir().Write("flags", "--http --ready-after 1500\n");
  CommandResult restart = daemon.RunCtl({"restart", "--no-wait", "web:0"});
  ASSERT_EQ(restart.exit_code, 0) << restart.out << restart.err;

  // Both workers of slot 0, the old one first; slot 1 as it was.
  auto handover_rows = [&](const Json& s) {
    std::vector<Json> rows = Workers(s, "web");
    return rows.size() == 3 && rows[0]["instance"] == 0 &&
           rows[0]["handover"] == "old" && rows[1]["instance"] == 0 &&
           rows[1]["handover"] == "new" && rows[1]["pid"].is_number();
  };
  Json during;
  ASSERT_TRUE(
      daemon.WaitFor(handover_rows, "two rows for web:0", kDeadline, &during));
  std::vector<Json> rows = Workers(during, "web");
  EXPECT_EQ(PidOf(rows[0]), old_pids[0]) << during.dump(2);
  EXPECT_EQ(rows[0]["state"], "ready") << during.dump(2);
  const pid_t new_pid = PidOf(rows[1]);
  EXPECT_NE(new_pid, old_pids[0]);
  EXPECT_EQ(rows[1]["state"], "starting") << during.dump(2);
  EXPECT_EQ(rows[2]["instance"], 1);
  EXPECT_TRUE(rows[2]["handover"].is_null()) << during.dump(2);
  EXPECT_EQ(PidOf(rows[2]), old_pids[1]);

  // workerctl shows them as "web:0 (old)" and "web:0 (new)".
  CommandResult table = daemon.RunCtl({"status"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("web:0 (old)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("web:0 (new)"), std::string::npos) << table.out;

  Json after;
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        return SettledReady(s, kWorkers) && PidOf(s, "web", 0) == new_pid;
      },
      "the new worker to take slot 0 alone", kDeadline, &after));
  EXPECT_EQ(PidOf(after, "web", 1), old_pids[1]) << after.dump(2);
  EXPECT_TRUE(daemon.WaitReaped(old_pids[0], "the old worker of web:0"));
}

TEST(RollingRestart, AllRestartsEveryWorkerAtOnce) {
  constexpr int kWorkers = 3;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(WebConfig(port, "shared", kWorkers,
                          R"(["@WORKER@", "--http", "--notify-ready"])"));
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  CommandResult restart = daemon.RunCtl({"restart", "--all", "web"});
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  // No rollout: no progress lines, and the answer comes when every worker
  // is ready again.
  EXPECT_EQ(restart.out.find("replaced"), std::string::npos) << restart.out;
  Json status = daemon.Status();
  EXPECT_TRUE(SettledReady(status, kWorkers)) << status.dump(2);
  for (int i = 0; i < kWorkers; ++i) {
    EXPECT_NE(PidOf(status, "web", i), old_pids[i]) << status.dump(2);
    EXPECT_TRUE(daemon.WaitReaped(old_pids[i], "an old worker"));
  }
  EXPECT_TRUE(WaitForHttp(target));
}

TEST(RollingRestart, NoWaitAnswersBeforeTheRolloutEnds) {
  constexpr int kWorkers = 3;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(WebConfig(port, "shared", kWorkers, kFlagsCommand));
  daemon.dir().Write("flags", kServeAndNotify);
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  // Each new worker takes 300 ms: the rollout takes at least 900 ms.
  daemon.dir().Write("flags", "--http --ready-after 300\n");
  const auto started = steady_clock::now();
  CommandResult restart = daemon.RunCtl({"restart", "--no-wait", "web"});
  const auto took =
      std::chrono::duration_cast<Millis>(steady_clock::now() - started);
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_EQ(restart.out.find("replaced"), std::string::npos) << restart.out;
  Json status = daemon.Status();
  EXPECT_EQ(PidOf(status, "web", kWorkers - 1), old_pids[kWorkers - 1])
      << "the last slot was replaced before --no-wait answered (took "
      << took.count() << " ms)\n"
      << status.dump(2);

  Json after;
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        if (!SettledReady(s, kWorkers)) return false;
        for (int i = 0; i < kWorkers; ++i) {
          if (PidOf(s, "web", i) == old_pids[i]) return false;
        }
        return true;
      },
      "every slot replaced", kDeadline, &after));
  EXPECT_TRUE(
      daemon.WaitForLog("web: rolling restart done (3 of 3 workers replaced)"));
}

TEST(RollingRestart, SecondRestartDuringARolloutIsBusy) {
  constexpr int kWorkers = 2;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(WebConfig(port, "shared", kWorkers, kFlagsCommand));
  daemon.dir().Write("flags", kServeAndNotify);
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  daemon.dir().Write("flags", "--http --ready-after 1000\n");
  CommandResult first = daemon.RunCtl({"restart", "--no-wait", "web"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;

  for (const auto& args :
       {std::vector<std::string>{"restart", "web"},
        std::vector<std::string>{"restart", "web:1"},
        std::vector<std::string>{"restart", "--all", "web"}}) {
    CommandResult second = daemon.RunCtl(args);
    EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
    EXPECT_EQ(second.err.rfind("workerctl: web is in the middle of a rolling "
                               "restart (",
                               0),
              0u)
        << second.err;
    EXPECT_NE(second.err.find(" of 2 workers replaced); wait for it to "
                              "finish, or stop web\n"),
              std::string::npos)
        << second.err;
  }
  CommandResult json = daemon.RunCtl({"--json", "restart", "web"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  Json answer = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << json.out;
  EXPECT_EQ(answer["error"]["code"], "busy") << json.out;

  // The first rollout is not disturbed by the refused ones.
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        return SettledReady(s, kWorkers) && PidOf(s, "web", 0) != old_pids[0] &&
               PidOf(s, "web", 1) != old_pids[1];
      },
      "both slots replaced"));
  EXPECT_TRUE(
      daemon.WaitForLog("web: rolling restart done (2 of 2 workers replaced)"));
}

TEST(RollingRestart, OneInstanceReplacesOnlyItsSlot) {
  constexpr int kWorkers = 4;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(WebConfig(port, "shared", kWorkers,
                          R"(["@WORKER@", "--http", "--notify-ready"])"));
  const HttpTarget target = TcpTarget(port);
  std::vector<pid_t> old_pids = StartServing(daemon, kWorkers, target);
  ASSERT_EQ(old_pids.size(), static_cast<size_t>(kWorkers));

  CommandResult restart = daemon.RunCtl({"restart", "web:2"});
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  Json status = daemon.Status();
  ASSERT_TRUE(SettledReady(status, kWorkers)) << status.dump(2);
  const std::string new_pid = std::to_string(PidOf(status, "web", 2));
  EXPECT_TRUE(HasLine(restart.out, "[0/1] web:2: pid " + new_pid +
                                       " is ready; stopping pid " +
                                       std::to_string(old_pids[2])))
      << restart.out;
  EXPECT_TRUE(HasLine(restart.out, "web: 1 of 1 workers replaced"))
      << restart.out;
  for (int i = 0; i < kWorkers; ++i) {
    if (i == 2) {
      EXPECT_NE(PidOf(status, "web", i), old_pids[i]);
    } else {
      EXPECT_EQ(PidOf(status, "web", i), old_pids[i]) << "web:" << i;
      EXPECT_EQ(Field(status, "web", i, "restarts"), 0) << "web:" << i;
    }
  }
  EXPECT_TRUE(daemon.WaitReaped(old_pids[2], "the old worker of web:2"));
}

}  // namespace
}  // namespace workerd::e2e
