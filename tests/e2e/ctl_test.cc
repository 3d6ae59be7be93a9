// workerctl end to end: what it prints for status (table and JSON) and
// version, that restart waits for the new workers, and its usage errors.

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

constexpr const char* kWebAndJobs = R"toml(
[program.web]
command = ["@WORKER@"]
workers = 2
start_period = "0s"

[program.jobs]
command = ["@WORKER@"]
start_period = "0s"
)toml";

bool AllReady(const Json& s) {
  return AllInState(s, "web", 2, "ready") && AllInState(s, "jobs", 1, "ready");
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The table row whose first column is `name` ("web:0"), split in words.
std::vector<std::string> RowOf(const std::string& table,
                               const std::string& name) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> words = Words(line);
    if (!words.empty() && words[0] == name) return words;
  }
  return {};
}

TEST(Ctl, StatusTableShowsEveryWorker) {
  Daemon daemon(kWebAndJobs);
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(
      daemon.WaitFor(AllReady, "every worker ready", kDeadline, &status));

  CommandResult table = daemon.RunCtl({"status"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::vector<std::string> header =
      Words(table.out.substr(0, table.out.find('\n')));
  ASSERT_GE(header.size(), 3u) << table.out;
  EXPECT_EQ(header[0], "NAME");
  EXPECT_EQ(header[1], "PID");
  EXPECT_EQ(header[2], "STATE");
  for (const auto& [program, instance] :
       {std::pair{"web", 0}, std::pair{"web", 1}, std::pair{"jobs", 0}}) {
    std::string name = std::string(program) + ":" + std::to_string(instance);
    std::vector<std::string> row = RowOf(table.out, name);
    ASSERT_GE(row.size(), 3u) << "no row for " << name << " in\n" << table.out;
    EXPECT_EQ(row[1], std::to_string(PidOf(status, program, instance)))
        << table.out;
    EXPECT_EQ(row[2], "ready") << table.out;
  }

  // One instance only.
  CommandResult one = daemon.RunCtl({"status", "web:1"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_FALSE(RowOf(one.out, "web:1").empty()) << one.out;
  EXPECT_TRUE(RowOf(one.out, "web:0").empty()) << one.out;
  EXPECT_TRUE(RowOf(one.out, "jobs:0").empty()) << one.out;

  // A typo is named, with a suggestion.
  CommandResult typo = daemon.RunCtl({"status", "wbe"});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.err.find("no program named \"wbe\" (did you mean \"web\"?)"),
            std::string::npos)
      << typo.err;
}

TEST(Ctl, StatusJsonMatchesTheProtocol) {
  Daemon daemon(kWebAndJobs);
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.WaitFor(AllReady, "every worker ready"));

  // --json both before and after the subcommand.
  for (const auto& args : {std::vector<std::string>{"--json", "status"},
                           std::vector<std::string>{"status", "--json"}}) {
    CommandResult result = daemon.RunCtl(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    Json printed = Json::parse(result.out, nullptr, false);
    ASSERT_FALSE(printed.is_discarded()) << result.out;
    Json status = daemon.Status();

    ASSERT_TRUE(printed["programs"].is_array()) << result.out;
    ASSERT_EQ(printed["programs"].size(), 2u) << result.out;
    // In the order of workers.toml.
    EXPECT_EQ(printed["programs"][0]["name"], "web");
    EXPECT_EQ(printed["programs"][1]["name"], "jobs");
    for (const char* program : {"web", "jobs"}) {
      std::vector<Json> expected = Workers(status, program);
      std::vector<Json> got = Workers(printed, program);
      ASSERT_EQ(got.size(), expected.size()) << result.out;
      EXPECT_EQ(WantedOf(printed, program), WantedOf(status, program));
      for (size_t i = 0; i < got.size(); ++i) {
        for (const char* field : {"program", "instance", "state", "pid",
                                  "restarts", "last_exit", "message"}) {
          EXPECT_EQ(got[i][field], expected[i][field])
              << program << ":" << i << " " << field;
        }
        EXPECT_TRUE(got[i]["uptime_ms"].is_number_integer());
        EXPECT_TRUE(got[i]["state_ms"].is_number_integer());
      }
    }
  }
}

TEST(Ctl, VersionOfBothSides) {
  Daemon daemon(kWebAndJobs);
  ASSERT_TRUE(daemon.Start());
  auto answer = daemon.Call("version");
  ASSERT_TRUE(std::holds_alternative<proto::Response>(answer));
  Json daemon_version = std::get<proto::Response>(answer).result;
  ASSERT_TRUE(daemon_version["version"].is_string()) << daemon_version;
  EXPECT_EQ(daemon_version["protocol"], 1);
  const std::string version = daemon_version["version"];

  CommandResult text = daemon.RunCtl({"version"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  std::istringstream lines(text.out);
  std::string ctl_line;
  std::string daemon_line;
  std::getline(lines, ctl_line);
  std::getline(lines, daemon_line);
  EXPECT_EQ(Words(ctl_line),
            (std::vector<std::string>{"workerctl", version, "(protocol", "1)"}))
      << text.out;
  EXPECT_EQ(Words(daemon_line),
            (std::vector<std::string>{"workerd", version, "(protocol", "1)"}))
      << text.out;

  CommandResult json = daemon.RunCtl({"--json", "version"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  Json printed = Json::parse(json.out, nullptr, false);
  EXPECT_EQ(printed["workerd"], daemon_version) << json.out;
  EXPECT_EQ(printed["workerctl"]["version"], version) << json.out;

  CommandResult own = RunProgram({kWorkerdPath, "--version"});
  EXPECT_EQ(own.exit_code, 0);
  EXPECT_EQ(own.out, "workerd " + version + "\n");

  // workerctl's own, with no daemon asked (the socket does not exist).
  CommandResult ctl_own =
      RunProgram({kWorkerctlPath, "-s", daemon.Path("nothing.sock"), "--version"});
  EXPECT_EQ(ctl_own.exit_code, 0) << ctl_own.err;
  EXPECT_EQ(ctl_own.out, "workerctl " + version + "\n");
}

TEST(Ctl, RestartReplacesEveryWorkerAndWaitsUntilReady) {
  // A start period long enough that an answer before readiness would show.
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@"]
workers = 3
start_period = "300ms"
)toml");
  ASSERT_TRUE(daemon.Start());
  Json before;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 3, "ready"); },
      "3 ready workers", kDeadline, &before));

  CommandResult restarted = daemon.RunCtl({"restart", "web"});
  EXPECT_EQ(restarted.exit_code, 0) << restarted.out << restarted.err;
  Json after = daemon.Status();
  EXPECT_TRUE(AllInState(after, "web", 3, "ready")) << after.dump(2);
  std::set<pid_t> old_pids;
  for (int i = 0; i < 3; ++i) old_pids.insert(PidOf(before, "web", i));
  for (int i = 0; i < 3; ++i) {
    pid_t pid = PidOf(after, "web", i);
    EXPECT_GT(pid, 0);
    EXPECT_EQ(old_pids.count(pid), 0u) << "web:" << i << " kept pid " << pid;
    // workerctl printed the new pid.
    std::vector<std::string> row =
        RowOf(restarted.out, "web:" + std::to_string(i));
    ASSERT_GE(row.size(), 4u) << restarted.out;
    EXPECT_EQ(row[1], "ready") << restarted.out;
    EXPECT_EQ(row[3], std::to_string(pid)) << restarted.out;
  }
  for (pid_t pid : old_pids) {
    EXPECT_TRUE(daemon.WaitReaped(pid, "a worker replaced by restart"));
  }
}

TEST(Ctl, UsageErrorsExit2WithoutContactingWorkerd) {
  // No daemon at all: a usage error is found before connecting, so it is 2
  // and not 3 ("not running").
  TempDir dir;
  std::string socket = dir.Path("control.sock");
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {kWorkerctlPath, "-s", socket});
    return RunProgram(args);
  };
  CommandResult none = ctl({});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  CommandResult unknown = ctl({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  CommandResult no_wait = ctl({"--no-wait", "status"});
  EXPECT_EQ(no_wait.exit_code, 2) << no_wait.err;
  EXPECT_NE(no_wait.err.find("--no-wait"), std::string::npos) << no_wait.err;
  CommandResult bad_target = ctl({"stop", "web:x"});
  EXPECT_EQ(bad_target.exit_code, 2) << bad_target.err;
  EXPECT_NE(bad_target.err.find("web:x"), std::string::npos) << bad_target.err;
  CommandResult extra = ctl({"version", "web"});
  EXPECT_EQ(extra.exit_code, 2) << extra.err;
  CommandResult help = ctl({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("scale"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace workerd::e2e
