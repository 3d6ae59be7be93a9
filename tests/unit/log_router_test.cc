// The log router's reload (Stage, Commit, Forget) on real files and pipes:
// output is written into the pipes a worker would get, and read by the
// captures on a real event loop.
#include "daemon/log_router.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/event_loop.h"
#include "daemon/log_ring.h"
#include "daemon/program_log.h"
#include "daemon/spawner.h"
#include "daemon/unique_fd.h"
#include "tests/unit/run_loop_until.h"

namespace workerd {
namespace {

namespace fs = std::filesystem;


class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "workerd-log-router-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Points fd 1 and 2 at files for the test's lifetime, so that workerd's own
// stdout and stderr (log = "inherit") can be read back.
class RedirectedStdio {
 public:
  explicit RedirectedStdio(const fs::path& dir)
      : out_(dir / "stdout"), err_(dir / "stderr") {
    std::fflush(stdout);
    std::fflush(stderr);
    saved_out_ = ::dup(STDOUT_FILENO);
    saved_err_ = ::dup(STDERR_FILENO);
    Point(STDOUT_FILENO, out_);
    Point(STDERR_FILENO, err_);
  }
  ~RedirectedStdio() {
    ::dup2(saved_out_, STDOUT_FILENO);
    ::dup2(saved_err_, STDERR_FILENO);
    ::close(saved_out_);
    ::close(saved_err_);
  }
  const fs::path& out() const { return out_; }
  const fs::path& err() const { return err_; }

 private:
  static void Point(int target, const fs::path& path) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, target);
    ::close(fd);
  }

  fs::path out_;
  fs::path err_;
  int saved_out_ = -1;
  int saved_err_ = -1;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

ProgramSpec Program(std::string name, LogMode log, const fs::path& log_dir) {
  ProgramSpec spec;
  spec.name = std::move(name);
  spec.command = {"/bin/true"};
  spec.log = log;
  spec.log_written = true;
  spec.log_dir = log_dir.string();
  spec.log_timestamps = false;  // lines that tests can compare
  return spec;
}

Config ConfigOf(std::vector<ProgramSpec> programs) {
  Config config;
  config.path = "workers.toml";
  config.programs = std::move(programs);
  return config;
}

class LogRouterTest : public ::testing::Test {
 protected:
  std::unique_ptr<LogRouter> Open(const Config& config,
                                  LogColours colours = {}) {
    auto opened = LogRouter::Open(loop_, config, colours);
    if (auto* error = std::get_if<std::string>(&opened)) {
      ADD_FAILURE() << *error;
      return nullptr;
    }
    return std::move(std::get<std::unique_ptr<LogRouter>>(opened));
  }

  // Stage, then Commit; false (with a failure) when Stage fails.
  bool Reload(LogRouter& router, const Config& next) {
    auto staged = router.Stage(next);
    if (auto* error = std::get_if<std::string>(&staged)) {
      ADD_FAILURE() << *error;
      return false;
    }
    router.Commit(std::move(std::get<LogRouter::Staged>(staged)), next);
    return true;
  }

  // The pipes of one worker process, as the spawner would get them.
  WorkerOutput Capture(ProgramLog& log, int instance) {
    SpawnRequest request;
    auto prepared = log.PrepareOutput(instance, &request);
    if (auto* error = std::get_if<std::string>(&prepared)) {
      ADD_FAILURE() << *error;
      return {};
    }
    return std::move(std::get<WorkerOutput>(prepared));
  }

  static void Say(const WorkerOutput& output, std::string_view text) {
    ASSERT_EQ(::write(output.stdout_write.Get(), text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
  }

  bool WaitForText(const fs::path& path, const std::string& text) {
    return RunLoopUntil(loop_, [&] { return ReadFile(path) == text; });
  }

  EventLoop loop_;
  TempDir dir_;
  const fs::path logs_ = dir_.path() / "logs";
};

TEST_F(LogRouterTest, AnAddedProgramGetsALog) {
  auto router = Open(ConfigOf({Program("web", LogMode::kNull, logs_)}));
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->Find("jobs"), nullptr);
  ProgramLog* web = router->Find("web");

  ASSERT_TRUE(
      Reload(*router, ConfigOf({Program("web", LogMode::kNull, logs_),
                                Program("jobs", LogMode::kFile, logs_)})));
  EXPECT_EQ(router->Find("web"), web);
  ProgramLog* jobs = router->Find("jobs");
  ASSERT_NE(jobs, nullptr);
  EXPECT_EQ(jobs->mode(), LogMode::kFile);
  EXPECT_EQ(router->FilePaths(),
            std::vector<std::string>{(logs_ / "jobs.log").string()});

  WorkerOutput output = Capture(*jobs, 0);
  Say(output, "hello\n");
  EXPECT_TRUE(WaitForText(logs_ / "jobs.log", "jobs:0 stdout: hello\n"));
}

TEST_F(LogRouterTest, ARemovedProgramIsFoundUntilForgotten) {
  auto router = Open(ConfigOf({Program("web", LogMode::kFile, logs_),
                               Program("old", LogMode::kFile, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* old = router->Find("old");
  ASSERT_NE(old, nullptr);
  WorkerOutput output = Capture(*old, 1);

  ASSERT_TRUE(
      Reload(*router, ConfigOf({Program("web", LogMode::kFile, logs_)})));
  EXPECT_EQ(router->Find("old"), old);
  EXPECT_EQ(router->FilePaths(),
            std::vector<std::string>{(logs_ / "web.log").string()});
  // Its last worker's output still arrives, and goes where it went.
  Say(output, "last words\n");
  EXPECT_TRUE(WaitForText(logs_ / "old.log", "old:1 stdout: last words\n"));

  output = WorkerOutput();  // the worker is gone
  router->Forget("web");    // in the config: nothing to forget
  EXPECT_NE(router->Find("web"), nullptr);
  router->Forget("old");
  EXPECT_EQ(router->Find("old"), nullptr);
}

TEST_F(LogRouterTest, AProgramAddedBackBeforeItWasForgottenKeepsItsLog) {
  auto router = Open(ConfigOf({Program("web", LogMode::kFile, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  ASSERT_TRUE(Reload(*router, ConfigOf({})));
  ASSERT_TRUE(
      Reload(*router, ConfigOf({Program("web", LogMode::kFile, logs_)})));
  EXPECT_EQ(router->Find("web"), web);
  router->Forget("web");  // what the first reload removed: not any more
  EXPECT_EQ(router->Find("web"), web);
  EXPECT_EQ(router->FilePaths(),
            std::vector<std::string>{(logs_ / "web.log").string()});
}

TEST_F(LogRouterTest, SwitchingFromInheritToFileWritesLaterLinesToTheFile) {
  RedirectedStdio stdio(dir_.path());
  auto router = Open(ConfigOf({Program("web", LogMode::kInherit, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  WorkerOutput output = Capture(*web, 0);
  Say(output, "before\n");
  ASSERT_TRUE(WaitForText(stdio.out(), "web:0 stdout: before\n"));

  ASSERT_TRUE(
      Reload(*router, ConfigOf({Program("web", LogMode::kFile, logs_)})));
  EXPECT_EQ(router->Find("web"), web);
  EXPECT_EQ(web->mode(), LogMode::kFile);
  // The worker started before the reload writes on: to the new place.
  Say(output, "after\n");
  EXPECT_TRUE(WaitForText(logs_ / "web.log", "web:0 stdout: after\n"));
  EXPECT_EQ(ReadFile(stdio.out()), "web:0 stdout: before\n");
  EXPECT_EQ(web->ring().next_sequence() - web->ring().first_sequence(), 2u);
}

TEST_F(LogRouterTest, ALogDirChangeOpensTheNewFile) {
  auto router = Open(ConfigOf({Program("web", LogMode::kFile, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  WorkerOutput output = Capture(*web, 0);
  Say(output, "one\n");
  ASSERT_TRUE(WaitForText(logs_ / "web.log", "web:0 stdout: one\n"));

  const fs::path moved = dir_.path() / "elsewhere" / "deeper";
  ASSERT_TRUE(
      Reload(*router, ConfigOf({Program("web", LogMode::kFile, moved)})));
  EXPECT_EQ(router->Find("web"), web);
  EXPECT_EQ(router->FilePaths(),
            std::vector<std::string>{(moved / "web.log").string()});
  Say(output, "two\n");
  EXPECT_TRUE(WaitForText(moved / "web.log", "web:0 stdout: two\n"));
  EXPECT_EQ(ReadFile(logs_ / "web.log"), "web:0 stdout: one\n");
}

TEST_F(LogRouterTest, AStageThatFailsNamesTheProgramAndChangesNothing) {
  auto router = Open(ConfigOf({Program("web", LogMode::kInherit, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  const fs::path blocker = dir_.path() / "blocker";
  std::ofstream(blocker) << "a regular file\n";

  const fs::path under = blocker / "logs";
  auto staged =
      router->Stage(ConfigOf({Program("api", LogMode::kFile, logs_),
                              Program("web", LogMode::kFile, under)}));
  ASSERT_TRUE(std::holds_alternative<std::string>(staged));
  EXPECT_EQ(std::get<std::string>(staged),
            "program \"web\": cannot create the log directory " +
                under.string() + ": Not a directory");
  EXPECT_EQ(router->Find("web"), web);
  EXPECT_EQ(web->mode(), LogMode::kInherit);
  EXPECT_EQ(router->Find("api"), nullptr);
  EXPECT_TRUE(router->FilePaths().empty());
}

TEST_F(LogRouterTest, AStagedReloadDroppedLeavesTheRouterAsItWas) {
  auto router = Open(ConfigOf({Program("web", LogMode::kFile, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  WorkerOutput output = Capture(*web, 0);
  const fs::path moved = dir_.path() / "moved";
  {
    auto staged =
        router->Stage(ConfigOf({Program("web", LogMode::kFile, moved)}));
    ASSERT_TRUE(std::holds_alternative<LogRouter::Staged>(staged));
  }  // a socket could not be bound: the reload is given up
  Say(output, "still here\n");
  EXPECT_TRUE(WaitForText(logs_ / "web.log", "web:0 stdout: still here\n"));
  EXPECT_EQ(ReadFile(moved / "web.log"), "");
  EXPECT_EQ(router->FilePaths(),
            std::vector<std::string>{(logs_ / "web.log").string()});
}

TEST_F(LogRouterTest, ARingCapacityChangeApplies) {
  ProgramSpec spec = Program("web", LogMode::kFile, logs_);
  spec.log_buffer = 1 << 20;
  auto router = Open(ConfigOf({spec}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  EXPECT_EQ(web->ring().capacity(), std::size_t{1} << 20);
  spec.log_buffer = 64 * 1024;
  ASSERT_TRUE(Reload(*router, ConfigOf({spec})));
  EXPECT_EQ(web->ring().capacity(), std::size_t{64} * 1024);
  // A mode that captures nothing keeps nothing.
  spec.log = LogMode::kJournal;
  ASSERT_TRUE(Reload(*router, ConfigOf({spec})));
  EXPECT_EQ(web->ring().capacity(), 0u);
}

TEST_F(LogRouterTest, ARingCapacityChangeKeepsTheRecordsAndTheFollowers) {
  ProgramSpec spec = Program("web", LogMode::kFile, logs_);
  auto router = Open(ConfigOf({spec}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  int appended = 0;
  auto subscription = web->Subscribe([&] { ++appended; });
  WorkerOutput output = Capture(*web, 0);
  Say(output, "one\ntwo\n");
  ASSERT_TRUE(
      RunLoopUntil(loop_, [&] { return web->ring().next_sequence() == 2; }));

  spec.log_buffer = 64 * 1024;
  ASSERT_TRUE(Reload(*router, ConfigOf({spec})));
  EXPECT_EQ(web->ring().capacity(), std::size_t{64} * 1024);
  EXPECT_EQ(web->ring().first_sequence(), 0u);
  const int before = appended;
  Say(output, "three\n");
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return appended > before; }));
  std::vector<std::string> texts;
  web->ring().ForEachFrom(0, [&](const LogRecord& record) {
    texts.emplace_back(record.text);
    return true;
  });
  EXPECT_EQ(texts, (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(LogRouterTest, FollowersKeepFollowingAcrossAReload) {
  RedirectedStdio stdio(dir_.path());
  auto router = Open(ConfigOf({Program("web", LogMode::kInherit, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  std::vector<std::uint64_t> seen;
  auto subscription =
      web->Subscribe([&] { seen.push_back(web->ring().next_sequence()); });
  WorkerOutput output = Capture(*web, 0);
  Say(output, "one\n");
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return seen.size() == 1; }));

  ASSERT_TRUE(
      Reload(*router, ConfigOf({Program("web", LogMode::kFile, logs_)})));
  Say(output, "two\n");
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return seen.size() == 2; }));
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
}

// Every line of every file a program's log went to, oldest first: the
// rotated files from the highest number down, then the current one.
std::string AllOf(const fs::path& log, int keep) {
  std::string all;
  for (int n = keep; n >= 1; --n)
    all += ReadFile(log.string() + "." + std::to_string(n));
  return all + ReadFile(log);
}

TEST_F(LogRouterTest, ARotationChangeTakesEffectOnTheSameFile) {
  ProgramSpec spec = Program("web", LogMode::kFile, logs_);
  spec.log_max_size = 0;
  auto router = Open(ConfigOf({spec}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  LogWriter* file = web->file_writer();
  WorkerOutput output = Capture(*web, 0);
  std::string expected;
  auto say = [&](int from, int to) {
    std::string text;
    for (int n = from; n < to; ++n) {
      const std::string line =
          "line " + std::to_string(n) + " " + std::string(40, 'x');
      text += line + "\n";
      expected += "web:0 stdout: " + line + "\n";
    }
    Say(output, text);
  };
  say(0, 50);
  ASSERT_TRUE(WaitForText(logs_ / "web.log", expected));

  spec.log_max_size = kMinLogMaxSize;
  spec.log_keep = 50;
  ASSERT_TRUE(Reload(*router, ConfigOf({spec})));
  EXPECT_EQ(web->file_writer(), file) << "the same file is not opened again";
  say(50, 100);
  const fs::path log = logs_ / "web.log";
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return AllOf(log, 50) == expected; }))
      << AllOf(log, 50).size() << " of " << expected.size() << " bytes";
  EXPECT_TRUE(fs::exists(log.string() + ".2"));
  EXPECT_LE(fs::file_size(log), kMinLogMaxSize);
  EXPECT_LE(fs::file_size(log.string() + ".1"), kMinLogMaxSize);
}

TEST_F(LogRouterTest, NoLineIsLostAcrossReloads) {
  RedirectedStdio stdio(dir_.path());
  ProgramSpec spec = Program("web", LogMode::kInherit, logs_);
  auto router = Open(ConfigOf({spec}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  WorkerOutput output = Capture(*web, 3);
  std::string expected;
  int next = 0;
  // Lines written without letting the loop read them: the reload comes
  // while they wait in the pipe.
  auto say = [&](int count) {
    std::string text;
    for (int i = 0; i < count; ++i, ++next) {
      text += "line " + std::to_string(next) + "\n";
      expected += "web:3 stdout: line " + std::to_string(next) + "\n";
    }
    Say(output, text);
  };
  const fs::path first = dir_.path() / "first";
  const fs::path second = dir_.path() / "second";
  std::vector<ProgramSpec> steps;
  spec.log = LogMode::kFile;
  spec.log_dir = first.string();
  steps.push_back(spec);  // inherit -> file
  spec.log_max_size = kMinLogMaxSize;
  spec.log_keep = 100;
  steps.push_back(spec);  // rotation
  spec.log_dir = second.string();
  steps.push_back(spec);  // another directory
  spec.log = LogMode::kInherit;
  steps.push_back(spec);  // back to workerd's stdout
  say(10);
  ASSERT_TRUE(WaitForText(stdio.out(), expected));
  for (const ProgramSpec& step : steps) {
    say(100);
    loop_.RunOnce(Duration(0));
    say(100);
    ASSERT_TRUE(Reload(*router, ConfigOf({step})));
  }
  say(100);
  output = WorkerOutput();  // the end of the worker's output
  // stdout has the lines from before the first reload and after the last;
  // the files those in between.
  auto files = [&] {
    return AllOf(first / "web.log", 100) + AllOf(second / "web.log", 100);
  };
  ASSERT_TRUE(RunLoopUntil(
      loop_,
      [&] {
        return ReadFile(stdio.out()).size() + files().size() == expected.size();
      }))
      << ReadFile(stdio.out()).size() + files().size() << " of "
      << expected.size() << " bytes";
  // Reassembled in the order of the destinations, the lines are all there,
  // each once, in order.
  const std::string out = ReadFile(stdio.out());
  const std::string in_files = files();
  const std::size_t head = expected.find(in_files);
  ASSERT_NE(head, std::string::npos)
      << "the files are not one stretch of the output";
  EXPECT_EQ(out,
            expected.substr(0, head) + expected.substr(head + in_files.size()));
  EXPECT_GT(head, 0u);
  EXPECT_LT(head + in_files.size(), expected.size());
}

// A worker held back because workerd's stdout is not read (its writer is
// full) writes on once a reload sends its output to a file. While fd 1 is
// a pipe nobody reads, gtest must print nothing (it would block there):
// the steps return what went wrong instead.
TEST_F(LogRouterTest, AWorkerWaitingForAFullDestinationGoesOnAfterASwitch) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd unread(fds[0]);
  std::fflush(stdout);
  UniqueFd saved_stdout(::dup(STDOUT_FILENO));
  ::dup2(fds[1], STDOUT_FILENO);
  ::close(fds[1]);

  std::unique_ptr<LogRouter> router;
  WorkerOutput output;
  const fs::path log = logs_ / "web.log";
  auto steps = [&]() -> std::string {
    auto opened = LogRouter::Open(
        loop_, ConfigOf({Program("web", LogMode::kInherit, logs_)}));
    if (auto* error = std::get_if<std::string>(&opened)) return *error;
    router = std::move(std::get<std::unique_ptr<LogRouter>>(opened));
    ProgramLog* web = router->Find("web");
    SpawnRequest request;
    auto prepared = web->PrepareOutput(0, &request);
    if (auto* error = std::get_if<std::string>(&prepared)) return *error;
    output = std::move(std::get<WorkerOutput>(prepared));
    ::fcntl(output.stdout_write.Get(), F_SETFL, O_NONBLOCK);
    const std::string chunk = std::string(64 * 1024 - 1, 'x') + "\n";
    // Writes until the worker's own pipe is full.
    auto fill = [&] {
      std::size_t written = 0;
      while (::write(output.stdout_write.Get(), chunk.data(), chunk.size()) >
             0) {
        written += chunk.size();
      }
      return written;
    };
    if (!RunLoopUntil(loop_, [&] {
          fill();
          return web->Full();
        })) {
      return "workerd's stdout never filled up";
    }
    // The capture stops reading at its next wake-up: the pipe stays full.
    std::uint64_t read_so_far = 0;
    if (!RunLoopUntil(loop_, [&] {
          const bool stopped =
              fill() == 0 && web->ring().next_sequence() == read_so_far;
          read_so_far = web->ring().next_sequence();
          return stopped;
        })) {
      return "the capture never stopped reading";
    }
    for (int i = 0; i < 3; ++i) loop_.RunOnce(Duration(20));
    if (web->ring().next_sequence() != read_so_far || !web->Full()) {
      return "the capture went on reading";
    }

    auto staged =
        router->Stage(ConfigOf({Program("web", LogMode::kFile, logs_)}));
    if (auto* error = std::get_if<std::string>(&staged)) return *error;
    router->Commit(std::move(std::get<LogRouter::Staged>(staged)),
                   ConfigOf({Program("web", LogMode::kFile, logs_)}));
    bool said = false;
    if (!RunLoopUntil(loop_, [&] {
          if (!said) {
            said = ::write(output.stdout_write.Get(), "after\n", 6) == 6;
            return false;
          }
          return ReadFile(log).ends_with("web:0 stdout: after\n");
        })) {
      return "the worker is still held back after the switch";
    }
    return {};
  };
  const std::string problem = steps();

  // Let the writer of workerd's stdout finish: read what it holds.
  std::thread drain([&] {
    char buffer[65536];
    while (::read(unread.Get(), buffer, sizeof buffer) > 0) {
    }
  });
  output = WorkerOutput();
  router.reset();
  std::fflush(stdout);
  ::dup2(saved_stdout.Get(), STDOUT_FILENO);  // the pipe's last write end
  drain.join();
  EXPECT_EQ(problem, "");
}

TEST_F(LogRouterTest,
       AProgramSwitchedToTheJournalStillWritesItsOldWorkersOutput) {
  auto router = Open(ConfigOf({Program("web", LogMode::kFile, logs_)}));
  ASSERT_NE(router, nullptr);
  ProgramLog* web = router->Find("web");
  WorkerOutput output = Capture(*web, 0);
  ASSERT_TRUE(
      Reload(*router, ConfigOf({Program("web", LogMode::kJournal, logs_)})));
  EXPECT_EQ(web->mode(), LogMode::kJournal);
  EXPECT_EQ(web->file_writer(), nullptr);
  EXPECT_TRUE(router->FilePaths().empty());
  Say(output, "from the old worker\n");
  EXPECT_TRUE(
      WaitForText(logs_ / "web.log", "web:0 stdout: from the old worker\n"));
  // Once its pipes end, the file is let go.
  output = WorkerOutput();
  EXPECT_TRUE(RunLoopUntil(loop_, [&] { return web->open_file() == nullptr; }));
}

TEST_F(LogRouterTest, ColoursThePrefixOfInheritedLinesOnly) {
  RedirectedStdio stdio(dir_.path());
  auto router = Open(ConfigOf({Program("web", LogMode::kInherit, logs_),
                               Program("api", LogMode::kInherit, logs_),
                               Program("db", LogMode::kFile, logs_)}),
                     LogColours{.stdout_lines = true, .stderr_lines = false});
  ASSERT_NE(router, nullptr);
  WorkerOutput web = Capture(*router->Find("web"), 0);
  WorkerOutput api = Capture(*router->Find("api"), 1);
  WorkerOutput db = Capture(*router->Find("db"), 0);
  Say(web, "hi\n");
  ASSERT_TRUE(WaitForText(stdio.out(), "\x1b[36mweb:0 stdout\x1b[0m: hi\n"));
  Say(api, "ho\n");
  ASSERT_TRUE(WaitForText(stdio.out(),
                          "\x1b[36mweb:0 stdout\x1b[0m: hi\n"
                          "\x1b[33mapi:1 stdout\x1b[0m: ho\n"));
  ASSERT_EQ(::write(web.stderr_write.Get(), "oops\n", 5), 5);
  EXPECT_TRUE(WaitForText(stdio.err(), "web:0 stderr: oops\n"));
  Say(db, "plain\n");
  EXPECT_TRUE(WaitForText(logs_ / "db.log", "db:0 stdout: plain\n"));

  router->SetColours({});
  Say(web, "no colour\n");
  EXPECT_TRUE(WaitForText(stdio.out(),
                          "\x1b[36mweb:0 stdout\x1b[0m: hi\n"
                          "\x1b[33mapi:1 stdout\x1b[0m: ho\n"
                          "web:0 stdout: no colour\n"));
}

}  // namespace
}  // namespace workerd
