// Log writers on real files and pipes, with their loop-side callbacks run
// by a real event loop.
#include "daemon/log_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "daemon/event_loop.h"
#include "daemon/loop_mailbox.h"
#include "daemon/unique_fd.h"
#include "tests/unit/run_loop_until.h"

namespace workerd {
namespace {

namespace fs = std::filesystem;

// Routes spdlog's default logger into a string for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("log_writer_test", sink);
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l: %v");
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  std::string Text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "workerd-log-writer-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets the umask for the test's lifetime.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous_); }

 private:
  mode_t previous_;
};

// Ignores SIGPIPE for the test's lifetime, so that writing to a pipe nobody
// reads fails with EPIPE instead of ending the test.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &previous_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &previous_, nullptr); }

 private:
  struct sigaction previous_ {};
};

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string Numbered(const fs::path& path, int n) {
  return path.string() + "." + std::to_string(n);
}

// "line-0\n" ... : 7 bytes each for n < 10.
std::string Line(int n) { return "line-" + std::to_string(n) + "\n"; }

class LogWriterTest : public ::testing::Test {
 protected:
  std::unique_ptr<LogWriter> Open(const fs::path& path, Rotation rotation) {
    auto opened = LogWriter::ForFile(path.string(), rotation, mailbox_);
    if (auto* error = std::get_if<std::string>(&opened)) {
      ADD_FAILURE() << *error;
      return nullptr;
    }
    return std::move(std::get<std::unique_ptr<LogWriter>>(opened));
  }

  // Polls the loop until `path` holds `size` bytes.
  bool WaitForSize(const fs::path& path, std::uintmax_t size) {
    return RunLoopUntil(loop_, [&] {
      std::error_code ignored;
      return fs::file_size(path, ignored) == size;
    });
  }

  EventLoop loop_;
  LoopMailbox mailbox_{loop_};
  TempDir dir_;
  const fs::path log_ = dir_.path() / "web.log";
};

TEST_F(LogWriterTest, CreatesTheFile0640AndAppends) {
  ScopedUmask umask(0);
  auto writer = Open(log_, Rotation{});
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->name(), log_.string());
  EXPECT_TRUE(writer->is_file());
  EXPECT_FALSE(writer->Full());
  writer->Write("one\n");
  writer->Write("");
  writer->Write("two\nthree\n");
  writer.reset();  // writes everything queued
  EXPECT_EQ(ReadFile(log_), "one\ntwo\nthree\n");
  struct stat info;
  ASSERT_EQ(::stat(log_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0640u);

  writer = Open(log_, Rotation{});
  ASSERT_NE(writer, nullptr);
  writer->Write("four\n");
  writer.reset();
  EXPECT_EQ(ReadFile(log_), "one\ntwo\nthree\nfour\n");
}

TEST_F(LogWriterTest, SaysWhyAFileCannotBeOpened) {
  const fs::path missing = dir_.path() / "missing" / "web.log";
  auto opened = LogWriter::ForFile(missing.string(), Rotation{}, mailbox_);
  ASSERT_TRUE(std::holds_alternative<std::string>(opened));
  EXPECT_EQ(std::get<std::string>(opened), "cannot open the log file " +
                                               missing.string() +
                                               ": No such file or directory");
  opened = LogWriter::ForFile(dir_.path().string(), Rotation{}, mailbox_);
  ASSERT_TRUE(std::holds_alternative<std::string>(opened));
  EXPECT_EQ(
      std::get<std::string>(opened),
      "cannot open the log file " + dir_.path().string() + ": Is a directory");
}

TEST_F(LogWriterTest, RotatesBetweenLinesBeforeAFileWouldGrowPastMaxSize) {
  auto writer = Open(log_, Rotation{20, 3});
  ASSERT_NE(writer, nullptr);
  // Two 7-byte lines fit in 20 bytes, three do not.
  writer->Write(Line(0) + Line(1) + Line(2));
  for (int n = 3; n <= 8; ++n) writer->Write(Line(n));
  writer.reset();
  EXPECT_EQ(ReadFile(log_), Line(8));
  EXPECT_EQ(ReadFile(Numbered(log_, 1)), Line(6) + Line(7));
  EXPECT_EQ(ReadFile(Numbered(log_, 2)), Line(4) + Line(5));
  EXPECT_EQ(ReadFile(Numbered(log_, 3)), Line(2) + Line(3));
  EXPECT_FALSE(fs::exists(Numbered(log_, 4)));
}

TEST_F(LogWriterTest, AFileMayReachMaxSizeExactly) {
  auto writer = Open(log_, Rotation{14, 5});
  ASSERT_NE(writer, nullptr);
  for (int n = 0; n <= 4; ++n) writer->Write(Line(n));
  writer.reset();
  EXPECT_EQ(ReadFile(Numbered(log_, 2)), Line(0) + Line(1));
  EXPECT_EQ(ReadFile(Numbered(log_, 1)), Line(2) + Line(3));
  EXPECT_EQ(ReadFile(log_), Line(4));
  EXPECT_FALSE(fs::exists(Numbered(log_, 3)));
}

TEST_F(LogWriterTest, ALineLongerThanMaxSizeGetsAFileOfItsOwn) {
  const std::string long_line = std::string(25, 'x') + "\n";
  {
    auto writer = Open(log_, Rotation{10, 5});
    ASSERT_NE(writer, nullptr);
    writer->Write("aa\n");
    writer->Write(long_line);
    writer->Write("bb\n");
  }
  EXPECT_EQ(ReadFile(Numbered(log_, 2)), "aa\n");
  EXPECT_EQ(ReadFile(Numbered(log_, 1)), long_line);
  EXPECT_EQ(ReadFile(log_), "bb\n");
  EXPECT_FALSE(fs::exists(Numbered(log_, 3)));

  // The same in one block, and a long line first in an empty file.
  const fs::path other = dir_.path() / "api.log";
  {
    auto writer = Open(other, Rotation{10, 5});
    ASSERT_NE(writer, nullptr);
    writer->Write(long_line + "cc\n" + long_line + long_line + "dd\n");
  }
  EXPECT_EQ(ReadFile(Numbered(other, 4)), long_line);
  EXPECT_EQ(ReadFile(Numbered(other, 3)), "cc\n");
  EXPECT_EQ(ReadFile(Numbered(other, 2)), long_line);
  EXPECT_EQ(ReadFile(Numbered(other, 1)), long_line);
  EXPECT_EQ(ReadFile(other), "dd\n");
  EXPECT_FALSE(fs::exists(Numbered(other, 5)));
}

TEST_F(LogWriterTest, CountsWhatTheFileHadAlready) {
  WriteFile(log_, std::string(15, 'o') + "\n");  // 16 of 20 bytes
  auto writer = Open(log_, Rotation{20, 2});
  ASSERT_NE(writer, nullptr);
  writer->Write("ab\n");  // 19: still fits
  writer->Write("cd\n");  // 22: would not
  writer.reset();
  EXPECT_EQ(ReadFile(Numbered(log_, 1)), std::string(15, 'o') + "\nab\n");
  EXPECT_EQ(ReadFile(log_), "cd\n");

  // A file already past the limit is rotated before the first line.
  const fs::path big = dir_.path() / "big.log";
  WriteFile(big, std::string(29, 'o') + "\n");
  writer = Open(big, Rotation{20, 2});
  ASSERT_NE(writer, nullptr);
  writer->Write("new\n");
  writer.reset();
  EXPECT_EQ(ReadFile(Numbered(big, 1)), std::string(29, 'o') + "\n");
  EXPECT_EQ(ReadFile(big), "new\n");
}

TEST_F(LogWriterTest, KeepZeroStartsANewFile) {
  auto writer = Open(log_, Rotation{20, 0});
  ASSERT_NE(writer, nullptr);
  for (int n = 0; n <= 8; ++n) writer->Write(Line(n));
  writer.reset();
  EXPECT_EQ(ReadFile(log_), Line(8));
  EXPECT_FALSE(fs::exists(Numbered(log_, 1)));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()),
                          fs::directory_iterator()),
            1);
}

TEST_F(LogWriterTest, MaxSizeZeroNeverRotates) {
  auto writer = Open(log_, Rotation{0, 3});
  ASSERT_NE(writer, nullptr);
  std::string all;
  for (int n = 0; n < 1000; ++n) {
    writer->Write(Line(n));
    all += Line(n);
  }
  writer.reset();
  EXPECT_EQ(ReadFile(log_), all);
  EXPECT_FALSE(fs::exists(Numbered(log_, 1)));
}

// Random lines, some longer than `max_size`, written in blocks of a few.
std::vector<std::string> RandomLines(int count, std::size_t max_size,
                                     unsigned seed) {
  std::mt19937 random(seed);
  std::vector<std::string> lines;
  for (int n = 0; n < count; ++n) {
    std::size_t length =
        std::uniform_int_distribution<std::size_t>(0, 200)(random);
    if (n % 150 == 149) length = max_size + 50;
    std::string line = std::to_string(n) + ":";
    line.append(length, static_cast<char>('a' + n % 26));
    lines.push_back(line + "\n");
  }
  return lines;
}

void WriteInBlocks(LogWriter& writer, const std::vector<std::string>& lines,
                   unsigned seed) {
  std::mt19937 random(seed);
  for (std::size_t n = 0; n < lines.size();) {
    std::string block;
    const int count = std::uniform_int_distribution<int>(1, 10)(random);
    for (int i = 0; i < count && n < lines.size(); ++i) block += lines[n++];
    writer.Write(std::move(block));
  }
}

// The files of `log`, oldest first: .N ... .1, then `log` itself.
std::vector<std::string> FilesOldestFirst(const fs::path& log) {
  std::vector<std::string> files;
  int n = 1;
  while (fs::exists(Numbered(log, n))) ++n;
  for (--n; n >= 1; --n) files.push_back(ReadFile(Numbered(log, n)));
  files.push_back(ReadFile(log));
  return files;
}

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n') + 1);
}

TEST_F(LogWriterTest, NoLineIsLostOrRepeatedAcrossManyRotations) {
  constexpr std::uint64_t kMaxSize = 1000;
  constexpr int kKeep = 250;
  const std::vector<std::string> lines = RandomLines(1500, kMaxSize, 7);
  std::string all;
  for (const std::string& line : lines) all += line;
  {
    auto writer = Open(log_, Rotation{kMaxSize, kKeep});
    ASSERT_NE(writer, nullptr);
    WriteInBlocks(*writer, lines, 8);
  }
  const std::vector<std::string> files = FilesOldestFirst(log_);
  ASSERT_GT(files.size(), 100u);
  // Fewer than `keep` rotations, so no file was dropped.
  ASSERT_LE(files.size(), static_cast<std::size_t>(kKeep));
  std::string joined;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& file = files[i];
    SCOPED_TRACE(::testing::Message()
                 << "file " << i << " of " << files.size());
    // The current file may be new and empty (here: the last line was too
    // long for any file, and got one of its own); an old one never is.
    if (i + 1 == files.size() && file.empty()) continue;
    ASSERT_FALSE(file.empty());
    // Rotation happens between lines ...
    ASSERT_EQ(file.back(), '\n');
    // ... before a file would grow past max_size, unless it is a single
    // line too long for any file ...
    if (file.size() > kMaxSize) {
      ASSERT_EQ(file.find('\n'), file.size() - 1) << "more than one line";
    }
    // ... and not before: the next file's first line would not have fit.
    if (i + 1 < files.size()) {
      ASSERT_GT(file.size() + FirstLine(files[i + 1]).size(), kMaxSize);
    }
    joined += file;
  }
  EXPECT_EQ(joined, all);
}

TEST_F(LogWriterTest, KeepsExactlyKeepOldFilesOfTheNewestLines) {
  constexpr std::uint64_t kMaxSize = 1000;
  const std::vector<std::string> lines = RandomLines(600, kMaxSize, 9);
  std::string all;
  for (const std::string& line : lines) all += line;
  {
    auto writer = Open(log_, Rotation{kMaxSize, 3});
    ASSERT_NE(writer, nullptr);
    WriteInBlocks(*writer, lines, 10);
  }
  EXPECT_TRUE(fs::exists(Numbered(log_, 3)));
  EXPECT_FALSE(fs::exists(Numbered(log_, 4)));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()),
                          fs::directory_iterator()),
            4);
  const std::vector<std::string> files = FilesOldestFirst(log_);
  ASSERT_EQ(files.size(), 4u);
  std::string joined;
  for (const std::string& file : files) joined += file;
  // The newest lines, from the start of one.
  ASSERT_LT(joined.size(), all.size());
  EXPECT_EQ(all.substr(all.size() - joined.size()), joined);
  EXPECT_EQ(all[all.size() - joined.size() - 1], '\n');
}

TEST_F(LogWriterTest, ReopenFollowsAFileMovedAway) {
  ScopedUmask umask(0);
  auto writer = Open(log_, Rotation{});
  ASSERT_NE(writer, nullptr);
  writer->Write("before the move\n");
  const fs::path moved = dir_.path() / "web.log.moved";
  fs::rename(log_, moved);
  writer->Write("queued before reopen\n");
  std::optional<std::string> error;
  std::thread::id ran_on;
  writer->Reopen([&](std::string result) {
    error = std::move(result);
    ran_on = std::this_thread::get_id();
  });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return error.has_value(); }));
  EXPECT_EQ(*error, "");
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  writer->Write("after the reopen\n");
  writer.reset();
  EXPECT_EQ(ReadFile(moved), "before the move\nqueued before reopen\n");
  EXPECT_EQ(ReadFile(log_), "after the reopen\n");
  struct stat info;
  ASSERT_EQ(::stat(log_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0640u);
}

TEST_F(LogWriterTest, AFailedReopenKeepsTheFileItHad) {
  const fs::path sub = dir_.path() / "sub";
  fs::create_directory(sub);
  const fs::path log = sub / "web.log";
  auto writer = Open(log, Rotation{});
  ASSERT_NE(writer, nullptr);
  writer->Write("one\n");
  const fs::path moved = dir_.path() / "moved";
  fs::rename(sub, moved);
  std::optional<std::string> error;
  writer->Reopen([&](std::string result) { error = std::move(result); });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return error.has_value(); }));
  EXPECT_EQ(*error, "cannot reopen " + log.string() +
                        ": No such file or directory; still writing to the "
                        "file it had open");
  writer->Write("two\n");
  writer.reset();
  EXPECT_EQ(ReadFile(moved / "web.log"), "one\ntwo\n");
  EXPECT_FALSE(fs::exists(log));
}

TEST_F(LogWriterTest, ReopenIsAnsweredEvenWhenTheWriterIsGone) {
  auto writer = Open(log_, Rotation{});
  ASSERT_NE(writer, nullptr);
  writer->Write("one\n");
  std::optional<std::string> error;
  writer->Reopen([&](std::string result) { error = std::move(result); });
  writer.reset();
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return error.has_value(); }));
  EXPECT_EQ(*error, "");
  EXPECT_EQ(ReadFile(log_), "one\n");
}

TEST_F(LogWriterTest, SetRotationAppliesToTheOpenFile) {
  auto writer = Open(log_, Rotation{});
  ASSERT_NE(writer, nullptr);
  for (int n = 0; n <= 2; ++n) writer->Write(Line(n));
  // Written under the old rotation (none), before the change.
  ASSERT_TRUE(WaitForSize(log_, 3 * Line(0).size()));
  // The file is over the new maximum already: it is rotated first.
  writer->SetRotation(Rotation{14, 3});
  for (int n = 3; n <= 7; ++n) writer->Write(Line(n));
  writer.reset();
  EXPECT_EQ(ReadFile(Numbered(log_, 3)), Line(0) + Line(1) + Line(2));
  EXPECT_EQ(ReadFile(Numbered(log_, 2)), Line(3) + Line(4));
  EXPECT_EQ(ReadFile(Numbered(log_, 1)), Line(5) + Line(6));
  EXPECT_EQ(ReadFile(log_), Line(7));
}

TEST_F(LogWriterTest, SetRotationToNeverStopsRotating) {
  auto writer = Open(log_, Rotation{14, 2});
  ASSERT_NE(writer, nullptr);
  writer->Write(Line(0) + Line(1));
  ASSERT_TRUE(WaitForSize(log_, 14));
  writer->SetRotation(Rotation{0, 2});
  for (int n = 2; n <= 5; ++n) writer->Write(Line(n));
  writer.reset();
  EXPECT_EQ(ReadFile(log_),
            Line(0) + Line(1) + Line(2) + Line(3) + Line(4) + Line(5));
  EXPECT_FALSE(fs::exists(Numbered(log_, 1)));
}

TEST_F(LogWriterTest, AfterWrittenRunsOnTheLoopOnceTheQueueIsWritten) {
  auto writer = Open(log_, Rotation{});
  ASSERT_NE(writer, nullptr);
  writer->Write("one\n");
  writer->Write("two\n");
  std::optional<std::string> seen;
  std::thread::id ran_on;
  writer->AfterWritten([&] {
    seen = ReadFile(log_);
    ran_on = std::this_thread::get_id();
  });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return seen.has_value(); }));
  EXPECT_EQ(*seen, "one\ntwo\n");
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(LogWriterTest, RotationThatFailsKeepsWritingAndRecovers) {
  LogCapture capture;
  // A directory where web.log.1 should go: renaming onto it fails.
  fs::create_directory(Numbered(log_, 1));
  WriteFile(fs::path(Numbered(log_, 1)) / "keep", "x");
  auto writer = Open(log_, Rotation{10, 1});
  ASSERT_NE(writer, nullptr);
  std::string all;
  for (int n = 0; n < 5; ++n) {
    writer->Write(Line(n));
    all += Line(n);
  }
  ASSERT_TRUE(WaitForSize(log_, all.size())) << ReadFile(log_);
  EXPECT_EQ(ReadFile(log_), all);

  fs::remove_all(Numbered(log_, 1));
  writer->Write(Line(5));
  writer.reset();
  EXPECT_EQ(ReadFile(Numbered(log_, 1)), all);
  EXPECT_EQ(ReadFile(log_), Line(5));
  EXPECT_EQ(capture.Text(),
            "error: cannot rotate " + log_.string() + ": cannot rename " +
                log_.string() +
                ": Is a directory; it keeps growing until rotation works "
                "again\n"
                "info: rotating " +
                log_.string() + " works again\n");
}

class LogWriterStreamTest : public LogWriterTest {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0) << std::strerror(errno);
    read_end_ = UniqueFd(fds[0]);
    write_end_ = UniqueFd(fds[1]);
    ASSERT_EQ(::fcntl(read_end_.Get(), F_SETFL, O_NONBLOCK), 0);
  }

  // Reads what the pipe has now into received_.
  void Drain() {
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(read_end_.Get(), buffer, sizeof buffer)) > 0) {
      received_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  UniqueFd read_end_;
  UniqueFd write_end_;
  std::string received_;
};

TEST_F(LogWriterStreamTest, IsFullWhileMoreThanTheHighWaterMarkWaits) {
  auto writer = LogWriter::ForStream(write_end_.Get(), "stdout", mailbox_);
  EXPECT_EQ(writer->name(), "stdout");
  EXPECT_FALSE(writer->is_file());
  EXPECT_FALSE(writer->Full());

  // Nobody reads the pipe: at most what it holds leaves the queue.
  const int pipe_size = ::fcntl(write_end_.Get(), F_GETPIPE_SZ);
  ASSERT_GT(pipe_size, 0);
  const std::size_t total = LogWriter::kHighWater + 2 * pipe_size + 1;
  std::string all;
  for (int n = 0; all.size() < total; ++n) {
    std::string block =
        std::to_string(n) + ":" + std::string(60000, 'w') + "\n";
    all += block;
    writer->Write(std::move(block));
  }
  EXPECT_TRUE(writer->Full());

  bool resumed = false;
  std::thread::id resumed_on;
  writer->WhenRoom([&] {
    resumed = true;
    resumed_on = std::this_thread::get_id();
  });
  loop_.RunOnce(Duration(0));
  EXPECT_FALSE(resumed);
  EXPECT_TRUE(writer->Full());

  // Reading the pipe makes room; the callback runs on the loop.
  EventSource reading =
      loop_.AddIo(read_end_.Get(), EPOLLIN, [&](uint32_t) { Drain(); });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return resumed; }))
      << received_.size() << " of " << all.size() << " bytes read";
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
  ASSERT_TRUE(
      RunLoopUntil(loop_, [&] { return received_.size() >= all.size(); }));
  EXPECT_FALSE(writer->Full());
  writer.reset();
  Drain();
  EXPECT_EQ(received_.size(), all.size());
  EXPECT_TRUE(received_ == all) << "the stream came out changed";
}

TEST_F(LogWriterStreamTest, WhenRoomRunsOnTheLoopWhenThereIsRoomNow) {
  auto writer = LogWriter::ForStream(write_end_.Get(), "stderr", mailbox_);
  writer->Write("a line\n");
  int resumed = 0;
  writer->WhenRoom([&] { ++resumed; });
  writer->WhenRoom([&] { ++resumed; });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return resumed == 2; }));
  writer.reset();
  Drain();
  EXPECT_EQ(received_, "a line\n");
}

TEST_F(LogWriterStreamTest, AWaiterOfAWriterThatIsGoneNeverRuns) {
  auto writer = LogWriter::ForStream(write_end_.Get(), "stdout", mailbox_);
  bool resumed = false;
  writer->WhenRoom([&] { resumed = true; });
  writer.reset();
  // Whatever was posted for it runs before this, and must not touch it.
  bool marker = false;
  mailbox_.Post([&] { marker = true; });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return marker; }));
  EXPECT_FALSE(resumed);
}

TEST_F(LogWriterStreamTest, ReopenOfAStreamHasNothingToDo) {
  auto writer = LogWriter::ForStream(write_end_.Get(), "stdout", mailbox_);
  writer->Write("x\n");
  std::optional<std::string> error;
  writer->Reopen([&](std::string result) { error = std::move(result); });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return error.has_value(); }));
  EXPECT_EQ(*error, "");
  writer.reset();
  Drain();
  EXPECT_EQ(received_, "x\n");
}

TEST_F(LogWriterStreamTest, OutputNobodyReadsIsDiscarded) {
  IgnoreSigpipe ignore;
  LogCapture capture;
  read_end_.Reset();
  auto writer = LogWriter::ForStream(write_end_.Get(), "stdout", mailbox_);
  writer->Write("lost\n");
  writer.reset();  // must not wait for a reader that will never come
  EXPECT_EQ(capture.Text(),
            "error: cannot write to workerd's stdout: Broken pipe; output "
            "meant for it is discarded\n");
}

}  // namespace
}  // namespace workerd
