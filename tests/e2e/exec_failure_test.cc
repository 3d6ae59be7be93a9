// Failures a user must be told about in words: a command that cannot be
// executed, and a workers.toml that cannot be used (`workerd --check`).
// The unit tests cover the configuration errors exhaustively; these check
// the real binary's exit status and output on representative cases.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

TEST(ExecFailure, MissingCommandIsReportedAndEndsFatal) {
  // Both ways a command is named: a path, and a bare name looked up in
  // PATH (written as a string, split like a shell would).
  Daemon daemon(R"toml(
[program.web]
command = ["/nonexistent/bin", "--flag"]
start_period = "100ms"
backoff = { initial = "10ms", max = "20ms" }
crash_limit = { restarts = 2, within = "60s" }

[program.jobs]
command = "nonexistent-cmd-4f1c --flag"
start_period = "100ms"
backoff = { initial = "10ms", max = "20ms" }
crash_limit = { restarts = 2, within = "60s" }
)toml");
  ASSERT_TRUE(daemon.Start());

  const std::string web_error =
      "exec \"/nonexistent/bin\": No such file or directory";
  const std::string jobs_error =
      "exec \"nonexistent-cmd-4f1c\": No such file or directory";
  EXPECT_TRUE(daemon.WaitForLog("web[0]: " + web_error));
  EXPECT_TRUE(daemon.WaitForLog("jobs[0]: " + jobs_error));

  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return StateOf(s, "web", 0) == "fatal" &&
               StateOf(s, "jobs", 0) == "fatal";
      },
      "both programs fatal", kDeadline, &status));
  for (const auto& [program, error] :
       {std::pair{"web", web_error}, std::pair{"jobs", jobs_error}}) {
    SCOPED_TRACE(program);
    Json last_exit = Field(status, program, 0, "last_exit");
    ASSERT_TRUE(last_exit.is_object()) << status.dump(2);
    // It never ran: no exit code to report, no signal, a sentence instead
    // of a bare 127.
    EXPECT_TRUE(last_exit["code"].is_null()) << last_exit;
    EXPECT_TRUE(last_exit["signal"].is_null()) << last_exit;
    EXPECT_NE(last_exit["text"].get<std::string>().find(error),
              std::string::npos)
        << last_exit;
    EXPECT_EQ(Field(status, program, 0, "restarts"), 2);
    EXPECT_EQ(PidOf(status, program, 0), 0);
  }

  // workerctl shows the reason in the table.
  CommandResult table = daemon.RunCtl({"status"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(web_error), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("fatal"), std::string::npos) << table.out;
}

TEST(ExecFailure, OtherSpawnFailuresAreNamed) {
  // Not executable; and a working directory that existed when workerd
  // read its configuration but is gone by the time the worker starts.
  Daemon daemon(R"toml(
[program.noexec]
command = ["@DIR@/workers.toml"]
restart = "never"

[program.nodir]
command = ["@WORKER@"]
directory = "@DIR@/app"
autostart = false
restart = "never"
)toml");
  ASSERT_EQ(mkdir(daemon.Path("app").c_str(), 0755), 0);
  ASSERT_TRUE(daemon.Start());
  ASSERT_EQ(rmdir(daemon.Path("app").c_str()), 0);

  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "noexec", 0) == "exited"; },
      "noexec:0 exited", kDeadline, &status));
  std::string noexec =
      Field(status, "noexec", 0, "last_exit").value("text", "");
  EXPECT_NE(noexec.find("exec \"" + daemon.Path("workers.toml") +
                        "\": Permission denied"),
            std::string::npos)
      << noexec;

  CommandResult start = daemon.RunCtl({"start", "nodir"});
  EXPECT_EQ(start.exit_code, 1) << start.out << start.err;
  EXPECT_NE(start.err.find("nodir"), std::string::npos) << start.err;
  status = daemon.Status();
  EXPECT_EQ(StateOf(status, "nodir", 0), "exited") << status.dump(2);
  std::string nodir = Field(status, "nodir", 0, "last_exit").value("text", "");
  EXPECT_NE(nodir.find(daemon.Path("app")), std::string::npos) << nodir;
  EXPECT_NE(nodir.find("No such file or directory"), std::string::npos)
      << nodir;
}

// `workerd --check -c PATH`: the exit status, the output.
CommandResult Check(const std::string& path) {
  return RunProgram({kWorkerdPath, "--check", "-c", path});
}

TEST(ExecFailure, CheckReportsErrorsWithFileLineAndColumn) {
  TempDir dir;

  // A misspelt key: position, the key, and a suggestion.
  std::string misspelt = dir.Write("misspelt.toml", R"toml([program.web]
command = ["/bin/true"]
workers = 2
stop_timout = "5s"
)toml");
  CommandResult result = Check(misspelt);
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find(misspelt + ":4:1: "), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("\"stop_timout\""), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("did you mean \"stop_timeout\""), std::string::npos)
      << result.err;

  // Not TOML at all: toml++'s error, placed in the file.
  std::string broken = dir.Write("broken.toml", R"toml([program.web]
command = ["/bin/true"]
workers = = 2
)toml");
  result = Check(broken);
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_TRUE(std::regex_search(
      result.err,
      std::regex(std::regex_replace(
                     broken, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                 ":3:[0-9]+: ")))
      << result.err;

  // A value out of its vocabulary.
  std::string bad_value = dir.Write("bad_value.toml", R"toml([program.web]
command = ["/bin/true"]
restart = "sometimes"
)toml");
  result = Check(bad_value);
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find(bad_value + ":3:"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("sometimes"), std::string::npos) << result.err;

  // And a valid one: 0, and nothing is started (no control socket).
  std::string socket = dir.Path("control.sock");
  std::string valid = dir.Write(
      "valid.toml", "[daemon]\ncontrol_socket = \"" + socket + R"toml("

[program.web]
command = ["/bin/true"]
workers = 2
)toml");
  result = Check(valid);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("valid"), std::string::npos) << result.out;
  EXPECT_NE(access(socket.c_str(), F_OK), 0) << "--check created " << socket;
}

TEST(ExecFailure, WorkerdRefusesAnInvalidConfigWithStatus3) {
  TempDir dir;
  // The socket is set so that a workerd that wrongly starts anyway does
  // not go near the system's default socket.
  std::string path =
      dir.Write("workers.toml", "[daemon]\ncontrol_socket = \"" +
                                    dir.Path("control.sock") + R"toml("

[program.web]
workers = 2
)toml");
  CommandResult result = RunProgram({kWorkerdPath, "-c", path});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find(path + ":"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("command"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace workerd::e2e
