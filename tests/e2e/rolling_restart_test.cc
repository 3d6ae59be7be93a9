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
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/harness_http.h"
#include "tests/support/load_checks.h"

namespace workerd::e2e {
namespace {

// The test worker serving HTTP and sending READY=1 once it does.
constexpr const char* kServeCommand =
    R"(["@WORKER@", "--http", "--notify-ready"])";
// The test worker, its flags read from @DIR@/flags at every spawn.
constexpr const char* kFlagsCommand =
    R"cmd(["/bin/sh", "-c", "exec @WORKER@ $(cat @DIR@/flags)"])cmd";
constexpr const char* kServeAndNotify = "--http --notify-ready\n";
// How workerctl's error for a failed first slot of a rollout starts.
constexpr const char* kSlot0Failed =
    "workerctl: the new worker for web:0 failed: ";

// workers.toml: `web`, `workers` instances of `command` (a TOML array) on
// [socket.http] at 127.0.0.1:`port`, ready = "notify".
std::string WebConfig(int port, std::string_view balance, int workers,
                      std::string_view command,
                      std::string_view ready_timeout) {
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

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream lines(text);
  for (std::string got; std::getline(lines, got);) {
    if (got == line) return true;
  }
  return false;
}

// One workerd serving HTTP with the program web; old_pids_ are its slots'
// workers before the test restarts them. The steps add fatal failures:
// call them in ASSERT_NO_FATAL_FAILURE.
class RollingRestart : public ::testing::Test {
 protected:
  // Writes workers.toml: `workers` instances of `command` on a free port.
  void Configure(int workers, std::string_view command,
                 std::string_view balance = "shared",
                 std::string_view ready_timeout = "5s") {
    workers_ = workers;
    const int port = FreePort();
    ASSERT_GT(port, 0);
    target_ = TcpTarget(port);
    daemon_.emplace(WebConfig(port, balance, workers, command, ready_timeout));
  }

  // Starts workerd and waits until every worker of web is ready and
  // answers HTTP.
  void StartServing() {
    ASSERT_TRUE(daemon_->Start());
    Json status;
    ASSERT_TRUE(daemon_->WaitFor(
        [&](const Json& s) { return SettledReady(s, workers_); },
        std::to_string(workers_) + " ready web workers", kDeadline, &status));
    ASSERT_TRUE(WaitForHttp(target_))
        << "nothing answers HTTP on " << target_.ToString();
    old_pids_ = SlotPids(status, workers_);
  }

  // Configure, then StartServing.
  void Serve(int workers, std::string_view command) {
    ASSERT_NO_FATAL_FAILURE(Configure(workers, command));
    ASSERT_NO_FATAL_FAILURE(StartServing());
  }

  // Serves with kFlagsCommand, the first workers with kServeAndNotify.
  void ServeWithFlags(int workers, std::string_view ready_timeout = "5s") {
    ASSERT_NO_FATAL_FAILURE(
        Configure(workers, kFlagsCommand, "shared", ready_timeout));
    SetFlags(kServeAndNotify);
    ASSERT_NO_FATAL_FAILURE(StartServing());
  }

  // The flags of the workers spawned from now on.
  void SetFlags(std::string_view flags) {
    daemon_->dir().Write("flags", flags);
  }

  // `workerctl restart web` while four clients send requests; nullopt,
  // with a failure, when the clients are not answered.
  std::optional<LoadedCommand> RestartUnderLoad(bool keep_alive, int answers) {
    return RunCtlUnderLoad(*daemon_, {"restart", "web"}, target_, keep_alive,
                           answers);
  }

  // Whether every slot has a new worker and is settled.
  bool EverySlotReplaced(const Json& status) const {
    if (!SettledReady(status, workers_)) return false;
    for (int i = 0; i < workers_; ++i) {
      if (PidOf(status, "web", i) == old_pids_[i]) return false;
    }
    return true;
  }

  // The slots' workers are the same processes, alive and ready, with no
  // hand-over row left.
  void ExpectOldWorkersServing() {
    Json status;
    EXPECT_TRUE(daemon_->WaitFor(
        [&](const Json& s) { return SettledReady(s, workers_); },
        "web's workers ready and no new worker left", kDeadline, &status));
    EXPECT_EQ(SlotPids(status, workers_), old_pids_) << status.dump(2);
    EXPECT_EQ(Workers(status, "web").size(), old_pids_.size())
        << status.dump(2);
    for (pid_t pid : old_pids_) {
      EXPECT_EQ(::kill(pid, 0), 0) << "pid " << pid << " is gone";
      EXPECT_NE(ProcessState(pid), std::optional<char>('Z'));
    }
  }

  // The restart failed at web:0, whose old worker keeps serving as every
  // other slot's does, and no client saw a failure.
  void ExpectStoppedAtSlot0(const LoadedCommand& restart) {
    const CommandResult& result = restart.result;
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_EQ(result.err.rfind(kSlot0Failed, 0), 0u) << result.err;
    EXPECT_NE(result.err.find("; the old worker (pid " +
                              std::to_string(old_pids_[0]) + ") keeps serving"),
              std::string::npos)
        << result.err;
    EXPECT_EQ(restart.load.failed, 0) << DescribeLoad(restart.load);
    ExpectOldWorkersServing();
  }

  // `extra_flags` go to the test worker, e.g. "--http-delay 20".
  void RollUnderLoad(std::string_view balance, bool keep_alive,
                     std::string_view extra_flags);

  int workers_ = 0;
  HttpTarget target_;
  std::optional<Daemon> daemon_;
  std::vector<pid_t> old_pids_;
};

void RollingRestart::RollUnderLoad(std::string_view balance, bool keep_alive,
                                   std::string_view extra_flags) {
  constexpr int kWorkers = 4;
  std::string command = R"(["@WORKER@", "--http", "--notify-ready")";
  std::istringstream extra{std::string(extra_flags)};
  for (std::string flag; extra >> flag;) command += ", \"" + flag + "\"";
  command += "]";
  ASSERT_NO_FATAL_FAILURE(Configure(kWorkers, command, balance));
  ASSERT_NO_FATAL_FAILURE(StartServing());

  // Some answers from the new workers only, after the rollout.
  std::optional<LoadedCommand> rollout = RestartUnderLoad(keep_alive, 50);
  ASSERT_TRUE(rollout);
  std::cout << "[   LOAD   ] " << rollout->during
            << " answers during the rollout" << std::endl;
  const CommandResult& restart = rollout->result;
  const LoadResult& result = rollout->load;

  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_EQ(result.failed, 0) << DescribeLoad(result);
  EXPECT_GE(result.ok, 100) << DescribeLoad(result);
  EXPECT_GT(rollout->during, 0) << "no request was answered during the rollout";

  Json status = daemon_->Status();
  ASSERT_TRUE(SettledReady(status, kWorkers)) << status.dump(2);
  std::vector<pid_t> new_pids = SlotPids(status, kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    SCOPED_TRACE("web:" + std::to_string(i));
    const std::string slot = "web:" + std::to_string(i);
    const std::string old_pid = std::to_string(old_pids_[i]);
    const std::string new_pid = std::to_string(new_pids[i]);
    EXPECT_GT(new_pids[i], 0);
    EXPECT_NE(new_pids[i], old_pids_[i]);
    for (pid_t old : old_pids_) EXPECT_NE(new_pids[i], old);
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
    EXPECT_TRUE(daemon_->WaitReaped(old_pids_[i], "the old worker of " + slot));
  }
  EXPECT_TRUE(HasLine(restart.out, "web: 4 of 4 workers replaced"))
      << restart.out;
  EXPECT_LT(restart.out.find("[0/4] web:0"), restart.out.find("[3/4] web:3"))
      << restart.out;

  // Clients were served by the old workers and then by the new ones.
  ExpectOldAndNewAnswered(result, old_pids_, new_pids, "worker");
  for (pid_t pid : AnsweringPids(result)) {
    bool known = false;
    for (pid_t p : old_pids_) known = known || p == pid;
    for (pid_t p : new_pids) known = known || p == pid;
    EXPECT_TRUE(known) << "pid " << pid << " answered but is no worker";
  }
}

TEST_F(RollingRestart, NoRequestFailsWhileEveryWorkerIsReplaced) {
  RollUnderLoad("shared", /*keep_alive=*/false, "");
}

TEST_F(RollingRestart, KeepAliveRequestsInFlightAreAnsweredByTheOldWorker) {
  // Every request takes 20 ms, so the old workers get SIGTERM with
  // requests in flight on kept-alive connections.
  RollUnderLoad("shared", /*keep_alive=*/true, "--http-delay 20");
}

TEST_F(RollingRestart, NoRequestFailsWithReuseportListeners) {
  RollUnderLoad("reuseport", /*keep_alive=*/false, "");
}

TEST_F(RollingRestart, NoRequestFailsWithReuseportAndKeepAlive) {
  RollUnderLoad("reuseport", /*keep_alive=*/true, "--http-delay 20");
}

TEST_F(RollingRestart, NewWorkerThatExitsStopsTheRolloutAndOldOnesKeepServing) {
  ASSERT_NO_FATAL_FAILURE(ServeWithFlags(3));

  // New workers die before they are ready (without touching the socket).
  SetFlags("--exit-after 50 --exit-code 3\n");
  std::optional<LoadedCommand> restart =
      RestartUnderLoad(/*keep_alive=*/false, 20);
  ASSERT_TRUE(restart);

  const CommandResult& result = restart->result;
  const std::string old0 = std::to_string(old_pids_[0]);
  const std::string prefix = std::string(kSlot0Failed) + "pid ";
  const std::string suffix = std::string(" exited with status 3 before it ") +
                             "was ready; the old worker (pid " + old0 +
                             ") keeps serving\n";
  EXPECT_EQ(result.err.rfind(prefix, 0), 0u) << result.err;
  EXPECT_NE(result.err.find(suffix), std::string::npos) << result.err;
  EXPECT_TRUE(HasLine(result.out, "web: 0 of 3 workers replaced"))
      << result.out;
  EXPECT_EQ(result.out.find("web:1:"), std::string::npos)
      << "the rollout went on past the failed slot:\n"
      << result.out;
  ExpectStoppedAtSlot0(*restart);
  EXPECT_TRUE(
      daemon_->WaitForLog("web: rolling restart stopped after 0 of 3 workers"));

  // Nothing of the failed rollout is left over: once new workers can
  // start, a restart goes through.
  SetFlags(kServeAndNotify);
  CommandResult again = daemon_->RunCtl({"restart", "web"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_TRUE(HasLine(again.out, "web: 3 of 3 workers replaced")) << again.out;
  Json status = daemon_->Status();
  EXPECT_TRUE(SettledReady(status, workers_)) << status.dump(2);
  for (int i = 0; i < workers_; ++i) {
    EXPECT_NE(PidOf(status, "web", i), old_pids_[i]);
  }
}

TEST_F(RollingRestart, NewWorkerThatCannotBeStartedStopsTheRollout) {
  // The program is a symlink the test removes once the workers run.
  ASSERT_NO_FATAL_FAILURE(
      Configure(2, R"(["@DIR@/worker", "--http", "--notify-ready"])"));
  const std::string link = daemon_->Path("worker");
  ASSERT_EQ(::symlink(kTestWorkerPath, link.c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(StartServing());

  ASSERT_EQ(::unlink(link.c_str()), 0);
  std::optional<LoadedCommand> restart =
      RestartUnderLoad(/*keep_alive=*/false, 20);
  ASSERT_TRUE(restart);

  EXPECT_NE(restart->result.err.find(link), std::string::npos)
      << restart->result.err;
  ExpectStoppedAtSlot0(*restart);
}

TEST_F(RollingRestart, NewWorkerWithoutReadyIsGivenUpAfterReadyTimeout) {
  ASSERT_NO_FATAL_FAILURE(ServeWithFlags(2, "500ms"));

  // New workers run but never send READY=1. They stay off the socket: a
  // worker killed for not becoming ready would take the connections it
  // accepted with it.
  SetFlags("--print never-ready\n");
  std::optional<LoadedCommand> restart =
      RestartUnderLoad(/*keep_alive=*/false, 20);
  ASSERT_TRUE(restart);

  EXPECT_NE(restart->result.err.find("sent no READY=1 within 500ms"),
            std::string::npos)
      << restart->result.err;
  EXPECT_GE(restart->took.count(), 500) << "given up before ready_timeout";
  ExpectStoppedAtSlot0(*restart);
}

TEST_F(RollingRestart, StatusShowsOldAndNewWorkerDuringTheHandover) {
  ASSERT_NO_FATAL_FAILURE(ServeWithFlags(2));

  SetFlags("--http --ready-after 1500\n");
  CommandResult restart = daemon_->RunCtl({"restart", "--no-wait", "web:0"});
  ASSERT_EQ(restart.exit_code, 0) << restart.out << restart.err;

  // Both workers of slot 0, the old one first; slot 1 as it was.
  auto handover_rows = [&](const Json& s) {
    std::vector<Json> rows = Workers(s, "web");
    return rows.size() == 3 && rows[0]["instance"] == 0 &&
           rows[0]["handover"] == "old" && rows[1]["instance"] == 0 &&
           rows[1]["handover"] == "new" && rows[1]["pid"].is_number();
  };
  Json during;
  ASSERT_TRUE(daemon_->WaitFor(handover_rows, "two rows for web:0", kDeadline,
                               &during));
  std::vector<Json> rows = Workers(during, "web");
  EXPECT_EQ(PidOf(rows[0]), old_pids_[0]) << during.dump(2);
  EXPECT_EQ(rows[0]["state"], "ready") << during.dump(2);
  const pid_t new_pid = PidOf(rows[1]);
  EXPECT_NE(new_pid, old_pids_[0]);
  EXPECT_EQ(rows[1]["state"], "starting") << during.dump(2);
  EXPECT_EQ(rows[2]["instance"], 1);
  EXPECT_TRUE(rows[2]["handover"].is_null()) << during.dump(2);
  EXPECT_EQ(PidOf(rows[2]), old_pids_[1]);

  // workerctl shows them as "web:0 (old)" and "web:0 (new)".
  CommandResult table = daemon_->RunCtl({"status"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("web:0 (old)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("web:0 (new)"), std::string::npos) << table.out;

  Json after;
  ASSERT_TRUE(daemon_->WaitFor(
      [&](const Json& s) {
        return SettledReady(s, workers_) && PidOf(s, "web", 0) == new_pid;
      },
      "the new worker to take slot 0 alone", kDeadline, &after));
  EXPECT_EQ(PidOf(after, "web", 1), old_pids_[1]) << after.dump(2);
  EXPECT_TRUE(daemon_->WaitReaped(old_pids_[0], "the old worker of web:0"));
}

TEST_F(RollingRestart, AllRestartsEveryWorkerAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Serve(3, kServeCommand));

  CommandResult restart = daemon_->RunCtl({"restart", "--all", "web"});
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  // No rollout: no progress lines, and the answer comes when every worker
  // is ready again.
  EXPECT_EQ(restart.out.find("replaced"), std::string::npos) << restart.out;
  Json status = daemon_->Status();
  EXPECT_TRUE(SettledReady(status, workers_)) << status.dump(2);
  for (int i = 0; i < workers_; ++i) {
    EXPECT_NE(PidOf(status, "web", i), old_pids_[i]) << status.dump(2);
    EXPECT_TRUE(daemon_->WaitReaped(old_pids_[i], "an old worker"));
  }
  EXPECT_TRUE(WaitForHttp(target_));
}

TEST_F(RollingRestart, NoWaitAnswersBeforeTheRolloutEnds) {
  ASSERT_NO_FATAL_FAILURE(ServeWithFlags(3));

  // Each new worker takes 300 ms: the rollout takes at least 900 ms.
  SetFlags("--http --ready-after 300\n");
  const auto started = std::chrono::steady_clock::now();
  CommandResult restart = daemon_->RunCtl({"restart", "--no-wait", "web"});
  const auto took = std::chrono::duration_cast<Millis>(
      std::chrono::steady_clock::now() - started);
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_EQ(restart.out.find("replaced"), std::string::npos) << restart.out;
  Json status = daemon_->Status();
  EXPECT_EQ(PidOf(status, "web", workers_ - 1), old_pids_[workers_ - 1])
      << "the last slot was replaced before --no-wait answered (took "
      << took.count() << " ms)\n"
      << status.dump(2);

  ASSERT_TRUE(
      daemon_->WaitFor([&](const Json& s) { return EverySlotReplaced(s); },
                       "every slot replaced"));
  EXPECT_TRUE(daemon_->WaitForLog(
      "web: rolling restart done (3 of 3 workers replaced)"));
}

TEST_F(RollingRestart, SecondRestartDuringARolloutIsBusy) {
  ASSERT_NO_FATAL_FAILURE(ServeWithFlags(2));

  SetFlags("--http --ready-after 1000\n");
  CommandResult first = daemon_->RunCtl({"restart", "--no-wait", "web"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;

  for (const auto& args :
       {std::vector<std::string>{"restart", "web"},
        std::vector<std::string>{"restart", "web:1"},
        std::vector<std::string>{"restart", "--all", "web"}}) {
    CommandResult second = daemon_->RunCtl(args);
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
  CommandResult json = daemon_->RunCtl({"--json", "restart", "web"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  Json answer = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << json.out;
  EXPECT_EQ(answer["error"]["code"], "busy") << json.out;

  // The first rollout is not disturbed by the refused ones.
  ASSERT_TRUE(
      daemon_->WaitFor([&](const Json& s) { return EverySlotReplaced(s); },
                       "both slots replaced"));
  EXPECT_TRUE(daemon_->WaitForLog(
      "web: rolling restart done (2 of 2 workers replaced)"));
}

TEST_F(RollingRestart, OneInstanceReplacesOnlyItsSlot) {
  ASSERT_NO_FATAL_FAILURE(Serve(4, kServeCommand));

  CommandResult restart = daemon_->RunCtl({"restart", "web:2"});
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  Json status = daemon_->Status();
  ASSERT_TRUE(SettledReady(status, workers_)) << status.dump(2);
  const std::string new_pid = std::to_string(PidOf(status, "web", 2));
  EXPECT_TRUE(HasLine(restart.out, "[0/1] web:2: pid " + new_pid +
                                       " is ready; stopping pid " +
                                       std::to_string(old_pids_[2])))
      << restart.out;
  EXPECT_TRUE(HasLine(restart.out, "web: 1 of 1 workers replaced"))
      << restart.out;
  for (int i = 0; i < workers_; ++i) {
    if (i == 2) {
      EXPECT_NE(PidOf(status, "web", i), old_pids_[i]);
    } else {
      EXPECT_EQ(PidOf(status, "web", i), old_pids_[i]) << "web:" << i;
      EXPECT_EQ(Field(status, "web", i, "restarts"), 0) << "web:" << i;
    }
  }
  EXPECT_TRUE(daemon_->WaitReaped(old_pids_[2], "the old worker of web:2"));
}

}  // namespace
}  // namespace workerd::e2e
