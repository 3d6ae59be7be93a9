// Readiness and liveness through sd_notify end to end: ready = "notify"
// workers are `starting` until READY=1 (from the worker or a process of
// its group), are killed when it never comes or when WATCHDOG=1 stops,
// show their STATUS=, and messages from strangers are ignored.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::string MessageOf(const Json& status, std::string_view program,
                      int instance) {
  Json message = Field(status, program, instance, "message");
  return message.is_string() ? message.get<std::string>() : "";
}

std::string LastExitTextOf(const Json& status, std::string_view program,
                           int instance) {
  Json last_exit = Field(status, program, instance, "last_exit");
  return last_exit.is_object() && last_exit["text"].is_string()
             ? last_exit["text"].get<std::string>()
             : "";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++count;
  }
  return count;
}

// workers.toml: [program.web] with ready = "notify" and the `keys`.
std::string NotifyWeb(std::string_view keys) {
  return "[program.web]\nready = \"notify\"\n" + std::string(keys);
}

// NotifyWeb for a worker that sends READY=1 at once and WATCHDOG=1 every
// 50 ms, with the further arguments `more_args` (TOML strings), and
// watchdog = "300ms".
std::string WatchdogWeb(std::string_view more_args) {
  return NotifyWeb(
      R"(command = ["@WORKER@", "--notify-ready", "--watchdog-every", "50", )" +
      std::string(more_args) + "]\nwatchdog = \"300ms\"\n");
}

// Waits until web:0 is ready; `status` gets the status that shows it.
bool WaitReady(Daemon& daemon, Json* status) {
  return daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "web", 0) == "ready"; },
      "web:0 ready", kDeadline, status);
}

// Starts workerd, then WaitReady.
bool StartUntilReady(Daemon& daemon, Json* status) {
  return daemon.Start() && WaitReady(daemon, status);
}

// Expects that workerd ignored no notify message as a stranger's.
void ExpectNoStranger(const Daemon& daemon) {
  EXPECT_EQ(daemon.Log().find("not a worker"), std::string::npos)
      << daemon.Log();
}

// Expects that web:0's worker `pid` was killed for having sent `silence`
// ("no READY=1 within 500ms"), as `status` and the log say, and reaped.
void ExpectKilledFor(Daemon& daemon, const Json& status, pid_t pid,
                     const std::string& silence, const std::string& what) {
  EXPECT_EQ(LastExitTextOf(status, "web", 0),
            "killed by SIGKILL because it sent " + silence)
      << status.dump(2);
  EXPECT_TRUE(daemon.WaitReaped(pid, what));
  EXPECT_NE(
      daemon.Log().find("web[0]: pid " + std::to_string(pid) + " sent " +
                        silence + "; killing its process group with SIGKILL"),
      std::string::npos)
      << daemon.Log();
}

TEST(Readiness, NotifyWorkerIsStartingUntilItSendsReady) {
  Daemon daemon(NotifyWeb(R"toml(
command = ["@WORKER@", "--ready-after", "300"]
autostart = false
)toml"));
  ASSERT_TRUE(daemon.Start());

  // Answered as soon as the worker is spawned: READY=1 is 300 ms away.
  CommandResult started =
      daemon.RunCtl({"--json", "--no-wait", "start", "web"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  Json answer = Json::parse(started.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << started.out;
  ASSERT_EQ(answer["workers"].size(), 1u) << started.out;
  const Json& worker = answer["workers"][0];
  EXPECT_EQ(worker["state"], "starting") << started.out;
  const pid_t pid = PidOf(worker);
  ASSERT_GT(pid, 0) << started.out;
  daemon.Track(pid);
  EXPECT_EQ(worker["message"],
            "started pid " + std::to_string(pid) + "; waiting for READY=1");

  Json status;
  ASSERT_TRUE(WaitReady(daemon, &status));
  EXPECT_EQ(PidOf(status, "web", 0), pid);
  EXPECT_EQ(MessageOf(status, "web", 0),
            "pid " + std::to_string(pid) + " sent READY=1");
  EXPECT_TRUE(daemon.WaitForLog("web[0]: pid " + std::to_string(pid) +
                                " sent READY=1 [ready]"));

  // `start` waits for READY=1, which cannot come before 300 ms.
  CommandResult stopped = daemon.RunCtl({"stop", "web"});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  const auto before = Clock::now();
  CommandResult waited = daemon.RunCtl({"start", "web"});
  const auto took = std::chrono::duration_cast<Millis>(Clock::now() - before);
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  EXPECT_GE(took.count(), 300);
  status = daemon.Status();
  EXPECT_EQ(StateOf(status, "web", 0), "ready") << status.dump(2);
  EXPECT_NE(PidOf(status, "web", 0), pid);
}

TEST(Readiness, ReadyFromAChildOfTheWorkerCounts) {
  Daemon daemon(NotifyWeb(R"toml(
command = ["@WORKER@", "--notify-ready", "--notify-from-child"]
ready_timeout = "10s"
)toml"));
  Json status;
  ASSERT_TRUE(StartUntilReady(daemon, &status));
  // The message names the child that sent it, not the worker.
  const pid_t pid = PidOf(status, "web", 0);
  const std::string message = MessageOf(status, "web", 0);
  EXPECT_TRUE(message.starts_with("pid ") && message.ends_with(" sent READY=1"))
      << message;
  EXPECT_NE(message, "pid " + std::to_string(pid) + " sent READY=1");
  EXPECT_EQ(Field(status, "web", 0, "restarts"), 0);
  ExpectNoStranger(daemon);
}

TEST(Readiness, ReadyFromAShellWrappersChildCounts) {
  // Not `exec`: the shell stays the worker's main process and the test
  // worker, its child in the same process group, sends READY=1.
  Daemon daemon(NotifyWeb(R"toml(
command = "/bin/sh -c '@WORKER@ --notify-ready --pidfile @DIR@/child.pid; true'"
ready_timeout = "10s"
)toml"));
  Json status;
  ASSERT_TRUE(StartUntilReady(daemon, &status));
  const pid_t shell = PidOf(status, "web", 0);
  std::optional<pid_t> child = daemon.ReadPidfile(daemon.Path("child.pid"));
  ASSERT_TRUE(child);
  EXPECT_NE(*child, shell);
  EXPECT_EQ(getpgid(*child), shell);
  EXPECT_EQ(MessageOf(status, "web", 0),
            "pid " + std::to_string(*child) + " sent READY=1");
  ExpectNoStranger(daemon);
}

TEST(Readiness, NoReadyWithinReadyTimeoutIsKilled) {
  Daemon daemon(NotifyWeb(R"toml(
command = ["@WORKER@", "--pidfile", "@DIR@/worker.pid"]
ready_timeout = "500ms"
backoff = { initial = "10s", max = "10s" }
)toml"));
  ASSERT_TRUE(daemon.Start());
  std::optional<pid_t> pid = daemon.ReadPidfile(daemon.Path("worker.pid"));
  ASSERT_TRUE(pid);
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "web", 0) != "starting"; },
      "web:0 to leave starting", kDeadline, &status));
  // A failed start: retried after the backoff.
  EXPECT_EQ(StateOf(status, "web", 0), "backoff") << status.dump(2);
  EXPECT_EQ(PidOf(status, "web", 0), 0);
  EXPECT_EQ(Field(status, "web", 0, "last_exit")["signal"], 9);
  ExpectKilledFor(daemon, status, *pid, "no READY=1 within 500ms",
                  "the worker that never got ready");
}

TEST(Readiness, StatusTextShowsInStatus) {
  Daemon daemon(NotifyWeb(R"toml(
command = ["@WORKER@", "--notify-status", "warming up", "--ready-after", "50"]
)toml"));
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return StateOf(s, "web", 0) == "ready" &&
               Field(s, "web", 0, "notify_status") == "warming up";
      },
      "web:0 ready with STATUS=warming up"));

  CommandResult json = daemon.RunCtl({"status", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json printed = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(printed.is_object()) << json.out;
  EXPECT_EQ(Field(printed, "web", 0, "notify_status"), "warming up")
      << json.out;
  EXPECT_TRUE(Field(printed, "web", 0, "handover").is_null()) << json.out;

  CommandResult table = daemon.RunCtl({"status"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::istringstream lines(table.out);
  std::string header;
  std::getline(lines, header);
  const size_t message_column = header.find("MESSAGE");
  ASSERT_NE(message_column, std::string::npos) << table.out;
  std::string row;
  while (std::getline(lines, row) && row.rfind("web:0 ", 0) != 0) {
  }
  ASSERT_EQ(row.rfind("web:0 ", 0), 0u) << table.out;
  ASSERT_GT(row.size(), message_column) << table.out;
  EXPECT_NE(row.substr(message_column).find("status: warming up"),
            std::string::npos)
      << table.out;
}

TEST(Readiness, WatchdogPingsKeepTheWorker) {
  Daemon daemon(WatchdogWeb(R"("--report", "@DIR@/report")"));
  Json status;
  ASSERT_TRUE(StartUntilReady(daemon, &status));
  const pid_t pid = PidOf(status, "web", 0);
  std::optional<Report> report = WaitForReport(daemon.Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["pid"], std::to_string(pid));
  EXPECT_EQ((*report)["env.WATCHDOG_USEC"], "300000");

  // Polled until the worker has been up for four watchdog periods; it
  // must be the same process all along.
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        if (PidOf(s, "web", 0) != pid) return true;  // judged below
        Json uptime = Field(s, "web", 0, "uptime_ms");
        return uptime.is_number_integer() && uptime.get<int64_t>() >= 1200;
      },
      "web:0 up for 1.2 s", kDeadline, &status));
  EXPECT_EQ(PidOf(status, "web", 0), pid) << status.dump(2);
  EXPECT_EQ(StateOf(status, "web", 0), "ready");
  EXPECT_EQ(Field(status, "web", 0, "restarts"), 0);
  EXPECT_EQ(daemon.Log().find("WATCHDOG"), std::string::npos) << daemon.Log();
}

TEST(Readiness, SilentWatchdogKillsAndRestarts) {
  Daemon daemon(WatchdogWeb(R"("--watchdog-stop-after", "300")"));
  Json status;
  ASSERT_TRUE(StartUntilReady(daemon, &status));
  const pid_t first = PidOf(status, "web", 0);

  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        return Field(s, "web", 0, "restarts").is_number_integer() &&
               Field(s, "web", 0, "restarts").get<int>() >= 1;
      },
      "web:0 to be restarted", kDeadline, &status));
  EXPECT_NE(PidOf(status, "web", 0), first);
  ExpectKilledFor(daemon, status, first, "no WATCHDOG=1 for 300ms",
                  "the worker whose watchdog fired");
}

// Sends `message` to the abstract socket `address` ("@name") from a child
// process of the test, and returns the child's pid once it has sent it.
pid_t SendFromChild(const sockaddr_un& address, socklen_t length,
                    const std::string& message) {
  pid_t child = fork();
  if (child == 0) {
    // Only async-signal-safe calls.
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ssize_t sent = sendto(fd, message.data(), message.size(), 0,
                          reinterpret_cast<const sockaddr*>(&address), length);
    _exit(sent == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return child;
}

TEST(Readiness, MessagesFromStrangersAreIgnored) {
  Daemon daemon(NotifyWeb(R"toml(
command = ["@WORKER@", "--report", "@DIR@/report"]
ready_timeout = "60s"
)toml"));
  ASSERT_TRUE(daemon.Start());
  std::optional<Report> report = WaitForReport(daemon.Path("report"));
  ASSERT_TRUE(report);
  const std::string notify_socket = (*report)["env.NOTIFY_SOCKET"];
  ASSERT_EQ(notify_socket.rfind("@", 0), 0u) << notify_socket;

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LE(notify_socket.size(), sizeof(address.sun_path));
  std::memcpy(address.sun_path, notify_socket.data(), notify_socket.size());
  address.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                             notify_socket.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 2; ++i) {
    const std::string ready = "READY=1";
    EXPECT_EQ(sendto(fd, ready.data(), ready.size(), 0,
                     reinterpret_cast<const sockaddr*>(&address), length),
              static_cast<ssize_t>(ready.size()))
        << strerror(errno);
  }
  close(fd);
  // Datagrams are handled in order: once a later stranger is logged, both
  // of ours were handled.
  const pid_t later = SendFromChild(address, length, "READY=1");
  ASSERT_TRUE(daemon.WaitForLog("ignored a notify message from pid " +
                                std::to_string(later) +
                                ", which is not a worker"));

  const std::string log = daemon.Log();
  EXPECT_EQ(
      Count(log, "ignored a notify message from pid " +
                     std::to_string(getpid()) + ", which is not a worker"),
      1u)
      << log;
  EXPECT_EQ(Count(log, "not a worker"), 2u) << log;
  Json status = daemon.Status();
  EXPECT_EQ(StateOf(status, "web", 0), "starting") << status.dump(2);
  EXPECT_EQ(PidOf(status, "web", 0), std::stoi((*report)["pid"]));
}

}  // namespace
}  // namespace workerd::e2e
