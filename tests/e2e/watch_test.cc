// Development mode's watching end to end (README, "Development mode"): a
// real workerd with --dev (or [daemon] dev = true) restarts a program with
// `watch` when a file under its directory changes, once per burst, never
// for ignored paths; a program that fails waits for the fix instead of
// becoming fatal; a notify program rolls; without development mode nothing
// is watched; and a reload applies a new `watch`.
//
// A negative ("this change did nothing") is proven by a later change that
// is acted on, after which the log shows that one alone.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

// The project every test watches: @DIR@/app, with the program's files in
// src/ (pidfiles and workers.toml stay in @DIR@, outside it).
constexpr const char* kProject = "app";

// One plain worker watching src/ with the default debounce (200 ms).
constexpr const char* kWatched = R"toml(
[program.web]
command = ["@WORKER@", "--pidfile", "@DIR@/web.{instance}.pid"]
directory = "@DIR@/app"
start_period = "100ms"
watch = ["src/"]
)toml";

// How often `text` occurs in `haystack`.
int Count(std::string_view haystack, std::string_view text) {
  int count = 0;
  for (std::size_t at = haystack.find(text); at != std::string_view::npos;
       at = haystack.find(text, at + text.size())) {
    ++count;
  }
  return count;
}

// The lines of `text` that contain `needle`.
std::vector<std::string> LinesWith(const std::string& text,
                                   std::string_view needle) {
  std::istringstream lines(text);
  std::vector<std::string> found;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(needle) != std::string::npos) found.push_back(line);
  }
  return found;
}

// Whether `line` ends with `suffix`.
bool EndsWith(const std::string& line, std::string_view suffix) {
  return line.size() >= suffix.size() &&
         line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Makes a directory under the test's directory (parents must exist).
void MakeDirectory(const Daemon& daemon, std::string_view name) {
  const std::string path = daemon.Path(name);
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    ADD_FAILURE() << "mkdir " << path << ": " << std::strerror(errno);
  }
}

// @DIR@/app/src with src/app.py in it, plus the extra directories named
// (relative to the project).
void MakeProject(const Daemon& daemon,
                 std::initializer_list<std::string_view> extra = {}) {
  MakeDirectory(daemon, kProject);
  MakeDirectory(daemon, "app/src");
  for (std::string_view directory : extra) {
    MakeDirectory(daemon, std::string(kProject) + "/" + std::string(directory));
  }
  daemon.dir().Write("app/src/app.py", "print('v1')\n");
}

// How many processes the slot `label` ("web[0]") was started with, as
// serving worker or as a rolling restart's candidate.
int Starts(const Daemon& daemon, std::string_view label) {
  const std::string log = daemon.Log();
  const std::string name(label);
  return Count(log, name + ": started pid ") +
         Count(log, name + " new: started pid ");
}

// Every line in which workerd said that a watched file changed.
std::vector<std::string> AllChangeLines(const Daemon& daemon) {
  std::vector<std::string> found;
  for (const std::string& line : LinesWith(daemon.Log(), " changed")) {
    if (EndsWith(line, "; restarting") ||
        EndsWith(line, "; not running, so not restarted")) {
      found.push_back(line);
    }
  }
  return found;
}

// Polls the log until `text` occurs at least `count` times.
bool WaitForCount(Daemon& daemon, std::string_view text, int count) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (Count(daemon.Log(), text) < count) {
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "the log did not show \"" << text << "\" " << count
                    << " times within " << kDeadline.count() << " ms:\n"
                    << daemon.Log();
      return false;
    }
    std::this_thread::sleep_for(Millis(20));  // polling, not a proof
  }
  return true;
}

// The pids of `program`'s instances, in order.
std::vector<pid_t> PidsOf(const Json& status, std::string_view program) {
  std::vector<pid_t> pids;
  for (const Json& worker : Workers(status, program)) {
    pids.push_back(PidOf(worker));
  }
  return pids;
}

// Whether `program` has `count` ready instances (no rolling restart's
// candidate among them) and none runs a pid of `old`.
bool ReadyWithNewPids(const Json& status, std::string_view program, int count,
                      const std::vector<pid_t>& old) {
  if (!AllInState(status, program, count, "ready")) return false;
  for (pid_t pid : PidsOf(status, program)) {
    if (pid <= 0) return false;
    for (pid_t old_pid : old) {
      if (pid == old_pid) return false;
    }
  }
  return true;
}

// Starts `daemon`, waits until `program` has `count` ready workers and,
// when `watching`, until workerd says it watches the project.
bool StartWatched(Daemon& daemon, std::string_view program, int count,
                  Json* status, bool watching = true) {
  if (!daemon.Start()) return false;
  if (!daemon.WaitFor(
          [&](const Json& s) { return AllInState(s, program, count, "ready"); },
          std::to_string(count) + " ready " + std::string(program) + " workers",
          kDeadline, status)) {
    return false;
  }
  return !watching || daemon.WaitForLog(std::string(program) + ": watching " +
                                        daemon.Path(kProject) + " (");
}

// Waits until `program` runs `count` ready workers none of which is in
// `before`, and until every process of `before` is reaped.
bool WaitRestarted(Daemon& daemon, std::string_view program, int count,
                   const Json& before, Json* after) {
  const std::vector<pid_t> old = PidsOf(before, program);
  if (!daemon.WaitFor(
          [&](const Json& s) {
            return ReadyWithNewPids(s, program, count, old);
          },
          std::string(program) + " restarted on new pids", kDeadline, after)) {
    return false;
  }
  bool reaped = true;
  for (pid_t pid : old) {
    reaped &= daemon.WaitReaped(pid, std::string(program) + "'s old worker");
  }
  return reaped;
}

TEST(Watch, ChangeUnderAWatchedDirectoryRestartsTheWorkers) {
  Daemon daemon(std::string(kWatched) + "workers = 2\n");
  daemon.AddArgument("--dev");
  MakeProject(daemon);
  Json before;
  ASSERT_TRUE(StartWatched(daemon, "web", 2, &before));
  EXPECT_TRUE(
      daemon.WaitForLog("development mode: watching where `watch` is set"));
  // The pidfiles: the workers handle SIGTERM by now.
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("web.0.pid")));
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("web.1.pid")));

  daemon.dir().Write("app/src/app.py", "print('v2')\n");
  ASSERT_TRUE(daemon.WaitForLog("web: src/app.py changed; restarting"));
  Json after;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 2, before, &after));

  const std::string log = daemon.Log();
  for (pid_t pid : PidsOf(before, "web")) {
    // Stopped gracefully, not killed.
    EXPECT_NE(log.find("pid " + std::to_string(pid) + " exited successfully"),
              std::string::npos)
        << "pid " << pid << " did not stop gracefully\n"
        << log;
  }
  EXPECT_EQ(log.find("SIGKILL"), std::string::npos) << log;
  // A planned restart is not a crash.
  EXPECT_EQ(Field(after, "web", 0, "restarts"), 0) << after.dump(2);
  EXPECT_EQ(Field(after, "web", 1, "restarts"), 0) << after.dump(2);
  EXPECT_EQ(Starts(daemon, "web[0]"), 2) << log;
  EXPECT_EQ(Starts(daemon, "web[1]"), 2) << log;
}

TEST(Watch, BurstOfChangesRestartsOnce) {
  Daemon daemon(kWatched);
  daemon.AddArgument("--dev");
  MakeProject(daemon);
  Json before;
  ASSERT_TRUE(StartWatched(daemon, "web", 1, &before));

  // Ten new files at once, as a save-all or a `git checkout` writes them.
  for (int i = 0; i < 10; ++i) {
    daemon.dir().Write("app/src/file" + std::to_string(i) + ".py", "x = 1\n");
  }
  ASSERT_TRUE(
      daemon.WaitForLog("web: src/file0.py changed (and 9 more); restarting"));
  Json burst;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 1, before, &burst));

  // A later change is acted on; it is the only other one.
  daemon.dir().Write("app/src/later.py", "x = 2\n");
  ASSERT_TRUE(daemon.WaitForLog("web: src/later.py changed; restarting"));
  Json after;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 1, burst, &after));

  const std::vector<std::string> changes = AllChangeLines(daemon);
  ASSERT_EQ(changes.size(), 2u) << daemon.Log();
  EXPECT_TRUE(EndsWith(changes[0],
                       "web: src/file0.py changed (and 9 more); restarting"))
      << changes[0];
  EXPECT_TRUE(EndsWith(changes[1], "web: src/later.py changed; restarting"))
      << changes[1];
  EXPECT_EQ(Starts(daemon, "web[0]"), 3) << daemon.Log();
}

TEST(Watch, IgnoredPathsDoNotRestart) {
  Daemon daemon(std::string(kWatched) + "ignore = [\"src/generated/\"]\n");
  daemon.AddArgument("--dev");
  MakeProject(daemon, {"src/generated"});
  Json before;
  ASSERT_TRUE(StartWatched(daemon, "web", 1, &before));

  // Ignored by `ignore`, editors' temporary files, version control and
  // Python's bytecode cache (some in directories that appear now).
  daemon.dir().Write("app/src/generated/models.py", "generated = True\n");
  daemon.dir().Write("app/src/.app.py.swp", "swap");
  daemon.dir().Write("app/src/app.py~", "backup");
  daemon.dir().Write("app/src/#app.py#", "auto-save");
  MakeDirectory(daemon, "app/src/.git");
  daemon.dir().Write("app/src/.git/HEAD", "ref: refs/heads/main\n");
  MakeDirectory(daemon, "app/src/__pycache__");
  daemon.dir().Write("app/src/__pycache__/app.cpython-311.pyc", "bytecode");
  // Then a real change: the only one acted on, alone in its restart.
  daemon.dir().Write("app/src/app.py", "print('v2')\n");
  ASSERT_TRUE(daemon.WaitForLog("web: src/app.py changed; restarting"));
  Json after;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 1, before, &after));

  const std::vector<std::string> changes = AllChangeLines(daemon);
  ASSERT_EQ(changes.size(), 1u) << daemon.Log();
  EXPECT_TRUE(EndsWith(changes[0], "web: src/app.py changed; restarting"))
      << changes[0];
  EXPECT_EQ(Starts(daemon, "web[0]"), 2) << daemon.Log();
}

TEST(Watch, FailingProgramWaitsForAChangeAndRecovers) {
  // The app fails while src/broken exists, as it would with a syntax
  // error; the crash limit is as small as it gets.
  Daemon daemon(R"toml(
[program.web]
command = ["/bin/sh", "-c", "if [ -f src/broken ]; then echo 'app is broken' >&2; exit 1; fi; exec @WORKER@ --pidfile @DIR@/web.pid"]
directory = "@DIR@/app"
start_period = "100ms"
backoff = { initial = "10ms", max = "10ms" }
crash_limit = { restarts = 1, within = "60s" }
watch = ["src/"]
)toml");
  daemon.AddArgument("--dev");
  MakeProject(daemon);
  daemon.dir().Write("app/src/broken", "");
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(
      daemon.WaitForLog("web: watching " + daemon.Path(kProject) + " ("));

  const std::string kWaiting = "[waiting for change]";
  Json waiting;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return AllInState(s, "web", 1, "waiting for change");
      },
      "web waiting for change", kDeadline, &waiting));
  EXPECT_EQ(Field(waiting, "web", 0, "pid"), nullptr) << waiting.dump(2);
  EXPECT_EQ(Field(waiting, "web", 0, "restarts"), 0) << waiting.dump(2);
  EXPECT_EQ(Field(waiting, "web", 0, "last_exit")["code"], 1)
      << waiting.dump(2);
  const Json message = Field(waiting, "web", 0, "message");
  ASSERT_TRUE(message.is_string()) << waiting.dump(2);
  EXPECT_TRUE(EndsWith(message.get<std::string>(),
                       "; starts again when a watched file changes"))
      << message;
  EXPECT_EQ(Count(daemon.Log(), kWaiting), 1) << daemon.Log();

  // Saves that do not fix it: each starts it once more, and it fails
  // again, three times past a crash limit of one restart.
  for (int save = 1; save <= 3; ++save) {
    SCOPED_TRACE("save " + std::to_string(save));
    daemon.dir().Write("app/src/app.py",
                       "print('attempt " + std::to_string(save) + "')\n");
    ASSERT_TRUE(
        WaitForCount(daemon, "web: src/app.py changed; restarting", save));
    ASSERT_TRUE(WaitForCount(daemon, kWaiting, save + 1));
  }
  Json still;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return AllInState(s, "web", 1, "waiting for change");
      },
      "web waiting for change after the saves", kDeadline, &still));
  EXPECT_EQ(Field(still, "web", 0, "restarts"), 0) << still.dump(2);
  EXPECT_EQ(daemon.Log().find("[fatal]"), std::string::npos) << daemon.Log();
  EXPECT_EQ(Count(daemon.Log(), "app is broken"), 4) << daemon.Log();

  // The fix: the marker goes, which is a change too.
  ASSERT_EQ(unlink(daemon.Path("app/src/broken").c_str()), 0);
  ASSERT_TRUE(daemon.WaitForLog("web: src/broken changed; restarting"));
  std::optional<pid_t> pid = daemon.ReadPidfile(daemon.Path("web.pid"));
  ASSERT_TRUE(pid);
  Json ready;
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        return AllInState(s, "web", 1, "ready") && PidOf(s, "web", 0) == *pid;
      },
      "web ready after the fix", kDeadline, &ready));
  EXPECT_EQ(Field(ready, "web", 0, "restarts"), 0) << ready.dump(2);
  EXPECT_EQ(Count(daemon.Log(), kWaiting), 4) << daemon.Log();
}

TEST(Watch, WithoutDevModeChangesDoNotRestart) {
  // The shortest debounce: a restart the change wrongly caused would come
  // within 10 x 10 ms of it, long before the later restart is ready.
  Daemon daemon(std::string(kWatched) + "watch_debounce = \"10ms\"\n");
  MakeProject(daemon);
  Json before;
  ASSERT_TRUE(StartWatched(daemon, "web", 1, &before, /*watching=*/false));
  ASSERT_TRUE(daemon.WaitForLog(
      "web: not watching its files: `watch` acts in development mode only "
      "(workerd --dev, or [daemon] dev = true)"));
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("web.0.pid")));

  daemon.dir().Write("app/src/app.py", "print('v2')\n");
  // A later change that is acted on: a restart on request.
  CommandResult restart = daemon.RunCtl({"restart", "web"});
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  Json after;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 1, before, &after));

  const std::string log = daemon.Log();
  EXPECT_EQ(AllChangeLines(daemon), std::vector<std::string>{}) << log;
  EXPECT_EQ(log.find("web: watching"), std::string::npos) << log;
  EXPECT_EQ(log.find("development mode: watching"), std::string::npos) << log;
  EXPECT_EQ(Starts(daemon, "web[0]"), 2) << log;
}

TEST(Watch, DevInTheDaemonTableWorksLikeTheFlag) {
  Daemon daemon(std::string("[daemon]\ndev = true\n") + kWatched);
  MakeProject(daemon);
  Json before;
  ASSERT_TRUE(StartWatched(daemon, "web", 1, &before));
  EXPECT_TRUE(
      daemon.WaitForLog("development mode: watching where `watch` is set"));

  daemon.dir().Write("app/src/app.py", "print('v2')\n");
  ASSERT_TRUE(daemon.WaitForLog("web: src/app.py changed; restarting"));
  Json after;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 1, before, &after));
  EXPECT_EQ(daemon.Log().find("not watching"), std::string::npos)
      << daemon.Log();
}

TEST(Watch, NotifyProgramRollsOthersRestartAtOnce) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@", "--notify-ready", "--pidfile", "@DIR@/web.{instance}.pid"]
directory = "@DIR@/app"
workers = 2
ready = "notify"
watch = ["src/"]

[program.jobs]
command = ["@WORKER@", "--pidfile", "@DIR@/jobs.{instance}.pid"]
directory = "@DIR@/app"
workers = 2
start_period = "100ms"
watch = ["src/"]
)toml");
  daemon.AddArgument("--dev");
  MakeProject(daemon);
  Json before;
  ASSERT_TRUE(StartWatched(daemon, "web", 2, &before));
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "jobs", 2, "ready"); },
      "2 ready jobs workers", kDeadline, &before));
  ASSERT_TRUE(
      daemon.WaitForLog("jobs: watching " + daemon.Path(kProject) + " ("));

  daemon.dir().Write("app/src/app.py", "print('v2')\n");
  ASSERT_TRUE(daemon.WaitForLog("web: src/app.py changed; restarting"));
  ASSERT_TRUE(daemon.WaitForLog("jobs: src/app.py changed; restarting"));
  Json after;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 2, before, &after));
  ASSERT_TRUE(WaitRestarted(daemon, "jobs", 2, before, &after));
  ASSERT_TRUE(daemon.WaitForLog("web: rolling restart of 2 workers"));
  ASSERT_TRUE(
      daemon.WaitForLog("web: rolling restart done (2 of 2 workers replaced)"));

  const std::string log = daemon.Log();
  // Rolled: each slot's replacement was a candidate, ready before the old
  // worker of its slot stopped.
  EXPECT_EQ(Count(log, "web[0] new: started pid "), 1) << log;
  EXPECT_EQ(Count(log, "web[1] new: started pid "), 1) << log;
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("web:" + std::to_string(i));
    const std::string slot = "web[" + std::to_string(i) + "]";
    const pid_t old_pid = PidOf(before, "web", i);
    const pid_t new_pid = PidOf(after, "web", i);
    const std::size_t new_ready = log.find(
        slot + " new: pid " + std::to_string(new_pid) + " sent READY=1");
    const std::size_t old_exit =
        log.find("pid " + std::to_string(old_pid) + " exited");
    ASSERT_NE(new_ready, std::string::npos) << log;
    ASSERT_NE(old_exit, std::string::npos) << log;
    EXPECT_LT(new_ready, old_exit) << log;
  }
  // All at once: no rolling restart, each slot restarted in place.
  EXPECT_EQ(log.find("jobs: rolling restart"), std::string::npos) << log;
  EXPECT_EQ(Count(log, "jobs[0] new:"), 0) << log;
  EXPECT_EQ(Starts(daemon, "jobs[0]"), 2) << log;
  EXPECT_EQ(Starts(daemon, "jobs[1]"), 2) << log;
}

TEST(Watch, ReloadAppliesAChangedWatch) {
  const std::string program = R"toml(
[program.web]
command = ["@WORKER@", "--pidfile", "@DIR@/web.{instance}.pid"]
directory = "@DIR@/app"
start_period = "100ms"
)toml";
  Daemon daemon(program + "watch = [\"src/\"]\n");
  daemon.AddArgument("--dev");
  MakeProject(daemon, {"lib"});
  Json before;
  ASSERT_TRUE(StartWatched(daemon, "web", 1, &before));

  // lib/ is not watched yet: only the change in src/ that follows counts.
  daemon.dir().Write("app/lib/before.py", "x = 1\n");
  daemon.dir().Write("app/src/app.py", "print('v2')\n");
  ASSERT_TRUE(daemon.WaitForLog("web: src/app.py changed; restarting"));
  Json middle;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 1, before, &middle));

  daemon.RewriteConfig(program + "watch = [\"src/\", \"lib/\"]\n");
  CommandResult reload = daemon.RunCtl({"reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(reload.out, "web: updated (watch)\n");
  EXPECT_EQ(reload.err, "");
  ASSERT_TRUE(
      WaitForCount(daemon, "web: watching " + daemon.Path(kProject) + " (", 2));
  // Updated in place: the same process.
  EXPECT_EQ(PidOf(daemon.Status(), "web", 0), PidOf(middle, "web", 0));

  daemon.dir().Write("app/lib/after.py", "x = 2\n");
  ASSERT_TRUE(daemon.WaitForLog("web: lib/after.py changed; restarting"));
  Json after;
  ASSERT_TRUE(WaitRestarted(daemon, "web", 1, middle, &after));

  const std::vector<std::string> changes = AllChangeLines(daemon);
  ASSERT_EQ(changes.size(), 2u) << daemon.Log();
  EXPECT_TRUE(EndsWith(changes[0], "web: src/app.py changed; restarting"))
      << changes[0];
  EXPECT_TRUE(EndsWith(changes[1], "web: lib/after.py changed; restarting"))
      << changes[1];
  EXPECT_EQ(Starts(daemon, "web[0]"), 3) << daemon.Log();
}

}  // namespace
}  // namespace workerd::e2e
