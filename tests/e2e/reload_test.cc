// Live reload end to end: `workerctl reload` (and SIGHUP) make workerd read
// workers.toml again and apply the difference. New programs start, removed
// ones stop and leave status, changed ones roll onto new processes that see
// the new definition, scaled ones scale, and untouched ones keep their
// processes; a kept socket serves throughout; a file that does not load,
// or a port that cannot be bound, changes nothing at all.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/harness_http.h"
#include "tests/support/load_checks.h"

namespace workerd::e2e {
namespace {

constexpr const char* kNotReloaded =
    "workerctl: workers.toml was not reloaded; workerd keeps running its "
    "current configuration\n";

// Five programs: one to keep, one whose stop_timeout changes, one whose
// command and env change, one to scale and one to remove.
constexpr const char* kBefore = R"toml(
[program.keep]
command = ["@WORKER@"]
start_period = "100ms"

[program.tune]
command = ["@WORKER@"]
start_period = "100ms"
stop_timeout = "5s"

[program.change]
command = ["@WORKER@", "--report", "@DIR@/change.{instance}.v1"]
workers = 2
start_period = "100ms"
env = { VERSION = "1" }

[program.grow]
command = ["@WORKER@"]
start_period = "100ms"

[program.old]
command = ["@WORKER@", "--pidfile", "@DIR@/old.{instance}.pid"]
workers = 2
start_period = "100ms"
)toml";

// kBefore with every change made, and the program `fresh` added.
constexpr const char* kAfter = R"toml(
[program.keep]
command = ["@WORKER@"]
start_period = "100ms"

[program.tune]
command = ["@WORKER@"]
start_period = "100ms"
stop_timeout = "6s"

[program.change]
command = ["@WORKER@", "--report", "@DIR@/change.{instance}.v2", "--", "v2"]
workers = 2
start_period = "100ms"
env = { VERSION = "2" }

[program.grow]
command = ["@WORKER@"]
workers = 3
start_period = "100ms"

[program.fresh]
command = ["@WORKER@", "--pidfile", "@DIR@/fresh.pid"]
start_period = "100ms"
)toml";

// What `workerctl reload` says about kBefore -> kAfter, progress aside.
constexpr const char* kAfterReloaded =
    "keep: unchanged\n"
    "tune: updated (stop_timeout)\n"
    "change: rolled (command, env)\n"
    "grow: scaled 1 -> 3\n"
    "fresh: started\n"
    "old: stopped\n";

// Two workers serving HTTP on [socket.http], which Socket() declares.
constexpr const char* kWeb = R"toml(
[program.web]
command = ["@WORKER@", "--http", "--notify-ready"]
workers = 2
sockets = ["http"]
ready = "notify"
stop_timeout = "5s"
)toml";

std::string Socket(std::string_view name, int port) {
  std::ostringstream toml;
  toml << "\n[socket." << name << "]\nlisten = \"127.0.0.1:" << port << "\"\n";
  return toml.str();
}

// A program serving HTTP on the socket of the same name.
std::string HttpProgram(std::string_view name) {
  std::ostringstream toml;
  toml << "\n[program." << name << "]\n"
       << "command = [\"@WORKER@\", \"--http\", \"--notify-ready\"]\n"
       << "sockets = [\"" << name << "\"]\n"
       << "ready = \"notify\"\n";
  return toml.str();
}

// `text` without the rolling restart's progress lines ("[1/2] web:1: ...").
std::string WithoutProgress(const std::string& text) {
  std::istringstream lines(text);
  std::string kept;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '[') continue;
    kept += line + "\n";
  }
  return kept;
}

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream lines(text);
  for (std::string got; std::getline(lines, got);) {
    if (got == line) return true;
  }
  return false;
}

// The 1-based number of the first line of `path` that contains `text`; 0
// when none does.
int LineOf(const std::string& path, std::string_view text) {
  std::istringstream lines(ReadFile(path));
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.find(text) != std::string::npos) return number;
  }
  return 0;
}

// Whether every program named has `count` instances, all ready.
bool AllReady(const Json& status,
              std::initializer_list<std::pair<std::string_view, int>> wanted) {
  for (const auto& [program, count] : wanted) {
    if (!AllInState(status, program, count, "ready")) return false;
    if (static_cast<int>(Workers(status, program).size()) != count) {
      return false;
    }
  }
  return true;
}

// "program:instance" -> pid, for every worker in `status`.
std::map<std::string, pid_t> Pids(const Json& status) {
  std::map<std::string, pid_t> pids;
  if (!status.is_object() || !status.contains("programs")) return pids;
  for (const Json& program : status["programs"]) {
    for (const Json& worker : program["instances"]) {
      pids[program["name"].get<std::string>() + ":" +
           std::to_string(worker["instance"].get<int>())] = PidOf(worker);
    }
  }
  return pids;
}

// Starts `daemon` and waits until the programs named are ready; `status`
// gets the status that showed it.
bool StartReady(Daemon& daemon,
                std::initializer_list<std::pair<std::string_view, int>> wanted,
                Json* status) {
  return daemon.Start() &&
         daemon.WaitFor([&](const Json& s) { return AllReady(s, wanted); },
                        "every program ready", kDeadline, status);
}

bool StartBefore(Daemon& daemon, Json* status) {
  return StartReady(
      daemon,
      {{"keep", 1}, {"tune", 1}, {"change", 2}, {"grow", 1}, {"old", 2}},
      status);
}

// A TCP port on 127.0.0.1 that the test listens on, so workerd cannot.
class TakenPort {
 public:
  TakenPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) !=
            0) {
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~TakenPort() { Release(); }
  TakenPort(const TakenPort&) = delete;
  TakenPort& operator=(const TakenPort&) = delete;

  int port() const { return port_; }  // 0 when it could not be set up
  void Release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Polls until a connection to `target` is refused.
bool WaitForRefusal(const HttpTarget& target, Millis deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::string last;
  while (std::chrono::steady_clock::now() < until) {
    auto answer = HttpGet(target, "/", Millis(1000));
    if (auto* why = std::get_if<std::string>(&answer)) {
      last = *why;
      if (why->find("Connection refused") != std::string::npos) return true;
    } else {
      last = "answered " + std::to_string(std::get<HttpAnswer>(answer).status);
    }
    std::this_thread::sleep_for(Millis(20));  // polling, not a proof
  }
  ADD_FAILURE() << target.ToString() << " still accepts connections: " << last;
  return false;
}

TEST(Reload, AddsRemovesRollsAndScalesPrograms) {
  Daemon daemon(kBefore);
  Json before;
  ASSERT_TRUE(StartBefore(daemon, &before));
  ASSERT_TRUE(WaitForReport(daemon.Path("change.0.v1")));
  ASSERT_TRUE(WaitForReport(daemon.Path("change.1.v1")));
  // Signal handling in place: old's workers stop gracefully.
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("old.0.pid")));
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("old.1.pid")));

  daemon.RewriteConfig(kAfter);
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(WithoutProgress(reload.out), kAfterReloaded) << reload.out;
  EXPECT_EQ(reload.err, "");

  // With waiting, everything has settled when reload answers.
  Json after = daemon.Status();
  EXPECT_TRUE(AllReady(
      after,
      {{"keep", 1}, {"tune", 1}, {"change", 2}, {"grow", 3}, {"fresh", 1}}))
      << after.dump(2);
  EXPECT_EQ(FindProgram(after, "old"), nullptr) << after.dump(2);
  EXPECT_EQ(WantedOf(after, "grow"), 3);

  // Untouched, and updated in place: the same processes.
  EXPECT_EQ(PidOf(after, "keep", 0), PidOf(before, "keep", 0));
  EXPECT_EQ(PidOf(after, "tune", 0), PidOf(before, "tune", 0));
  EXPECT_EQ(PidOf(after, "grow", 0), PidOf(before, "grow", 0));

  // Rolled: new processes that run the new command with the new env.
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("change:" + std::to_string(i));
    const pid_t old_pid = PidOf(before, "change", i);
    const pid_t new_pid = PidOf(after, "change", i);
    EXPECT_NE(new_pid, old_pid);
    std::optional<Report> report =
        WaitForReport(daemon.Path("change." + std::to_string(i) + ".v2"));
    ASSERT_TRUE(report);
    EXPECT_EQ((*report)["pid"], std::to_string(new_pid));
    EXPECT_EQ((*report)["env.VERSION"], "2");
    EXPECT_EQ((*report)["argc"], "5");
    EXPECT_EQ((*report)["argv4"], "v2");
    EXPECT_TRUE(daemon.WaitReaped(old_pid, "the old worker"));
    EXPECT_TRUE(HasLine(
        reload.out, "[" + std::to_string(i) + "/2] change:" +
                        std::to_string(i) + ": pid " + std::to_string(new_pid) +
                        " is ready; stopping pid " + std::to_string(old_pid)))
        << reload.out;
  }

  // Removed: its workers are gone, gracefully.
  const std::string log = daemon.Log();
  for (int i = 0; i < 2; ++i) {
    const pid_t pid = PidOf(before, "old", i);
    EXPECT_TRUE(ProcessGone(pid)) << "old:" << i << " outlived the reload";
    EXPECT_TRUE(daemon.WaitReaped(pid, "old:" + std::to_string(i)));
    EXPECT_NE(log.find("pid " + std::to_string(pid) + " exited successfully"),
              std::string::npos)
        << "old:" << i << " (pid " << pid << ") did not stop gracefully\n"
        << log;
  }
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("fresh.pid")));

  // Reloading the same file again changes nothing.
  CommandResult again = daemon.RunCtl({"reload"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.out,
            "keep: unchanged\ntune: unchanged\nchange: unchanged\n"
            "grow: unchanged\nfresh: unchanged\n");
  EXPECT_EQ(Pids(daemon.Status()), Pids(after));
}

TEST(Reload, DryRunReportsThePlanAndChangesNothing) {
  Daemon daemon(kBefore);
  Json before;
  ASSERT_TRUE(StartBefore(daemon, &before));

  daemon.RewriteConfig(kAfter);
  CommandResult dry_run = daemon.RunCtl({"reload", "--dry-run"});
  EXPECT_EQ(dry_run.exit_code, 0) << dry_run.out << dry_run.err;
  EXPECT_EQ(dry_run.out,
            "dry run: nothing was changed\n"
            "keep: unchanged\n"
            "tune: would update (stop_timeout)\n"
            "change: would roll (command, env)\n"
            "grow: would scale 1 -> 3\n"
            "fresh: would start\n"
            "old: would stop\n");
  EXPECT_EQ(dry_run.err, "");

  // The same plan over the protocol.
  auto answer = daemon.Call("reload", {{"dry_run", true}});
  ASSERT_TRUE(std::holds_alternative<proto::Response>(answer))
      << std::get<std::string>(answer);
  const proto::Response& response = std::get<proto::Response>(answer);
  ASSERT_TRUE(response.ok) << proto::EncodeResponse(response);
  const Json& plan = response.result;
  EXPECT_EQ(plan["dry_run"], true);
  EXPECT_EQ(plan["config"], daemon.config_path());
  ASSERT_EQ(plan["programs"].size(), 6u) << plan.dump(2);
  const Json& change = plan["programs"][2];
  EXPECT_EQ(change["name"], "change");
  EXPECT_EQ(change["action"], "rolled");
  EXPECT_EQ(change["changes"], Json::parse(R"(["command", "env"])"));
  EXPECT_EQ(change["from"], 2);
  EXPECT_EQ(change["to"], 2);
  EXPECT_EQ(change["ok"], true);
  const Json& grow = plan["programs"][3];
  EXPECT_EQ(grow["action"], "scaled") << plan.dump(2);
  EXPECT_EQ(grow["from"], 1);
  EXPECT_EQ(grow["to"], 3);
  EXPECT_EQ(plan["programs"][5]["name"], "old");
  EXPECT_EQ(plan["programs"][5]["to"], 0);
  EXPECT_EQ(plan["sockets"], Json::array());
  EXPECT_EQ(plan["warnings"], Json::array());

  // Nothing was started, stopped or replaced.
  Json after = daemon.Status();
  EXPECT_EQ(Pids(after), Pids(before)) << after.dump(2);
  EXPECT_TRUE(AllReady(
      after,
      {{"keep", 1}, {"tune", 1}, {"change", 2}, {"grow", 1}, {"old", 2}}))
      << after.dump(2);
  EXPECT_EQ(FindProgram(after, "fresh"), nullptr);
  EXPECT_EQ(WantedOf(after, "grow"), 1);
  EXPECT_NE(access(daemon.Path("fresh.pid").c_str(), F_OK), 0);
  EXPECT_NE(access(daemon.Path("change.0.v2").c_str(), F_OK), 0);

  // A dry run leaves the plan to the real reload.
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(WithoutProgress(reload.out), kAfterReloaded) << reload.out;
}

// With kBefore running (`before` its status) and its file rewritten into
// one that does not load: reload, reload --dry-run and the protocol's
// reload fail with exactly `expected_errors` (lines, each ending in '\n'),
// and nothing changes.
void ExpectBrokenFileChangesNothing(Daemon& daemon, const Json& before,
                                    const std::string& expected_errors) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"reload"},
        std::vector<std::string>{"reload", "--dry-run"}}) {
    CommandResult reload = daemon.RunCtl(args);
    EXPECT_EQ(reload.exit_code, 1) << reload.out << reload.err;
    EXPECT_EQ(reload.out, "");
    EXPECT_EQ(reload.err, expected_errors + kNotReloaded);
  }

  auto answer = daemon.Call("reload");
  ASSERT_TRUE(std::holds_alternative<proto::Response>(answer))
      << std::get<std::string>(answer);
  const proto::Response& response = std::get<proto::Response>(answer);
  EXPECT_FALSE(response.ok);
  ASSERT_TRUE(response.error);
  EXPECT_EQ(response.error->code, "config_invalid");
  std::string joined;
  for (const Json& error : response.result["errors"]) {
    joined += error.get<std::string>() + "\n";
  }
  EXPECT_EQ(joined, expected_errors) << proto::EncodeResponse(response);
  EXPECT_EQ(response.error->message + "\n", expected_errors);

  Json after = daemon.Status();
  EXPECT_EQ(Pids(after), Pids(before)) << after.dump(2);
  EXPECT_TRUE(AllReady(
      after,
      {{"keep", 1}, {"tune", 1}, {"change", 2}, {"grow", 1}, {"old", 2}}))
      << after.dump(2);
  EXPECT_EQ(FindProgram(after, "fresh"), nullptr);
  EXPECT_EQ(WantedOf(after, "grow"), 1);
}

TEST(Reload, SyntaxErrorChangesNothing) {
  Daemon daemon(kBefore);
  Json before;
  ASSERT_TRUE(StartBefore(daemon, &before));

  daemon.RewriteConfig(std::string(kAfter) + "\n[program.broken\n");
  const int line = LineOf(daemon.config_path(), "[program.broken");
  ASSERT_GT(line, 0);
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 1) << reload.out << reload.err;
  // toml++ chooses the column and the words; the position is ours.
  const std::string position =
      daemon.config_path() + ":" + std::to_string(line) + ":";
  EXPECT_EQ(reload.err.rfind(position, 0), 0u) << reload.err;
  const std::size_t first_end = reload.err.find('\n');
  ASSERT_NE(first_end, std::string::npos) << reload.err;
  ExpectBrokenFileChangesNothing(daemon, before,
                                 reload.err.substr(0, first_end + 1));
}

TEST(Reload, UnknownKeysChangeNothingAndEveryOneIsReported) {
  Daemon daemon(kBefore);
  Json before;
  ASSERT_TRUE(StartBefore(daemon, &before));

  std::string broken = kAfter;
  broken.insert(broken.find("workers = 3\n"), "worker = 3\n");
  broken += "stop_timout = \"5s\"\n";
  daemon.RewriteConfig(broken);
  const std::string path = daemon.config_path();
  const int first = LineOf(path, "worker = 3");
  const int second = LineOf(path, "stop_timout");
  ASSERT_GT(first, 0);
  ASSERT_GT(second, first);
  ExpectBrokenFileChangesNothing(
      daemon, before,
      path + ":" + std::to_string(first) +
          ":1: unknown key \"worker\" in [program.grow] (did you mean "
          "\"workers\"?)\n" +
          path + ":" + std::to_string(second) +
          ":1: unknown key \"stop_timout\" in [program.fresh] (did you mean "
          "\"stop_timeout\"?)\n");
}

TEST(Reload, SighupReloads) {
  Daemon daemon(kBefore);
  Json before;
  ASSERT_TRUE(StartBefore(daemon, &before));

  daemon.RewriteConfig(kAfter);
  daemon.Signal(SIGHUP);
  Json after;
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        return FindProgram(s, "old") == nullptr &&
               AllReady(s, {{"keep", 1},
                            {"tune", 1},
                            {"grow", 3},
                            {"fresh", 1},
                            {"change", 2}}) &&
               PidOf(s, "change", 1) != PidOf(before, "change", 1) &&
               PidOf(s, "change", 0) != PidOf(before, "change", 0);
      },
      "kAfter applied after SIGHUP", kDeadline, &after));
  EXPECT_EQ(PidOf(after, "keep", 0), PidOf(before, "keep", 0));
  EXPECT_EQ(PidOf(after, "grow", 0), PidOf(before, "grow", 0));
  std::optional<Report> report = WaitForReport(daemon.Path("change.1.v2"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["env.VERSION"], "2");
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(daemon.WaitReaped(PidOf(before, "old", i), "old's worker"));
    EXPECT_TRUE(
        daemon.WaitReaped(PidOf(before, "change", i), "change's old worker"));
  }

  // A broken file on SIGHUP: logged, nothing changed, workerd runs on.
  std::string broken = kAfter;
  broken += "stop_timout = \"5s\"\n";
  daemon.RewriteConfig(broken);
  const int line = LineOf(daemon.config_path(), "stop_timout");
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(daemon.WaitForLog(
      daemon.config_path() + ":" + std::to_string(line) +
      ":1: unknown key \"stop_timout\" in [program.fresh] (did you mean "
      "\"stop_timeout\"?)"));
  ASSERT_TRUE(daemon.running());
  Json unchanged = daemon.Status();
  EXPECT_EQ(Pids(unchanged), Pids(after)) << unchanged.dump(2);
}

TEST(Reload, AChangedProgramRollsEverySlotScaledAtRuntime) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--report", "@DIR@/web.{instance}.v1"]
start_period = "100ms"
)toml");
  ASSERT_TRUE(daemon.Start());
  CommandResult scale = daemon.RunCtl({"scale", "web=3"});
  ASSERT_EQ(scale.exit_code, 0) << scale.out << scale.err;
  Json before;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 3, "ready"); },
      "3 ready workers", kDeadline, &before));

  // The file still says one worker; the three running are all replaced.
  daemon.RewriteConfig(R"toml(
[program.web]
command = ["@WORKER@", "--report", "@DIR@/web.{instance}.v2"]
start_period = "100ms"
)toml");
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  Json after = daemon.Status();
  ASSERT_EQ(WantedOf(after, "web"), 3) << after.dump(2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(PidOf(after, "web", i), PidOf(before, "web", i)) << i;
    EXPECT_TRUE(WaitForReport(daemon.Path("web." + std::to_string(i) + ".v2")))
        << "web:" << i << " runs the old command";
  }
}

TEST(Reload, KeptSocketServesWithoutRefusalWhileItsProgramRolls) {
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string config =
      Socket("http", port) + kWeb + "env = { VERSION = \"1\" }\n";
  Daemon daemon(config);
  Json before;
  ASSERT_TRUE(StartReady(daemon, {{"web", 2}}, &before));
  const HttpTarget target = TcpTarget(port);
  ASSERT_TRUE(WaitForHttp(target));
  const std::vector<pid_t> old_pids = SlotPids(before, 2);

  daemon.RewriteConfig(Socket("http", port) + kWeb +
                       "env = { VERSION = \"2\" }\n");
  std::optional<LoadedCommand> reload =
      RunCtlUnderLoad(daemon, {"reload"}, target, /*keep_alive=*/false, 50);
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->result.exit_code, 0)
      << reload->result.out << reload->result.err;
  // The socket is unchanged, so it has no line.
  EXPECT_EQ(WithoutProgress(reload->result.out), "web: rolled (env)\n")
      << reload->result.out;
  EXPECT_EQ(reload->load.failed, 0) << DescribeLoad(reload->load);
  EXPECT_GT(reload->during, 0) << "no request was answered during the reload";

  Json after = daemon.Status();
  ASSERT_TRUE(SettledReady(after, 2)) << after.dump(2);
  const std::vector<pid_t> new_pids = SlotPids(after, 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NE(new_pids[i], old_pids[0]);
    EXPECT_NE(new_pids[i], old_pids[1]);
    EXPECT_TRUE(daemon.WaitReaped(old_pids[i], "an old worker of web"));
  }
  ExpectOldAndNewAnswered(reload->load, old_pids, new_pids, "worker");
}

TEST(Reload, NewSocketIsServedByANewProgram) {
  const int web_port = FreePort();
  const int admin_port = FreePort();
  ASSERT_GT(web_port, 0);
  ASSERT_GT(admin_port, 0);
  ASSERT_NE(web_port, admin_port);
  Daemon daemon(Socket("http", web_port) + kWeb);
  Json before;
  ASSERT_TRUE(StartReady(daemon, {{"web", 2}}, &before));

  daemon.RewriteConfig(Socket("http", web_port) + kWeb +
                       Socket("admin", admin_port) + HttpProgram("admin"));
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(reload.out,
            "web: unchanged\n"
            "admin: started\n"
            "socket admin: added\n");
  EXPECT_EQ(reload.err, "");

  // Ready means serving: no need to wait any longer.
  Json after = daemon.Status();
  ASSERT_TRUE(AllReady(after, {{"web", 2}, {"admin", 1}})) << after.dump(2);
  EXPECT_EQ(SlotPids(after, 2), SlotPids(before, 2));
  auto answer = HttpGet(TcpTarget(admin_port));
  ASSERT_TRUE(std::holds_alternative<HttpAnswer>(answer))
      << std::get<std::string>(answer);
  EXPECT_EQ(std::get<HttpAnswer>(answer).status, 200);
  EXPECT_EQ(
      std::get<HttpAnswer>(answer).body,
      "instance=0 pid=" + std::to_string(PidOf(after, "admin", 0)) + "\n");
  EXPECT_TRUE(WaitForHttp(TcpTarget(web_port)));
}

TEST(Reload, RemovedProgramsSocketRefusesOnceItsWorkersAreGone) {
  const int web_port = FreePort();
  const int admin_port = FreePort();
  ASSERT_GT(web_port, 0);
  ASSERT_GT(admin_port, 0);
  ASSERT_NE(web_port, admin_port);
  Daemon daemon(Socket("http", web_port) + kWeb + Socket("admin", admin_port) +
                HttpProgram("admin"));
  Json before;
  ASSERT_TRUE(StartReady(daemon, {{"web", 2}, {"admin", 1}}, &before));
  const HttpTarget admin = TcpTarget(admin_port);
  ASSERT_TRUE(WaitForHttp(admin));
  const pid_t admin_pid = PidOf(before, "admin", 0);

  daemon.RewriteConfig(Socket("http", web_port) + kWeb);
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(reload.out,
            "web: unchanged\n"
            "admin: stopped\n"
            "socket admin: removed\n");
  EXPECT_EQ(reload.err, "");

  // The workers are gone when reload answers; then the port closes.
  EXPECT_TRUE(ProcessGone(admin_pid)) << "admin outlived the reload";
  EXPECT_TRUE(daemon.WaitReaped(admin_pid, "admin:0"));
  Json after = daemon.Status();
  EXPECT_EQ(FindProgram(after, "admin"), nullptr) << after.dump(2);
  EXPECT_EQ(SlotPids(after, 2), SlotPids(before, 2));
  EXPECT_TRUE(WaitForRefusal(admin));
  EXPECT_TRUE(WaitForHttp(TcpTarget(web_port)));
}

TEST(Reload, PortInUseAbortsWithNothingChanged) {
  const int web_port = FreePort();
  ASSERT_GT(web_port, 0);
  TakenPort taken;
  ASSERT_GT(taken.port(), 0);
  const std::string jobs = R"toml(
[program.jobs]
command = ["@WORKER@"]
start_period = "100ms"
)toml";
  Daemon daemon(Socket("http", web_port) + kWeb + jobs);
  Json before;
  ASSERT_TRUE(StartReady(daemon, {{"web", 2}, {"jobs", 1}}, &before));

  // Scale web, remove jobs, add admin on a port that is taken.
  std::string scaled = kWeb;
  scaled.replace(scaled.find("workers = 2"), 11, "workers = 3");
  const std::string wanted = Socket("http", web_port) + scaled +
                             Socket("admin", taken.port()) +
                             HttpProgram("admin");
  daemon.RewriteConfig(wanted);
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 1) << reload.out << reload.err;
  EXPECT_EQ(reload.out, "");
  const std::string address = "127.0.0.1:" + std::to_string(taken.port());
  EXPECT_EQ(reload.err.rfind("workerctl: socket \"admin\": cannot listen on " +
                                 address + ": Address already in use",
                             0),
            0u)
      << reload.err;
  EXPECT_NE(reload.err.find("nothing was changed"), std::string::npos)
      << reload.err;

  Json after = daemon.Status();
  EXPECT_EQ(Pids(after), Pids(before)) << after.dump(2);
  EXPECT_TRUE(AllReady(after, {{"web", 2}, {"jobs", 1}})) << after.dump(2);
  EXPECT_EQ(WantedOf(after, "web"), 2);
  EXPECT_EQ(FindProgram(after, "admin"), nullptr);

  // Nothing of it was left half done: once the port is free, it applies.
  taken.Release();
  CommandResult again = daemon.RunCtl({"reload"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.out,
            "web: scaled 2 -> 3\n"
            "admin: started\n"
            "jobs: stopped\n"
            "socket admin: added\n");
  Json applied = daemon.Status();
  EXPECT_TRUE(AllReady(applied, {{"web", 3}, {"admin", 1}})) << applied.dump(2);
  EXPECT_EQ(FindProgram(applied, "jobs"), nullptr);
  EXPECT_TRUE(WaitForHttp(TcpTarget(taken.port())));
}

TEST(Reload, NoWaitAnswersBeforeTheRolloutEnds) {
  const int port = FreePort();
  ASSERT_GT(port, 0);
  Daemon daemon(Socket("http", port) + kWeb);
  Json before;
  ASSERT_TRUE(StartReady(daemon, {{"web", 2}}, &before));

  // Each new worker takes 500 ms to be ready: the rollout at least 1 s.
  std::string slow = kWeb;
  slow.replace(slow.find("\"--notify-ready\""), 16,
               "\"--ready-after\", \"500\"");
  daemon.RewriteConfig(Socket("http", port) + slow);
  CommandResult reload = daemon.RunCtl({"reload", "--no-wait"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(reload.out, "web: rolled (command)\n");
  Json status = daemon.Status();
  EXPECT_EQ(PidOf(status, "web", 1), PidOf(before, "web", 1))
      << "the last slot was replaced before --no-wait answered\n"
      << status.dump(2);

  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        return SettledReady(s, 2) &&
               PidOf(s, "web", 0) != PidOf(before, "web", 0) &&
               PidOf(s, "web", 1) != PidOf(before, "web", 1);
      },
      "both slots replaced"));
}

TEST(Reload, ControlSettingsWaitForARestart) {
  const std::string program = R"toml(
[program.web]
command = ["@WORKER@"]
start_period = "100ms"
)toml";
  Daemon daemon("[daemon]\n" + program);
  Json before;
  ASSERT_TRUE(StartReady(daemon, {{"web", 1}}, &before));

  daemon.RewriteConfig("[daemon]\ncontrol_mode = \"0600\"\n" + program);
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(reload.out, "web: unchanged\n");
  EXPECT_EQ(reload.err,
            "workerctl: warning: [daemon] control_mode changed; it takes "
            "effect when workerd restarts\n");
  // The control socket is the same one, still answering.
  EXPECT_EQ(Pids(daemon.Status()), Pids(before));
}

TEST(Reload, FailedRolloutFailsTheReloadAndTheOtherChangesStand) {
  const std::string jobs = R"toml(
[program.jobs]
command = ["@WORKER@"]
start_period = "100ms"
)toml";
  const std::string web = R"toml(
[program.web]
command = ["@WORKER@", "--notify-ready"]
workers = 2
ready = "notify"
)toml";
  Daemon daemon(web + jobs);
  Json before;
  ASSERT_TRUE(StartReady(daemon, {{"web", 2}, {"jobs", 1}}, &before));

  // New web workers exit before they are ready; jobs scales.
  std::string failing = web;
  failing.replace(failing.find("\"--notify-ready\""), 16,
                  "\"--exit-after\", \"50\", \"--exit-code\", \"3\"");
  std::string scaled = jobs + "workers = 2\n";
  daemon.RewriteConfig(failing + scaled);
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 1) << reload.out << reload.err;
  const std::string old0 = std::to_string(PidOf(before, "web", 0));
  const std::string out = WithoutProgress(reload.out);
  const std::string web_line =
      "web: rolled (command); failed: the new worker "
      "for web:0 failed: pid ";
  EXPECT_EQ(out.rfind(web_line, 0), 0u) << reload.out;
  EXPECT_NE(out.find(" exited with status 3 before it was ready; the old "
                     "worker (pid " +
                     old0 + ") keeps serving\njobs: scaled 1 -> 2\n"),
            std::string::npos)
      << reload.out;
  EXPECT_EQ(reload.err.rfind("workerctl: web: the new worker for web:0 "
                             "failed: pid ",
                             0),
            0u)
      << reload.err;

  Json after;
  EXPECT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return AllReady(s, {{"web", 2}, {"jobs", 2}});
      },
      "web's old workers and two jobs", kDeadline, &after));
  EXPECT_EQ(PidOf(after, "web", 0), PidOf(before, "web", 0));
  EXPECT_EQ(PidOf(after, "web", 1), PidOf(before, "web", 1));
  EXPECT_EQ(PidOf(after, "jobs", 0), PidOf(before, "jobs", 0));
}

}  // namespace
}  // namespace workerd::e2e
