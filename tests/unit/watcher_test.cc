// The watcher on real directories and a real loop: what fires, how often,
// with which path and count, and what never fires. A negative is proved by
// a matching change made afterwards: it has to be the next and only thing
// reported, so nothing was reported for what came before it.
#include "daemon/watcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "tests/unit/run_loop_until.h"

namespace workerd {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "workerd-watcher-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

WatchPattern Pattern(std::string_view written) {
  return std::get<WatchPattern>(WatchPattern::Parse(written));
}

class WatcherTest : public ::testing::Test {
 protected:
  // Watches the temp directory; fails the test when it cannot.
  void Watch(const std::vector<std::string>& watch,
             const std::vector<std::string>& ignore = {},
             Duration debounce = milliseconds(50)) {
    std::variant<std::unique_ptr<Watcher>, std::string> started =
        Watcher::Start(loop_, Options(watch, ignore, debounce),
                       [this](const WatchTrigger& trigger) {
                         triggers_.push_back(trigger);
                       });
    if (const auto* error = std::get_if<std::string>(&started)) {
      FAIL() << *error;
    }
    watcher_ = std::move(std::get<std::unique_ptr<Watcher>>(started));
  }

  WatcherOptions Options(const std::vector<std::string>& watch,
                         const std::vector<std::string>& ignore,
                         Duration debounce = milliseconds(50)) const {
    WatcherOptions options;
    options.directory = dir_.path().string();
    for (const std::string& text : watch) {
      options.watch.push_back(Pattern(text));
    }
    for (const std::string& text : ignore) {
      options.ignore.push_back(Pattern(text));
    }
    options.debounce = debounce;
    return options;
  }

  void Write(const std::string& relative, std::string_view text = "x") {
    std::ofstream(dir_.path() / relative) << text;
  }
  void MakeDirectories(const std::string& relative) {
    fs::create_directories(dir_.path() / relative);
  }

  bool WaitForTriggers(std::size_t count) {
    return RunLoopUntil(loop_, [&] { return triggers_.size() >= count; });
  }

  // Writes `sentinel`, which must match, and expects it to be reported as
  // the only change of the next trigger, and that trigger to be the
  // `expected_total`-th.
  void ExpectOnlyThen(const std::string& sentinel, std::size_t expected_total) {
    Write(sentinel);
    ASSERT_TRUE(WaitForTriggers(expected_total));
    ASSERT_EQ(triggers_.size(), expected_total);
    EXPECT_EQ(triggers_.back().path, sentinel);
    EXPECT_EQ(triggers_.back().changes, 1u);
    EXPECT_FALSE(triggers_.back().overflowed);
  }

  TempDir dir_;
  EventLoop loop_;
  std::unique_ptr<Watcher> watcher_;
  std::vector<WatchTrigger> triggers_;
};

TEST_F(WatcherTest, AChangeFiresOnce) {
  MakeDirectories("src");
  Write("src/app.py");
  Watch({"src/**/*.py"});
  Write("src/app.py", "changed");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "src/app.py");
  EXPECT_EQ(triggers_[0].changes, 1u);
  EXPECT_FALSE(triggers_[0].overflowed);
  EXPECT_FALSE(watcher_->Pending());
  ExpectOnlyThen("src/other.py", 2);
}

TEST_F(WatcherTest, ABurstOfTenFilesFiresOnceWithCountTen) {
  MakeDirectories("src");
  Watch({"src/**/*.py"}, {}, milliseconds(200));
  for (int i = 0; i < 10; ++i) Write("src/m" + std::to_string(i) + ".py");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "src/m0.py");
  EXPECT_EQ(triggers_[0].changes, 10u);
  EXPECT_EQ(triggers_[0].Describe(), "src/m0.py changed (and 9 more)");
  ExpectOnlyThen("src/after.py", 2);
}

TEST_F(WatcherTest, IgnoredPathsAndEditorFilesDoNotFire) {
  MakeDirectories("src/generated");
  MakeDirectories("src/__pycache__");
  MakeDirectories(".git");
  Watch({"**"}, {"generated/", "*.log"});
  Write("src/.app.py.swp");
  Write("src/app.py~");
  Write("src/.#app.py");
  Write("src/#app.py#");
  Write("src/4913");
  Write("src/app.py.tmp");
  Write("src/__pycache__/app.cpython-311.pyc");
  Write(".git/index");
  Write("src/generated/pb.py");
  Write("src/debug.log");
  Write("debug.log");
  ExpectOnlyThen("src/app.py", 1);
}

TEST_F(WatcherTest, ANonMatchingFileDoesNotFire) {
  MakeDirectories("src");
  MakeDirectories("docs");
  Watch({"src/**/*.py"});
  Write("src/notes.txt");
  Write("docs/a.py");  // not under src
  Write("a.py");
  ExpectOnlyThen("src/a.py", 1);
}

TEST_F(WatcherTest, AFileInADirectoryCreatedAfterStartFires) {
  MakeDirectories("src");
  Watch({"src/**/*.py"});
  const std::size_t before = watcher_->WatchedDirectories();
  MakeDirectories("src/pkg/deep");
  ASSERT_TRUE(RunLoopUntil(
      loop_, [&] { return watcher_->WatchedDirectories() == before + 2; }));
  Write("src/pkg/deep/mod.py");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "src/pkg/deep/mod.py");
  EXPECT_EQ(triggers_[0].changes, 1u);
}

TEST_F(WatcherTest, FilesWrittenBeforeANewDirectoryIsWatchedCount) {
  MakeDirectories("src");
  Watch({"src/**/*.py"});
  // Made and filled before the loop has seen the directory appear.
  MakeDirectories("src/pkg/deep");
  Write("src/pkg/deep/mod.py");
  Write("src/pkg/init.py");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].changes, 2u);
  ExpectOnlyThen("src/pkg/deep/again.py", 2);
}

TEST_F(WatcherTest, ARenameOverSaveFires) {
  MakeDirectories("src");
  Write("src/app.py", "old");
  Watch({"src/**/*.py"});
  // As editors save: a new file beside the old one, renamed over it.
  Write("src/app.py.tmp", "new");
  fs::rename(dir_.path() / "src/app.py.tmp", dir_.path() / "src/app.py");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "src/app.py");
  EXPECT_EQ(triggers_[0].changes, 1u);
  // The directory is still watched after the file it held was replaced.
  Write("src/app.py", "newer");
  ASSERT_TRUE(WaitForTriggers(2));
  EXPECT_EQ(triggers_[1].path, "src/app.py");
}

TEST_F(WatcherTest, DeletingAWatchedFileFires) {
  Write("app.py");
  Watch({"*.py"});
  fs::remove(dir_.path() / "app.py");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "app.py");
}

TEST_F(WatcherTest, OneSegmentPatternsMatchAtAnyDepth) {
  MakeDirectories("a/b/c");
  MakeDirectories("x/templates");
  Watch({"*.py", "templates/"});
  Write("a/b/c/deep.py");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "a/b/c/deep.py");
  Write("x/templates/page.html");
  ASSERT_TRUE(WaitForTriggers(2));
  EXPECT_EQ(triggers_[1].path, "x/templates/page.html");
}

TEST_F(WatcherTest, OnlyDirectoriesThatCanMatterAreWatched) {
  MakeDirectories("src/pkg");
  MakeDirectories("src/__pycache__");
  MakeDirectories("src/build/x");
  MakeDirectories("docs/api");
  MakeDirectories("node_modules/left-pad");
  Watch({"src/**/*.py"}, {"build/"});
  // "" (on the way to src), src and src/pkg.
  EXPECT_EQ(watcher_->WatchedDirectories(), 3u);
}

TEST_F(WatcherTest, ADirectoryMovedInCountsItsFilesAndIsWatched) {
  MakeDirectories("src");
  MakeDirectories("outside/pkg");
  Write("outside/pkg/a.py");
  Write("outside/pkg/b.py");
  Watch({"src/**/*.py"});
  fs::rename(dir_.path() / "outside/pkg", dir_.path() / "src/pkg");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].changes, 2u);
  ExpectOnlyThen("src/pkg/c.py", 2);
}

TEST_F(WatcherTest, ADirectoryRenamedInsideIsWatchedUnderItsNewName) {
  MakeDirectories("src/old");
  Watch({"src/**/*.py"});
  fs::rename(dir_.path() / "src/old", dir_.path() / "src/new");
  // What moved away is unknown to inotify: the move counts as a change.
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "src/old");
  EXPECT_EQ(triggers_[0].changes, 1u);
  ExpectOnlyThen("src/new/a.py", 2);
}

TEST_F(WatcherTest, ADirectoryMovedOutFiresAndIsForgotten) {
  MakeDirectories("src/pkg");
  MakeDirectories("away");
  Write("src/pkg/a.py");
  Watch({"src/**/*.py"});
  const std::size_t before = watcher_->WatchedDirectories();
  fs::rename(dir_.path() / "src/pkg", dir_.path() / "away/pkg");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "src/pkg");
  EXPECT_EQ(watcher_->WatchedDirectories(), before - 1);
  // What is written there now is not under src.
  Write("away/pkg/b.py");
  ExpectOnlyThen("src/c.py", 2);
}

TEST_F(WatcherTest, LinksToDirectoriesAreNotFollowedIntoLoops) {
  MakeDirectories("src");
  fs::create_directory_symlink("..", dir_.path() / "src/loop");
  Watch({"**/*.py"});
  EXPECT_EQ(watcher_->WatchedDirectories(), 2u);  // "" and src
  ExpectOnlyThen("src/a.py", 1);
}

TEST_F(WatcherTest, ALinkNamedByAPatternIsFollowed) {
  MakeDirectories("shared/templates");
  fs::create_directory_symlink("shared/templates", dir_.path() / "templates");
  Watch({"./templates/"});
  Write("shared/templates/page.html");
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_EQ(triggers_[0].path, "templates/page.html");
}

TEST_F(WatcherTest, ASteadyStreamStillFires) {
  MakeDirectories("src");
  const Duration debounce = milliseconds(50);
  Watch({"src/*.py"}, {}, debounce);
  // A file every 10 ms, each pushing the timer out, for far longer than
  // the cap of 10 x debounce.
  int written = 0;
  EventSource writer;
  std::function<void()> write_next = [&] {
    Write("src/f" + std::to_string(written++ % 20) + ".py");
    loop_.Reschedule(writer, loop_.Now() + milliseconds(10));
  };
  writer = loop_.AddTimer(loop_.Now(), [&] { write_next(); });
  ASSERT_TRUE(WaitForTriggers(1));
  const int written_when_fired = written;
  writer.Reset();
  EXPECT_GT(triggers_[0].changes, 1u);
  // Fired while the stream went on: well before 4 s of writing.
  EXPECT_LT(written_when_fired, 400);
}

TEST_F(WatcherTest, AnOverflowCountsAsManyChanges) {
  std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
  long limit = 0;
  ASSERT_TRUE((limit_file >> limit) && limit > 0 && limit <= 100000)
      << "fs.inotify.max_queued_events is " << limit
      << "; this test needs a limit it can exceed";
  MakeDirectories("src");
  Write("src/a.py");
  Write("src/b.py");
  Watch({"src/*.py"});
  // One IN_CLOSE_WRITE per open and close, more than the queue holds,
  // before the loop reads any. Two files in turn, as the kernel folds an
  // event into an identical one before it.
  const std::string paths[] = {(dir_.path() / "src/a.py").string(),
                               (dir_.path() / "src/b.py").string()};
  for (long i = 0; i < limit + 100; ++i) {
    const int fd = ::open(paths[i % 2].c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  ASSERT_TRUE(WaitForTriggers(1));
  EXPECT_TRUE(triggers_[0].overflowed);
  EXPECT_EQ(triggers_[0].path, "src/a.py");
  EXPECT_EQ(triggers_[0].changes, 3u);  // a.py, b.py and the overflow
  ExpectOnlyThen("src/after.py", 2);
}

TEST_F(WatcherTest, TheCallbackMayDestroyTheWatcher) {
  bool called = false;
  auto started =
      Watcher::Start(loop_, Options({"*.py"}, {}), [&](const WatchTrigger&) {
        called = true;
        watcher_.reset();
      });
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Watcher>>(started));
  watcher_ = std::move(std::get<std::unique_ptr<Watcher>>(started));
  Write("a.py");
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return called; }));
  EXPECT_EQ(watcher_, nullptr);
}

TEST_F(WatcherTest, StartsFromAProgramSpec) {
  MakeDirectories("src/gen");
  ProgramSpec program;
  program.name = "web";
  program.watch = {"src/"};
  program.ignore = {"gen/"};
  program.watch_debounce = milliseconds(20);
  program.watch_directory = dir_.path().string();
  auto started = Watcher::Start(
      loop_, program,
      [this](const WatchTrigger& trigger) { triggers_.push_back(trigger); });
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Watcher>>(started));
  watcher_ = std::move(std::get<std::unique_ptr<Watcher>>(started));
  Write("src/gen/x.py");
  ExpectOnlyThen("src/y.html", 1);
}

TEST_F(WatcherTest, StartErrorsAreSentences) {
  WatcherOptions missing = Options({"*.py"}, {});
  missing.directory = (dir_.path() / "missing").string();
  auto started = Watcher::Start(loop_, missing, [](const WatchTrigger&) {});
  ASSERT_TRUE(std::holds_alternative<std::string>(started));
  EXPECT_EQ(
      std::get<std::string>(started),
      "cannot watch " + missing.directory + ": No such file or directory");

  for (const char* sub : {"a", "b", "c", "d"}) MakeDirectories(sub);
  WatcherOptions few = Options({"**"}, {});
  few.max_directories = 3;
  started = Watcher::Start(loop_, few, [](const WatchTrigger&) {});
  ASSERT_TRUE(std::holds_alternative<std::string>(started));
  EXPECT_EQ(std::get<std::string>(started),
            "cannot watch " + dir_.path().string() +
                ": more than 3 directories would be watched; narrow watch, "
                "or leave directories out with ignore");
}

TEST(WatchTriggerTest, Describe) {
  EXPECT_EQ((WatchTrigger{"src/app.py", 1, false}).Describe(),
            "src/app.py changed");
  EXPECT_EQ((WatchTrigger{"src/app.py", 10, false}).Describe(),
            "src/app.py changed (and 9 more)");
  EXPECT_EQ((WatchTrigger{"", 1, true}).Describe(),
            "many files changed (more than inotify could queue)");
  EXPECT_EQ((WatchTrigger{"a.py", 3, true}).Describe(),
            "a.py changed (and many more: more than inotify could queue)");
}

}  // namespace
}  // namespace workerd
