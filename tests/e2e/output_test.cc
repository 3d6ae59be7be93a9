// Worker output end to end: capture into log files under a flood, the last
// words of a crashing worker, long and unfinished lines, rotation, reopening
// after logrotate moved the file, workerd's own stdout/stderr (`inherit`),
// `null`, and where `journal` and the default mode send output.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/log_lines.h"

namespace workerd::e2e {
namespace {

// What --flood writes as line `n` of `stream`, without the newline.
std::string FloodLine(const std::string& stream, long n, long line_bytes) {
  char head[32];
  std::snprintf(head, sizeof head, "%s %08ld ", stream.c_str(), n);
  std::string line = head;
  line.resize(static_cast<std::size_t>(line_bytes) - 1, 'x');
  return line;
}

// Checks that `lines` hold, for each instance in `instances` and each
// stream, exactly the flood lines `first`..`lines_per_stream`-1 in order.
void ExpectFloodIntact(const std::vector<LogLine>& lines,
                       const std::string& program, int instances,
                       long lines_per_stream, long line_bytes,
                       long first = 0) {
  std::map<std::pair<int, std::string>, long> next;
  for (int i = 0; i < instances; ++i) {
    next[{i, "stdout"}] = first;
    next[{i, "stderr"}] = first;
  }
  for (const LogLine& line : lines) {
    ASSERT_EQ(line.program, program);
    ASSERT_FALSE(line.partial);
    auto at = next.find({line.instance, line.stream});
    ASSERT_NE(at, next.end()) << line.instance << " " << line.stream;
    ASSERT_EQ(line.text, FloodLine(line.stream, at->second, line_bytes))
        << "instance " << line.instance;
    ++at->second;
  }
  for (const auto& [key, count] : next) {
    EXPECT_EQ(count, lines_per_stream)
        << program << ":" << key.first << " " << key.second;
  }
}

// Polls until `path` has at least `count` lines.
bool WaitForLines(const std::string& path, std::size_t count) {
  const auto until = std::chrono::steady_clock::now() + kDeadline * 3;
  while (std::chrono::steady_clock::now() < until) {
    if (SplitLines(ReadFile(path)).size() >= count) return true;
    usleep(20000);
  }
  ADD_FAILURE() << path << " never reached " << count << " lines; it has "
                << SplitLines(ReadFile(path)).size();
  return false;
}

bool Exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

TEST(Output, FileKeepsEveryLineInOrderUnderAFlood) {
  // Two workers each write 30000 lines to stdout and to stderr as fast as
  // they can: 12 MB through four pipes into one file.
  constexpr long kLines = 30000;
  Daemon daemon(R"toml(
[daemon]
log_dir = "@DIR@/logs"

[program.flood]
command = ["@WORKER@", "--flood", "30000", "--exit-after", "0"]
workers = 2
restart = "never"
start_period = "0s"
log = "file"
log_max_size = "0"
)toml");
  ASSERT_TRUE(daemon.Start());
  const std::string path = daemon.Path("logs/flood.log");
  ASSERT_TRUE(WaitForLines(path, 4 * kLines));
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "flood", 2, "exited"); },
      "both workers exited"));
  const std::string text = ReadFile(path);
  const std::vector<LogLine> lines = ParseLogLines(text, /*timestamps=*/true);
  EXPECT_EQ(lines.size(), static_cast<std::size_t>(4 * kLines));
  ExpectFloodIntact(lines, "flood", 2, kLines, 100);
  // The file is the workers' alone: workerd's own messages go elsewhere.
  EXPECT_EQ(daemon.Log().find("stdout 00000000"), std::string::npos);
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
}

TEST(Output, CrashingWorkerKeepsItsLastLines) {
  // It writes, leaves a line unfinished and aborts at once: everything it
  // wrote is in the file before workerd reports its death.
  Daemon daemon(R"toml(
[daemon]
log_dir = "@DIR@/logs"

[program.crasher]
command = ["@WORKER@", "--flood", "2000", "--partial", "last words",
           "--crash-after", "0"]
restart = "never"
start_period = "0s"
log = "file"
log_timestamps = false
)toml");
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "crasher", 0) == "exited"; },
      "the crash"));
  const std::string path = daemon.Path("logs/crasher.log");
  ASSERT_TRUE(WaitForLines(path, 2 * 2000 + 1));
  std::vector<LogLine> lines =
      ParseLogLines(ReadFile(path), /*timestamps=*/false);
  ASSERT_EQ(lines.size(), 2u * 2000 + 1);
  // The unfinished line is written when its process dies, whole.
  auto partial = std::find_if(lines.begin(), lines.end(), [](auto& line) {
    return line.text == "last words";
  });
  ASSERT_NE(partial, lines.end());
  EXPECT_EQ(partial->stream, "stdout");
  EXPECT_FALSE(partial->partial);
  lines.erase(partial);
  ExpectFloodIntact(lines, "crasher", 1, 2000, 100);
  EXPECT_NE(daemon.Log().find("killed by SIGABRT"), std::string::npos)
      << daemon.Log();
}

TEST(Output, LongLinesAreCutBetweenCharacters) {
  // 20000 two-byte characters: a 40000-byte line, cut into records of at
  // most 16 KiB that end on a character boundary, marked as continued.
  std::string long_line;
  for (int i = 0; i < 20000; ++i) long_line += "\xc3\xa9";  // é
  Daemon daemon(R"toml(
[daemon]
log_dir = "@DIR@/logs"

[program.long]
command = ["@WORKER@", "--print", ")toml" + long_line + R"toml(",
           "--print", "short"]
start_period = "0s"
log = "file"
)toml");
  ASSERT_TRUE(daemon.Start());
  const std::string path = daemon.Path("logs/long.log");
  ASSERT_TRUE(WaitForLines(path, 4));
  const std::vector<LogLine> lines =
      ParseLogLines(ReadFile(path), /*timestamps=*/true);
  ASSERT_EQ(lines.size(), 4u);
  std::string joined;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i].partial, i < 2) << i;
    EXPECT_LE(lines[i].text.size(), 16384u);
    // Whole characters only: an even number of bytes starting with the
    // lead byte.
    EXPECT_EQ(lines[i].text.size() % 2, 0u);
    EXPECT_EQ(static_cast<unsigned char>(lines[i].text[0]), 0xc3);
    joined += lines[i].text;
  }
  EXPECT_EQ(joined, long_line);
  EXPECT_EQ(lines[3].text, "short");
  EXPECT_FALSE(lines[3].partial);
}

TEST(Output, RotationKeepsTheConfiguredFilesAndLosesNoLine) {
  // 145-byte lines (timestamp, "rot:0 stdout: ", 100 bytes) into 64 KiB
  // files: 1500 lines per stream are about 435 KB, 7 files' worth, of
  // which the current file and 3 old ones are kept.
  constexpr long kLines = 1500;
  Daemon daemon(R"toml(
[daemon]
log_dir = "@DIR@/logs"

[program.rot]
command = ["@WORKER@", "--flood", "1500", "--exit-after", "0"]
restart = "never"
start_period = "0s"
log = "file"
log_max_size = "64K"
log_keep = 3
)toml");
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "rot", 0) == "exited"; },
      "the flood to end"));
  const std::string base = daemon.Path("logs/rot.log");
  // Once all is written, the last line of each stream is in one of the
  // kept files (the streams come through separate pipes, in chunks).
  const std::string last_out = FloodLine("stdout", kLines - 1, 100);
  const std::string last_err = FloodLine("stderr", kLines - 1, 100);
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  bool complete = false;
  while (!complete && std::chrono::steady_clock::now() < until) {
    const std::string newest = ReadFile(base + ".3") + ReadFile(base + ".2") +
                               ReadFile(base + ".1") + ReadFile(base);
    complete = newest.find(last_out) != std::string::npos &&
               newest.find(last_err) != std::string::npos;
    if (!complete) usleep(20000);
  }
  ASSERT_TRUE(complete);
  EXPECT_TRUE(Exists(base + ".1"));
  EXPECT_TRUE(Exists(base + ".2"));
  EXPECT_TRUE(Exists(base + ".3"));
  EXPECT_FALSE(Exists(base + ".4"));
  std::string all;
  for (const std::string& name : {base + ".3", base + ".2", base + ".1", base}) {
    const std::string part = ReadFile(name);
    EXPECT_LE(part.size(), 64u * 1024) << name;
    if (name != base) {
      // Rotated only once the next line would not fit.
      EXPECT_GT(part.size(), 64u * 1024 - 150) << name << " is not full";
    }
    ASSERT_TRUE(part.empty() || part.back() == '\n') << name;
    all += part;
  }
  // The kept files hold the newest lines, none missing between them: each
  // stream's numbers run on to its last line without a gap.
  const std::vector<LogLine> lines = ParseLogLines(all, /*timestamps=*/true);
  ASSERT_FALSE(lines.empty());
  std::map<std::string, long> first;
  for (const LogLine& line : lines) {
    if (!first.count(line.stream)) {
      first[line.stream] = std::atol(line.text.substr(7, 8).c_str());
    }
  }
  for (const auto& [stream, from] : first) {
    std::vector<LogLine> of_stream;
    for (const LogLine& line : lines) {
      if (line.stream == stream) of_stream.push_back(line);
    }
    ASSERT_EQ(of_stream.size(), static_cast<std::size_t>(kLines - from))
        << stream;
    for (std::size_t i = 0; i < of_stream.size(); ++i) {
      ASSERT_EQ(of_stream[i].text,
                FloodLine(stream, from + static_cast<long>(i), 100));
    }
  }
}

TEST(Output, ReopensMovedFilesOnRequestAndOnSigusr1) {
  Daemon daemon(R"toml(
[daemon]
log_dir = "@DIR@/logs"

[program.web]
command = ["@WORKER@", "--print-pid"]
start_period = "0s"
log = "file"
)toml");
  ASSERT_TRUE(daemon.Start());
  const std::string path = daemon.Path("logs/web.log");
  ASSERT_TRUE(WaitForLines(path, 1));
  const std::string first = SplitLines(ReadFile(path)).front();

  // logrotate moves the file, then tells workerd.
  ASSERT_EQ(::rename(path.c_str(), (path + ".moved").c_str()), 0);
  CommandResult reopened = daemon.RunCtl({"logs", "--reopen"});
  EXPECT_EQ(reopened.exit_code, 0) << reopened.err;
  EXPECT_NE(reopened.out.find(path), std::string::npos) << reopened.out;
  EXPECT_TRUE(Exists(path));
  CommandResult restarted = daemon.RunCtl({"restart", "web"});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  ASSERT_TRUE(WaitForLines(path, 1));
  EXPECT_EQ(ReadFile(path + ".moved"), first + "\n");
  const std::string second = ReadFile(path);
  EXPECT_EQ(second.find(first.substr(first.find("pid"))), std::string::npos);

  // The same by signal.
  ASSERT_EQ(::rename(path.c_str(), (path + ".moved2").c_str()), 0);
  daemon.Signal(SIGUSR1);
  ASSERT_TRUE(daemon.WaitForLog("SIGUSR1: reopened " + path));
  ASSERT_EQ(daemon.RunCtl({"restart", "web"}).exit_code, 0);
  ASSERT_TRUE(WaitForLines(path, 1));
  EXPECT_EQ(ReadFile(path + ".moved2"), second);
  EXPECT_EQ(SplitLines(ReadFile(path)).size(), 1u);
}

TEST(Output, InheritPrefixesLinesOnWorkerdsOwnStreams) {
  Daemon daemon(R"toml(
[program.talker]
command = ["@WORKER@", "--print", "to stdout", "--print-err", "to stderr"]
workers = 2
start_period = "0s"
log = "inherit"
log_timestamps = false
)toml");
  ASSERT_TRUE(daemon.Start());
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(daemon.WaitForLog("talker:" + std::to_string(i) +
                                  " stdout: to stdout\n"));
    EXPECT_TRUE(daemon.WaitForLog("talker:" + std::to_string(i) +
                                  " stderr: to stderr\n"));
  }
}

TEST(Output, NullDiscardsAndLogsSaysSo) {
  Daemon daemon(R"toml(
[program.quiet]
command = ["@WORKER@", "--print", "nobody hears this", "--pidfile",
           "@DIR@/quiet.pid"]
log = "null"
)toml");
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("quiet.pid")));
  CommandResult logs = daemon.RunCtl({"logs", "quiet"});
  EXPECT_EQ(logs.exit_code, 1);
  EXPECT_NE(logs.err.find("quiet has log = \"null\": its output is "
                          "discarded"),
            std::string::npos)
      << logs.err;
  EXPECT_EQ(daemon.Log().find("nobody hears this"), std::string::npos);
}

TEST(Output, UnderSystemdTheDefaultIsTheJournal) {
  // INVOCATION_ID is how workerd knows systemd started it. Whether or not
  // this machine has a journald, `logs` points there and workerd has none
  // of the output.
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--print", "for the journal"]
restart = "never"
start_period = "0s"
)toml");
  daemon.AddEnvironment("INVOCATION_ID=0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(daemon.Start());
  CommandResult logs = daemon.RunCtl({"--json", "logs", "web"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  const Json answer = Json::parse(logs.out);
  EXPECT_EQ(answer["log"], "journal");
  EXPECT_EQ(answer["identifier"], "web");
  const bool have_journald = Exists("/run/systemd/journal/stdout");
  if (!have_journald) {
    // The worker cannot start, and says why.
    ASSERT_TRUE(daemon.WaitFor(
        [](const Json& s) { return StateOf(s, "web", 0) == "exited"; },
        "the failed start"));
    EXPECT_NE(daemon.Log().find("journal \"/run/systemd/journal/stdout\": "
                                "No such file or directory"),
              std::string::npos)
        << daemon.Log();
  }
  EXPECT_EQ(daemon.Log().find("for the journal"), std::string::npos);
}

TEST(Output, UnwritableLogDirectoryStopsWorkerdAtStart) {
  TempDir dir;
  const std::string file = dir.Write("not-a-dir", "");
  const std::string config = dir.Write("workers.toml", R"toml(
[daemon]
control_socket = ")toml" + dir.Path("ctl.sock") + R"toml("
log_dir = ")toml" + file + R"toml(/logs"

[program.web]
command = ["/bin/true"]
log = "file"
)toml");
  CommandResult result = RunProgram({kWorkerdPath, "-c", config});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("program \"web\": cannot create the log "
                            "directory " + file + "/logs"),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace workerd::e2e
