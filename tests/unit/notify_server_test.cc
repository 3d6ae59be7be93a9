// The notify socket against libsystemd's own sd_notify, sent from real
// child processes and received on a real event loop.
#include "daemon/notify_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace workerd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Received {
  pid_t sender;
  NotifyMessage message;
};

// Routes spdlog's default logger into a string for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("notify_test", sink);
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l: %v");
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  std::string Text() const { return stream_.str(); }
  int Count(const std::string& needle) const {
    std::string text = Text();
    int count = 0;
    for (auto at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + needle.size())) {
      ++count;
    }
    return count;
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

int CountOpenFds() {
  int count = 0;
  for ([[maybe_unused]] auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

// In a child: sends `state` to the server at `address` with libsystemd.
// The child's exit code says whether sd_notify managed (0) or not.
int SdNotify(const std::string& address, const std::string& state) {
  if (::setenv("NOTIFY_SOCKET", address.c_str(), 1) < 0) return 20;
  return sd_notify(0, state.c_str()) > 0 ? 0 : 21;
}

class NotifyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = NotifyServer::Open(
        loop_, [this](pid_t sender, const NotifyMessage& message) {
          received_.push_back({sender, message});
          if (on_message_) on_message_(sender, message);
          return known_;
        });
    auto* error = std::get_if<std::string>(&opened);
    ASSERT_EQ(error, nullptr) << *error;
    server_ = std::move(std::get<std::unique_ptr<NotifyServer>>(opened));
  }

  void TearDown() override {
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    server_.reset();
  }

  // Runs `body` in a child process, which exits with what it returns.
  pid_t Fork(const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 99;
      try {
        code = body();
      } catch (...) {
      }
      ::_exit(code);
    }
    EXPECT_GT(pid, 0) << std::strerror(errno);
    if (pid > 0) children_.push_back(pid);
    return pid;
  }

  // Waits for the child and returns its exit code (-1 when killed).
  int Reap(pid_t pid) {
    int status = 0;
    pid_t reaped = ::waitpid(pid, &status, 0);
    std::erase(children_, pid);
    if (reaped != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }

  bool RunUntil(const std::function<bool()>& done,
                Duration timeout = seconds(10)) {
    auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      loop_.RunOnce(milliseconds(20));
    }
    return true;
  }

  bool RunUntilReceived(std::size_t count) {
    return RunUntil([&] { return received_.size() >= count; });
  }

  // Pumps the loop until the child is gone, so a child blocked on a full
  // socket queue can finish.
  int RunUntilExited(pid_t pid) {
    int status = 0;
    bool exited = RunUntil([&] {
      pid_t reaped = ::waitpid(pid, &status, WNOHANG);
      return reaped == pid;
    });
    if (!exited) return -1;
    std::erase(children_, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Gives the loop a last chance to deliver anything still queued.
  void Drain() {
    for (int i = 0; i < 5; ++i) loop_.RunOnce(milliseconds(1));
  }

  LogCapture log_;
  EventLoop loop_;
  std::unique_ptr<NotifyServer> server_;
  std::vector<Received> received_;
  bool known_ = true;
  std::function<void(pid_t, const NotifyMessage&)> on_message_;
  std::vector<pid_t> children_;
};

TEST_F(NotifyServerTest, AddressIsAbstractAndNamesTheDaemon) {
  const std::string& address = server_->address();
  std::string prefix = "@workerd/" + std::to_string(::getpid()) + "/notify/";
  ASSERT_EQ(address.rfind(prefix, 0), 0u) << address;
  std::string random = address.substr(prefix.size());
  EXPECT_EQ(random.size(), 16u) << address;
  EXPECT_EQ(random.find_first_not_of("0123456789abcdef"), std::string::npos)
      << address;
}

TEST_F(NotifyServerTest, EachServerHasItsOwnAddress) {
  auto other = NotifyServer::Open(
      loop_, [](pid_t, const NotifyMessage&) { return true; });
  auto* second = std::get_if<std::unique_ptr<NotifyServer>>(&other);
  ASSERT_NE(second, nullptr) << std::get<std::string>(other);
  EXPECT_NE((*second)->address(), server_->address());
}

TEST_F(NotifyServerTest, ReceivesReadyAndStatusFromSdNotify) {
  std::string address = server_->address();
  pid_t child =
      Fork([&] { return SdNotify(address, "READY=1\nSTATUS=serving"); });
  ASSERT_TRUE(RunUntilReceived(1));
  EXPECT_EQ(Reap(child), 0);
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0].sender, child);
  NotifyMessage expected;
  expected.ready = true;
  expected.status = "serving";
  EXPECT_EQ(received_[0].message, expected);
  EXPECT_EQ(log_.Count("warning"), 0) << log_.Text();
}

TEST_F(NotifyServerTest, ReceivesFromSdPidNotifyInOrder) {
  std::string address = server_->address();
  pid_t child = Fork([&] {
    if (::setenv("NOTIFY_SOCKET", address.c_str(), 1) < 0) return 20;
    if (sd_pid_notify(0, 0, "STATUS=starting") <= 0) return 21;
    if (sd_pid_notify(::getpid(), 0, "WATCHDOG=1\nERRNO=5") <= 0) return 22;
    // unset_environment: the last message, and NOTIFY_SOCKET is gone.
    if (sd_pid_notify(0, 1, "STOPPING=1") <= 0) return 23;
    return std::getenv("NOTIFY_SOCKET") == nullptr ? 0 : 24;
  });
  ASSERT_TRUE(RunUntilReceived(3));
  EXPECT_EQ(Reap(child), 0);
  ASSERT_EQ(received_.size(), 3u);
  for (const Received& r : received_) EXPECT_EQ(r.sender, child);
  EXPECT_EQ(received_[0].message.status, "starting");
  EXPECT_TRUE(received_[1].message.watchdog);
  EXPECT_EQ(received_[1].message.error_number, 5);
  EXPECT_TRUE(received_[2].message.stopping);
}

TEST_F(NotifyServerTest, MessageWithOnlyUnknownKeysReachesTheHandler) {
  std::string address = server_->address();
  pid_t child = Fork([&] { return SdNotify(address, "MAINPID=1\nX=y"); });
  ASSERT_TRUE(RunUntilReceived(1));
  EXPECT_EQ(Reap(child), 0);
  EXPECT_EQ(received_[0].sender, child);
  EXPECT_TRUE(received_[0].message.Empty());
}

TEST_F(NotifyServerTest, GrandchildIsSeenWithItsOwnPidInTheChildsGroup) {
  std::string address = server_->address();
  int release[2];  // the grandchild lives until the test closes release[1]
  int report[2];   // the child reports the grandchild's pid
  ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t child = Fork([&] {
    ::close(release[1]);
    ::close(report[0]);
    if (::setpgid(0, 0) < 0) return 30;
    pid_t grandchild = ::fork();
    if (grandchild < 0) return 31;
    if (grandchild == 0) {
      int sent = SdNotify(address, "READY=1\nSTATUS=from the grandchild");
      char byte;
      while (::read(release[0], &byte, 1) < 0 && errno == EINTR) {
      }
      ::_exit(sent);
    }
    if (::write(report[1], &grandchild, sizeof(grandchild)) !=
        static_cast<ssize_t>(sizeof(grandchild))) {
      return 34;
    }
    int status = 0;
    if (::waitpid(grandchild, &status, 0) != grandchild) return 32;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 33;
  });
  ::close(release[0]);
  ::close(report[1]);
  // Closed on every path, so that the grandchild ends whatever happens.
  UniqueFd release_grandchild(release[1]);
  UniqueFd reported(report[0]);
  pid_t grandchild = 0;
  ASSERT_EQ(::read(reported.Get(), &grandchild, sizeof(grandchild)),
            static_cast<ssize_t>(sizeof(grandchild)));

  bool received = RunUntilReceived(1);
  pid_t sender = received ? received_[0].sender : -1;
  pid_t group = ProcessGroupOf(sender);  // while the grandchild lives
  release_grandchild.Reset();
  EXPECT_EQ(Reap(child), 0);

  ASSERT_TRUE(received);
  EXPECT_EQ(sender, grandchild);
  EXPECT_NE(sender, child);
  EXPECT_EQ(group, child);
  EXPECT_TRUE(received_[0].message.ready);
  EXPECT_EQ(received_[0].message.status, "from the grandchild");
}

TEST(ProcessGroupOfTest, OwnProcessGroup) {
  EXPECT_EQ(ProcessGroupOf(::getpid()), ::getpgrp());
}

TEST(ProcessGroupOfTest, GoneOrInvalidPidIsMinusOne) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  EXPECT_EQ(ProcessGroupOf(child), -1);
  EXPECT_EQ(ProcessGroupOf(0), -1);
  EXPECT_EQ(ProcessGroupOf(-1), -1);
}

TEST_F(NotifyServerTest, PassedFdsAreClosed) {
  std::string address = server_->address();
  int before = CountOpenFds();
  pid_t child = Fork([&] {
    if (::setenv("NOTIFY_SOCKET", address.c_str(), 1) < 0) return 20;
    int fds[3];
    for (int& fd : fds) {
      fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return 21;
    }
    return sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nREADY=1", fds, 3) > 0 ? 0
                                                                          : 22;
  });
  ASSERT_TRUE(RunUntilReceived(1));
  EXPECT_EQ(Reap(child), 0);
  EXPECT_EQ(received_[0].sender, child);
  EXPECT_TRUE(received_[0].message.ready);
  EXPECT_EQ(CountOpenFds(), before);
}

TEST_F(NotifyServerTest, MostFdsTheKernelPassesAreClosedAndTheMessageKept) {
  std::string address = server_->address();
  constexpr int kFds = 253;  // SCM_MAX_FD
  int before = CountOpenFds();
  pid_t child = Fork([&] {
    if (::setenv("NOTIFY_SOCKET", address.c_str(), 1) < 0) return 20;
    std::vector<int> fds(kFds);
    for (int& fd : fds) {
      fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return 21;
    }
    return sd_pid_notify_with_fds(0, 0, "READY=1", fds.data(), kFds) > 0 ? 0
                                                                         : 22;
  });
  ASSERT_TRUE(RunUntilReceived(1));
  EXPECT_EQ(Reap(child), 0);
  EXPECT_TRUE(received_[0].message.ready);
  EXPECT_EQ(CountOpenFds(), before);
  EXPECT_EQ(log_.Count("warning"), 0) << log_.Text();
}

TEST_F(NotifyServerTest, StrangerIsLoggedOncePerPid) {
  known_ = false;
  std::string address = server_->address();
  auto send_three = [&] {
    for (int i = 0; i < 3; ++i) {
      if (int failed = SdNotify(address, "STATUS=" + std::to_string(i))) {
        return failed;
      }
    }
    return 0;
  };
  pid_t first = Fork(send_three);
  pid_t second = Fork(send_three);
  ASSERT_TRUE(RunUntilReceived(6));
  EXPECT_EQ(Reap(first), 0);
  EXPECT_EQ(Reap(second), 0);
  Drain();
  EXPECT_EQ(received_.size(), 6u);
  for (pid_t stranger : {first, second}) {
    EXPECT_EQ(
        log_.Count("warning: ignored a notify message from pid " +
                   std::to_string(stranger) + ", which is not a worker\n"),
        1)
        << log_.Text();
  }
  EXPECT_EQ(log_.Count("warning"), 2) << log_.Text();
}

TEST_F(NotifyServerTest, WorkersAreNotWarnedAbout) {
  std::string address = server_->address();
  on_message_ = [&](pid_t, const NotifyMessage& message) {
    known_ = message.status != "stranger";
  };
  pid_t worker = Fork([&] { return SdNotify(address, "STATUS=worker"); });
  ASSERT_TRUE(RunUntilReceived(1));
  EXPECT_EQ(Reap(worker), 0);
  pid_t stranger = Fork([&] { return SdNotify(address, "STATUS=stranger"); });
  ASSERT_TRUE(RunUntilReceived(2));
  EXPECT_EQ(Reap(stranger), 0);
  EXPECT_EQ(log_.Count("warning"), 1) << log_.Text();
  EXPECT_EQ(log_.Count("from pid " + std::to_string(stranger) + ","), 1)
      << log_.Text();
}

TEST_F(NotifyServerTest, OversizedDatagramIsDroppedWithAWarning) {
  std::string address = server_->address();
  // sd_notify sends the state without a terminating NUL.
  std::string head = "READY=1\nSTATUS=";
  std::string largest = head + std::string(4096 - head.size(), 'x');
  std::string too_large = "STOPPING=1\nSTATUS=" + std::string(5000, 'y');
  std::string one_too_many = head + std::string(4097 - head.size(), 'z');
  pid_t child = Fork([&] {
    if (int failed = SdNotify(address, largest)) return failed;
    if (int failed = SdNotify(address, too_large)) return failed + 10;
    if (int failed = SdNotify(address, one_too_many)) return failed + 20;
    return SdNotify(address, "STATUS=after");
  });
  ASSERT_TRUE(RunUntil([&] {
    return !received_.empty() && received_.back().message.status == "after";
  }));
  EXPECT_EQ(Reap(child), 0);
  ASSERT_EQ(received_.size(), 2u);
  EXPECT_TRUE(received_[0].message.ready);
  EXPECT_EQ(received_[0].message.status, std::string(kMaxNotifyStatus, 'x'));
  EXPECT_FALSE(received_[1].message.stopping);
  std::string from = " bytes from pid " + std::to_string(child) +
                     ": notify messages are limited to 4096 bytes";
  EXPECT_EQ(log_.Count("warning: ignored a notify message of " +
                       std::to_string(too_large.size()) + from),
            1)
      << log_.Text();
  // Warned about once per sender: a worker looping on bad messages does
  // not flood the log.
  EXPECT_EQ(log_.Count("warning: ignored a notify message of 4097" + from), 0)
      << log_.Text();
}

TEST_F(NotifyServerTest, HandlerExceptionIsContained) {
  std::string address = server_->address();
  on_message_ = [](pid_t, const NotifyMessage& message) {
    if (message.status == "throw") throw std::runtime_error("boom");
  };
  pid_t child = Fork([&] {
    if (int failed = SdNotify(address, "STATUS=throw")) return failed;
    return SdNotify(address, "STATUS=after");
  });
  ASSERT_TRUE(RunUntilReceived(2));
  EXPECT_EQ(Reap(child), 0);
  EXPECT_EQ(received_[1].message.status, "after");
  EXPECT_EQ(log_.Count("internal error while handling a notify message, "
                       "ignored: boom"),
            1)
      << log_.Text();
}

TEST_F(NotifyServerTest, FloodDoesNotStarveTheLoop) {
  std::string address = server_->address();
  std::map<uint64_t, int> per_iteration;
  on_message_ = [&](pid_t, const NotifyMessage&) {
    uint64_t iteration = 0;
    sd_event_get_iteration(loop_.Get(), &iteration);
    ++per_iteration[iteration];
  };
  std::vector<pid_t> flooders;
  for (int i = 0; i < 4; ++i) {
    flooders.push_back(Fork([&] {
      for (;;) {
        if (int failed = SdNotify(address, "WATCHDOG=1")) return failed;
      }
    }));
  }
  ASSERT_TRUE(RunUntilReceived(2000));
  bool fired = false;
  EventSource timer =
      loop_.AddTimer(loop_.Now() + milliseconds(10), [&] { fired = true; });
  EXPECT_TRUE(RunUntil([&] { return fired; }, seconds(5)));
  for (pid_t pid : flooders) ::kill(pid, SIGKILL);
  for (pid_t pid : flooders) EXPECT_EQ(Reap(pid), -1);
  for (const auto& [iteration, count] : per_iteration) {
    EXPECT_LE(count, 256) << "iteration " << iteration;
  }
}

TEST(NotifyServerWakeupTest, ReadsAtMostItsBoundPerWakeup) {
  // A bound of 4 and 8 queued datagrams: the kernel's default queue of a
  // datagram socket (net.unix.max_dgram_qlen) is 10.
  EventLoop loop;
  int calls = 0;
  auto opened = NotifyServer::Open(
      loop,
      [&](pid_t, const NotifyMessage&) {
        ++calls;
        return true;
      },
      /*per_wakeup=*/4);
  auto* server = std::get_if<std::unique_ptr<NotifyServer>>(&opened);
  ASSERT_NE(server, nullptr);
  const std::string address = (*server)->address();
  pid_t sender = ::fork();
  if (sender == 0) {
    for (int i = 0; i < 8; ++i) {
      if (SdNotify(address, "WATCHDOG=1") != 0) ::_exit(1);
    }
    ::_exit(0);
  }
  ASSERT_GT(sender, 0);
  int status = 0;
  // All 8 are queued once the sender is gone.
  ASSERT_EQ(::waitpid(sender, &status, 0), sender);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  loop.RunOnce(seconds(5));
  EXPECT_EQ(calls, 4);
  loop.RunOnce(seconds(5));
  EXPECT_EQ(calls, 8);
}

TEST_F(NotifyServerTest, AddressIsReleasedWithTheServer) {
  std::string address = server_->address();
  int before = CountOpenFds();
  server_.reset();
  EXPECT_EQ(CountOpenFds(), before - 1);
  sockaddr_un name{};
  name.sun_family = AF_UNIX;
  std::memcpy(name.sun_path, address.data(), address.size());
  name.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  int connected = ::connect(
      fd, reinterpret_cast<sockaddr*>(&name),
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size()));
  int error = errno;
  ::close(fd);
  EXPECT_EQ(connected, -1);
  EXPECT_EQ(error, ECONNREFUSED);
}

}  // namespace
}  // namespace workerd
