// `workerctl logs` end to end: the last lines from memory across a
// restart, filters, following live output across a restart over the raw
// protocol, and a follower that never reads, which must be cut off without
// slowing workerd, its supervision or the workers.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/log_lines.h"

namespace workerd::e2e {
namespace {

// The pid a `--print-pid` worker printed, from a log line's text.
std::string PidLine(pid_t pid) { return "pid " + std::to_string(pid); }

TEST(Logs, LastLinesComeFromMemoryAcrossARestart) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--print-pid", "--print-err", "warning {instance}"]
workers = 2
start_period = "0s"
log = "inherit"
)toml");
  ASSERT_TRUE(daemon.Start());
  Json before;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 2, "ready"); },
      "2 ready workers", kDeadline, &before));
  const pid_t first = PidOf(before, "web", 0);
  ASSERT_TRUE(daemon.WaitForLog("web:0 stdout: " + PidLine(first)));
  ASSERT_TRUE(daemon.WaitForLog("web:0 stderr: warning 0"));

  ASSERT_EQ(daemon.RunCtl({"restart", "web:0"}).exit_code, 0);
  const pid_t second = PidOf(daemon.Status(), "web", 0);
  ASSERT_NE(second, first);
  ASSERT_TRUE(daemon.WaitForLog("web:0 stdout: " + PidLine(second)));

  // Instance 0's stdout: the old process's line, then the new one's.
  CommandResult out = daemon.RunCtl({"logs", "web:0", "--stdout"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  std::vector<LogLine> lines = ParseLogLines(out.out, /*timestamps=*/true);
  ASSERT_EQ(lines.size(), 2u) << out.out;
  EXPECT_EQ(lines[0].text, PidLine(first));
  EXPECT_EQ(lines[1].text, PidLine(second));
  for (const LogLine& line : lines) {
    EXPECT_EQ(line.program, "web");
    EXPECT_EQ(line.instance, 0);
    EXPECT_EQ(line.stream, "stdout");
  }

  // -n 1: only the newest; --stderr: only stderr; the whole program
  // without a filter.
  CommandResult newest = daemon.RunCtl({"logs", "web:0", "-n", "1"});
  ASSERT_EQ(newest.exit_code, 0) << newest.err;
  lines = ParseLogLines(newest.out, true);
  ASSERT_EQ(lines.size(), 1u) << newest.out;
  EXPECT_EQ(lines[0].stream, "stderr");
  EXPECT_EQ(lines[0].text, "warning 0");

  CommandResult errors = daemon.RunCtl({"logs", "web", "--stderr"});
  ASSERT_EQ(errors.exit_code, 0) << errors.err;
  lines = ParseLogLines(errors.out, true);
  EXPECT_EQ(lines.size(), 3u) << errors.out;  // 0, 1, and 0 again
  for (const LogLine& line : lines) EXPECT_EQ(line.stream, "stderr");

  CommandResult all = daemon.RunCtl({"logs", "web"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(ParseLogLines(all.out, true).size(), 6u) << all.out;

  // JSON lines for scripts.
  CommandResult json = daemon.RunCtl({"--json", "logs", "web:1", "--stdout"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const std::vector<std::string> objects = SplitLines(json.out);
  ASSERT_EQ(objects.size(), 1u) << json.out;
  const Json line = Json::parse(objects[0]);
  EXPECT_EQ(line["program"], "web");
  EXPECT_EQ(line["instance"], 1);
  EXPECT_EQ(line["stream"], "stdout");
  EXPECT_EQ(line["text"], PidLine(PidOf(before, "web", 1)));
  EXPECT_TRUE(IsRfc3339Millis(line["time"].get<std::string>()));
}

TEST(Logs, UnknownTargetsAndBadArgumentsAreRefused) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@"]
log = "inherit"
)toml");
  ASSERT_TRUE(daemon.Start());
  CommandResult typo = daemon.RunCtl({"logs", "wbe"});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.err.find("no program named \"wbe\" (did you mean \"web\"?)"),
            std::string::npos)
      << typo.err;
  CommandResult none = daemon.RunCtl({"logs"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  auto two = daemon.Call("logs", {{"targets", {"web", "web:0"}}});
  ASSERT_TRUE(std::holds_alternative<proto::Response>(two));
  EXPECT_EQ(std::get<proto::Response>(two).error->code, "invalid_argument");
  auto bad_lines = daemon.Call("logs", {{"targets", {"web"}}, {"lines", -1}});
  ASSERT_TRUE(std::holds_alternative<proto::Response>(bad_lines));
  EXPECT_EQ(std::get<proto::Response>(bad_lines).error->code,
            "invalid_argument");
}

// Reads responses of a `logs` request from `connection` until one has a
// line whose text is `text`; false at EOF or the deadline.
bool ReadUntilText(RawConnection& connection, const std::string& text) {
  while (true) {
    std::optional<std::string> raw = connection.ReadLine();
    if (!raw) return false;
    const Json response = Json::parse(*raw);
    EXPECT_TRUE(response["ok"].get<bool>()) << *raw;
    if (!response["ok"].get<bool>()) return false;
    for (const Json& line : response["result"]["lines"]) {
      if (line["text"] == text) return true;
    }
  }
}

TEST(Logs, FollowingGoesOnAcrossRestarts) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--print-pid"]
start_period = "0s"
log = "file"
log_dir = "@DIR@/logs"
)toml");
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "web", 0) == "ready"; },
      "a ready worker", kDeadline, &status));
  const pid_t first = PidOf(status, "web", 0);

  RawConnection follower(daemon.socket_path());
  ASSERT_TRUE(follower.connected());
  ASSERT_FALSE(follower.Send(R"({"id":7,"command":"logs","args":)"
                             R"({"targets":["web"],"follow":true}})"
                             "\n"));
  EXPECT_TRUE(ReadUntilText(follower, PidLine(first)));
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(daemon.RunCtl({"restart", "web"}).exit_code, 0);
    const pid_t next = PidOf(daemon.Status(), "web", 0);
    EXPECT_TRUE(ReadUntilText(follower, PidLine(next))) << "round " << round;
  }
  // The follower is still being served: the connection stays open.
  EXPECT_FALSE(follower.eof());
}

TEST(Logs, AStalledFollowerIsCutOffAndSlowsNothing) {
  // A follower that never reads while a worker writes 10 MB through a
  // 64 KiB buffer: workerd stays responsive, the worker finishes at full
  // speed, every line reaches the file, and the follower is cut off.
  constexpr long kLines = 50000;
  Daemon daemon(R"toml(
[program.flood]
command = ["@WORKER@", "--flood", "50000", "--exit-after", "0"]
restart = "never"
start_period = "0s"
autostart = false
log = "file"
log_dir = "@DIR@/logs"
log_max_size = "0"
log_buffer = "64K"
log_timestamps = false

[program.other]
command = ["@WORKER@"]
start_period = "0s"
)toml");
  ASSERT_TRUE(daemon.Start());
  RawConnection stalled(daemon.socket_path());
  ASSERT_TRUE(stalled.connected());
  ASSERT_FALSE(stalled.Send(R"({"id":1,"command":"logs","args":)"
                            R"({"targets":["flood"],"follow":true}})"
                            "\n"));
  ASSERT_EQ(daemon.RunCtl({"start", "flood", "--no-wait"}).exit_code, 0);

  // Supervision goes on meanwhile.
  EXPECT_TRUE(daemon.KillAndWaitReplaced("other", 0));
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "flood", 0) == "exited"; },
      "the flood to end", kDeadline * 3));
  const std::string path = daemon.Path("logs/flood.log");
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (SplitLines(ReadFile(path)).size() < 2 * kLines &&
         std::chrono::steady_clock::now() < until) {
    usleep(20000);
  }
  EXPECT_EQ(SplitLines(ReadFile(path)).size(), static_cast<std::size_t>(2 * kLines));

  // What the follower finds when it finally reads: some lines, then the
  // reason it was cut off.
  std::optional<Json> last;
  int interim = 0;
  while (std::optional<std::string> raw = stalled.ReadLine()) {
    last = Json::parse(*raw);
    if ((*last)["more"] == true) {
      ++interim;
      continue;
    }
    break;
  }
  ASSERT_TRUE(last.has_value());
  EXPECT_GT(interim, 0);
  EXPECT_EQ((*last)["ok"], false) << last->dump();
  EXPECT_EQ((*last)["error"]["code"], "too_slow") << last->dump();
  EXPECT_NE((*last)["error"]["message"].get<std::string>().find(
                "read more slowly than flood wrote"),
            std::string::npos);
}

}  // namespace
}  // namespace workerd::e2e
