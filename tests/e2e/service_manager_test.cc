// workerd under a service manager, end to end: the test plays systemd. It
// binds its own NOTIFY_SOCKET (and sets WATCHDOG_USEC) in workerd's
// environment and reads what workerd sends: READY=1 once the programs are
// up, STATUS= kept current, WATCHDOG=1 from the loop, RELOADING=1 and
// READY=1 around a reload, STOPPING=1 at shutdown; and STATUS= with the
// reason when workerd cannot start.

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/harness_http.h"

namespace workerd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// One sd_notify datagram, as KEY -> VALUE lines.
struct Notification {
  std::string text;

  bool Has(std::string_view assignment) const {
    return Value(assignment.substr(0, assignment.find('='))) ==
           assignment.substr(assignment.find('=') + 1);
  }
  std::optional<std::string> Value(std::string_view key) const {
    std::string_view rest = text;
    while (!rest.empty()) {
      const std::size_t end = std::min(rest.find('\n'), rest.size());
      std::string_view line = rest.substr(0, end);
      if (line.size() > key.size() && line.substr(0, key.size()) == key &&
          line[key.size()] == '=') {
        return std::string(line.substr(key.size() + 1));
      }
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
    return std::nullopt;
  }
};

// The service manager's end of NOTIFY_SOCKET: every datagram received, in
// order. A thread reads them as they come, as systemd does: a Unix
// datagram socket holds only a few unread messages
// (net.unix.max_dgram_qlen) before the sender blocks, and workerd would
// stall in sd_notify while the test waits for something else.
class NotifyListener {
 public:
  explicit NotifyListener(std::string path) : path_(std::move(path)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address),
                        sizeof(address)) != 0) {
      ADD_FAILURE() << "cannot bind " << path_ << ": " << strerror(errno);
      return;
    }
    reader_ = std::thread([this] { Read(); });
  }
  ~NotifyListener() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) close(fd_);
  }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  std::string Assignment() const { return "NOTIFY_SOCKET=" + path_; }

  // Polls until a datagram from index `from` on satisfies `wanted`, and
  // returns its index; or nullopt (and a failure naming `what` and listing
  // what came) after the deadline.
  template <typename Predicate>
  std::optional<std::size_t> WaitFor(Predicate wanted, const std::string& what,
                                     std::size_t from = 0,
                                     Millis deadline = kDeadline) {
    const auto until = Clock::now() + deadline;
    while (true) {
      const std::vector<Notification> seen = received();
      for (std::size_t i = from; i < seen.size(); ++i) {
        if (wanted(seen[i])) return i;
      }
      if (Clock::now() > until) break;
      std::this_thread::sleep_for(Millis(5));
    }
    ADD_FAILURE() << "no notification " << what << "; received:\n" << Dump();
    return std::nullopt;
  }

  std::vector<Notification> received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

  std::string Dump() const {
    std::string dump;
    for (const Notification& n : received()) dump += "  [" + n.text + "]\n";
    return dump;
  }

 private:
  void Read() {
    while (!stop_) {
      pollfd ready{fd_, POLLIN, 0};
      if (poll(&ready, 1, 20) <= 0) continue;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back({std::string(buffer, static_cast<std::size_t>(n))});
    }
  }

  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_ = false;
  mutable std::mutex mutex_;
  std::vector<Notification> received_;
  std::thread reader_;
};

bool IsReady(const Notification& n) { return n.Has("READY=1"); }

unsigned long long MonotonicMicros() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
         static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
}

// web says READY=1 itself; jobs is ready once it stayed up start_period.
std::string TwoPrograms(int jobs = 1) {
  return R"toml(
[program.web]
command = ["@WORKER@", "--ready-after", "300"]
workers = 2
ready = "notify"

[program.jobs]
command = ["@WORKER@"]
start_period = "200ms"
workers = )toml" +
         std::to_string(jobs) + "\n";
}

TEST(ServiceManager, NotifiesReadyStatusWatchdogReloadingAndStoppingInOrder) {
  Daemon daemon(TwoPrograms());
  NotifyListener systemd(daemon.Path("notify"));
  daemon.AddEnvironment(systemd.Assignment());
  // Pinged at about a third of it: several pings within a second.
  daemon.AddEnvironment("WATCHDOG_USEC=600000");
  ASSERT_TRUE(daemon.Start());

  // READY=1 comes once every worker is up, not when workerd is.
  auto ready = systemd.WaitFor(IsReady, "READY=1");
  ASSERT_TRUE(ready);
  EXPECT_EQ(systemd.received().at(*ready).Value("STATUS"),
            "web 2/2 ready, jobs 1/1 running")
      << systemd.Dump();
  for (std::size_t i = 0; i < *ready; ++i) {
    EXPECT_FALSE(systemd.received().at(i).Has("RELOADING=1")) << systemd.Dump();
  }
  // Before it, the status line followed the start.
  const std::vector<Notification> until_ready = systemd.received();
  EXPECT_TRUE(std::any_of(
      until_ready.begin(), until_ready.begin() + static_cast<long>(*ready),
      [](const Notification& n) {
        return n.Value("STATUS").value_or("").find("web 0/2 ready") == 0;
      }))
      << systemd.Dump();

  auto watchdog = systemd.WaitFor(
      [](const Notification& n) { return n.Has("WATCHDOG=1"); }, "WATCHDOG=1",
      *ready + 1);
  ASSERT_TRUE(watchdog);

  // A reload: RELOADING=1 stamped with CLOCK_MONOTONIC, then READY=1 once
  // the third jobs worker is up.
  daemon.RewriteConfig(TwoPrograms(3));
  const unsigned long long before = MonotonicMicros();
  CommandResult reload = daemon.RunCtl({"reload"});
  const unsigned long long after = MonotonicMicros();
  EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  auto reloading = systemd.WaitFor(
      [](const Notification& n) { return n.Has("RELOADING=1"); },
      "RELOADING=1", *watchdog + 1);
  ASSERT_TRUE(reloading);
  const std::string stamp =
      systemd.received().at(*reloading).Value("MONOTONIC_USEC").value_or("0");
  EXPECT_GE(std::stoull(stamp), before) << systemd.Dump();
  EXPECT_LE(std::stoull(stamp), after) << systemd.Dump();
  auto reloaded = systemd.WaitFor(IsReady, "READY=1 after the reload",
                                  *reloading + 1);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(systemd.received().at(*reloaded).Value("STATUS"),
            "web 2/2 ready, jobs 3/3 running")
      << systemd.Dump();

  // Still fed after the reload.
  ASSERT_TRUE(systemd.WaitFor(
      [](const Notification& n) { return n.Has("WATCHDOG=1"); },
      "WATCHDOG=1 after the reload", *reloaded + 1));

  daemon.Signal(SIGTERM);
  auto stopping = systemd.WaitFor(
      [](const Notification& n) { return n.Has("STOPPING=1"); }, "STOPPING=1",
      *reloaded + 1);
  ASSERT_TRUE(stopping);
  EXPECT_EQ(systemd.received().at(*stopping).Value("STATUS"),
            "stopping: 5 workers left")
      << systemd.Dump();
  EXPECT_EQ(daemon.WaitForExit(), 0);
  // Nothing said READY=1 between the stop and the exit.
  systemd.WaitFor(
      [](const Notification& n) {
        return n.Value("STATUS") == "stopping: 0 workers left";
      },
      "the last worker's stop in STATUS", *stopping);
  const std::vector<Notification> all = systemd.received();
  for (std::size_t i = *stopping; i < all.size(); ++i) {
    EXPECT_FALSE(IsReady(all[i])) << systemd.Dump();
  }
}

TEST(ServiceManager, ReadyDoesNotWaitForACrashLoopWhichStatusShows) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@"]
start_period = "100ms"

[program.broken]
command = ["@WORKER@", "--exit-after", "0", "--exit-code", "1"]
start_period = "1s"
backoff = { initial = "10s", max = "10s" }
)toml");
  NotifyListener systemd(daemon.Path("notify"));
  daemon.AddEnvironment(systemd.Assignment());
  ASSERT_TRUE(daemon.Start());
  auto ready = systemd.WaitFor(IsReady, "READY=1");
  ASSERT_TRUE(ready);
  EXPECT_EQ(systemd.received().at(*ready).Value("STATUS"),
            "web 1/1 running, broken 0/1 running (1 backoff)")
      << systemd.Dump();
}

TEST(ServiceManager, AReloadThatChangesNothingIsReadyAtOnce) {
  Daemon daemon(TwoPrograms());
  NotifyListener systemd(daemon.Path("notify"));
  daemon.AddEnvironment(systemd.Assignment());
  ASSERT_TRUE(daemon.Start());
  auto ready = systemd.WaitFor(IsReady, "READY=1");
  ASSERT_TRUE(ready);

  daemon.RewriteConfig("[program.web]\ncommand = [\n");
  daemon.Signal(SIGHUP);
  auto reloading = systemd.WaitFor(
      [](const Notification& n) { return n.Has("RELOADING=1"); },
      "RELOADING=1", *ready + 1);
  ASSERT_TRUE(reloading);
  auto again = systemd.WaitFor(IsReady, "READY=1 after the failed reload",
                               *reloading + 1);
  ASSERT_TRUE(again);
  EXPECT_EQ(systemd.received().at(*again).Value("STATUS"),
            "web 2/2 ready, jobs 1/1 running")
      << systemd.Dump();
  ASSERT_TRUE(daemon.WaitForLog("nothing was changed"));
}

TEST(ServiceManager, ACannotStartReasonIsTheStatus) {
  TempDir dir;
  NotifyListener systemd(dir.Path("notify"));
  // A port someone else holds.
  const int port = FreePort();
  int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ASSERT_EQ(listen(holder, 1), 0);
  const std::string config = dir.Write(
      "workers.toml",
      "[daemon]\ncontrol_socket = \"" + dir.Path("control.sock") +
          "\"\n\n[socket.http]\nlisten = \"127.0.0.1:" + std::to_string(port) +
          "\"\n");
  CommandResult run =
      RunProgram({kWorkerdPath, "-c", config}, {systemd.Assignment()});
  close(holder);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  auto status = systemd.WaitFor(
      [](const Notification& n) { return n.Value("STATUS").has_value(); },
      "STATUS=");
  ASSERT_TRUE(status);
  const std::string text = *systemd.received().at(*status).Value("STATUS");
  EXPECT_EQ(text.rfind("cannot run: ", 0), 0u) << text;
  EXPECT_NE(text.find("Address already in use"), std::string::npos) << text;
  for (const Notification& n : systemd.received()) {
    EXPECT_FALSE(IsReady(n)) << systemd.Dump();
  }
}

}  // namespace
}  // namespace workerd::e2e
