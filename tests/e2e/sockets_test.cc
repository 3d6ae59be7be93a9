// Listening sockets end to end: [socket.NAME] bound by workerd and passed
// to workers at fd 3.. with LISTEN_FDS, shared or one per slot with
// SO_REUSEPORT, Unix sockets with their mode, errors at start, --check,
// and sockets adopted from systemd-socket-activate.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/harness_http.h"
#include "tests/support/load_checks.h"

namespace workerd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// "[socket.http]" on 127.0.0.1:PORT, with `extra` lines in the table.
std::string HttpSocket(int port, const std::string& extra = "") {
  return "[socket.http]\nlisten = \"127.0.0.1:" + std::to_string(port) +
         "\"\n" + extra + "\n";
}

// A program of `workers` test workers serving HTTP on the socket "http",
// ready once they serve, each with a report at @DIR@/report.{instance}.
std::string HttpProgram(int workers) {
  return R"toml(
[program.web]
command = ["@WORKER@", "--http", "--notify-ready",
           "--report", "@DIR@/report.{instance}"]
sockets = ["http"]
ready = "notify"
workers = )toml" +
         std::to_string(workers) + "\n";
}

// Two free ports, distinct from each other.
std::pair<int, int> TwoFreePorts() {
  int first = FreePort();
  int second = FreePort();
  while (second == first) second = FreePort();
  return {first, second};
}

// GETs `count` times, each on a new connection: how many were answered
// 200, the bodies, and the first few errors.
struct Answers {
  int ok = 0;
  std::set<std::string> bodies;
  std::vector<std::string> errors;
};
Answers GetMany(const HttpTarget& target, int count) {
  Answers answers;
  for (int i = 0; i < count; ++i) {
    auto answer = HttpGet(target);
    if (auto* ok = std::get_if<HttpAnswer>(&answer); ok && ok->status == 200) {
      ++answers.ok;
      answers.bodies.insert(ok->body);
    } else if (answers.errors.size() < 5) {
      answers.errors.push_back(ok ? "status " + std::to_string(ok->status)
                                  : std::get<std::string>(answer));
    }
  }
  return answers;
}

// What the worker of `instance` reported, checked to be that worker's.
std::optional<Report> ReportOf(Daemon& daemon, const Json& status,
                               int instance) {
  std::optional<Report> report =
      WaitForReport(daemon.Path("report." + std::to_string(instance)));
  if (report &&
      (*report)["pid"] != std::to_string(PidOf(status, "web", instance))) {
    ADD_FAILURE() << "report." << instance << " is of pid " << (*report)["pid"]
                  << ", not of web:" << instance << "'s worker; status:\n"
                  << status.dump(2);
    return std::nullopt;
  }
  return report;
}

// Waits until web has `workers` ready workers; `status` gets the status
// that shows them.
bool WaitForReadyWorkers(Daemon& daemon, int workers, Json* status) {
  return daemon.WaitFor(
      [&](const Json& s) { return AllInState(s, "web", workers, "ready"); },
      workers == 1 ? "web:0 ready" : std::to_string(workers) + " ready workers",
      kDeadline, status);
}

// The reports of web's first `workers` workers (see ReportOf), each
// expected to have LISTEN_PID set to its pid and the `expected` values;
// nullopt after a failure when one is missing.
std::optional<std::vector<Report>> ExpectReports(Daemon& daemon,
                                                 const Json& status,
                                                 int workers,
                                                 const Report& expected) {
  std::vector<Report> reports;
  for (int i = 0; i < workers; ++i) {
    SCOPED_TRACE("web:" + std::to_string(i));
    std::optional<Report> report = ReportOf(daemon, status, i);
    if (!report) {
      ADD_FAILURE() << "no report of web:" << i;
      return std::nullopt;
    }
    EXPECT_EQ((*report)["env.LISTEN_PID"], (*report)["pid"]);
    for (const auto& [key, value] : expected) {
      EXPECT_EQ((*report)[key], value) << key;
    }
    reports.push_back(*std::move(report));
  }
  return reports;
}

// Waits until web's `workers` workers of HttpProgram are ready (`status`
// gets the status that shows them) and expects workerd to say that the
// socket http listens on 127.0.0.1:`port` (`balance`: "shared" or
// "reuseport"). Then the workers' reports, as ExpectReports gives them,
// each expected to have that one socket at fd 3 and the `expected` values.
std::optional<std::vector<Report>> ServingReports(Daemon& daemon, int workers,
                                                  int port,
                                                  std::string_view balance,
                                                  Report expected,
                                                  Json* status) {
  if (!WaitForReadyWorkers(daemon, workers, status)) return std::nullopt;
  const std::string address = "127.0.0.1:" + std::to_string(port);
  EXPECT_TRUE(daemon.WaitForLog("socket http: listening on " + address + " (" +
                                std::string(balance) + ")"));
  expected["env.LISTEN_FDS"] = "1";
  expected["fd.3.address"] = address;
  return ExpectReports(daemon, *status, workers, expected);
}

// The listening sockets ("socket:[inode]") at fd 3 of `reports`.
std::set<std::string> Fd3Sockets(const std::vector<Report>& reports) {
  std::set<std::string> sockets;
  for (const Report& report : reports) sockets.insert(report.at("fd.3"));
  return sockets;
}

// GETs `count` times (see GetMany) and expects every one answered.
Answers ExpectAllAnswered(const HttpTarget& target, int count) {
  Answers answers = GetMany(target, count);
  EXPECT_EQ(answers.ok, count)
      << "first errors: " << ::testing::PrintToString(answers.errors);
  return answers;
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket: " << strerror(errno);
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected =
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

TEST(Sockets, SharedSocketIsOneListenerForEveryWorker) {
  const int port = FreePort();
  Daemon daemon(HttpSocket(port) + HttpProgram(3));
  ASSERT_TRUE(daemon.Start());
  Json status;
  std::optional<std::vector<Report>> reports =
      ServingReports(daemon, 3, port, "shared",
                     {{"env.LISTEN_FDNAMES", "http"},
                      {"fds", "0,1,2,3"},
                      {"fd.3.type", "stream"},
                      {"fd.3.listening", "yes"}},
                     &status);
  ASSERT_TRUE(reports);
  // One socket (one inode) for all three.
  EXPECT_EQ(Fd3Sockets(*reports).size(), 1u);

  Answers answers = ExpectAllAnswered(TcpTarget(port), 60);
  for (const std::string& body : answers.bodies) {
    EXPECT_EQ(body.rfind("instance=", 0), 0u) << body;
  }
}

TEST(Sockets, ReuseportSlotKeepsItsListenerWhileItsWorkerIsReplaced) {
  const int port = FreePort();
  Daemon daemon(HttpSocket(port, "balance = \"reuseport\"") + HttpProgram(2));
  ASSERT_TRUE(daemon.Start());
  Json status;
  std::optional<std::vector<Report>> reports = ServingReports(
      daemon, 2, port, "reuseport", {{"fd.3.listening", "yes"}}, &status);
  ASSERT_TRUE(reports);
  // A listener of its own for each slot, all on the one port.
  const std::set<std::string> sockets = Fd3Sockets(*reports);
  EXPECT_EQ(sockets.size(), 2u);

  const HttpTarget target = TcpTarget(port);
  ExpectAllAnswered(target, 40);

  // Load all through the kill. Keep-alive clients whose connection was
  // web:0's reconnect, and new connections that the kernel hashes to
  // web:0's listener wait in its queue (workerd holds it) for the
  // replacement instead of being refused. A request the killed worker had
  // already taken dies with it; on a kept-alive connection that counts as
  // retried, on a fresh one as failed.
  constexpr int kFreshClients = 2;
  LoadLoop kept_alive(target, 6, /*keep_alive=*/true);
  LoadLoop fresh(target, kFreshClients, /*keep_alive=*/false);
  ASSERT_TRUE(WaitForRequests(fresh, fresh.requests(), 50));
  std::optional<pid_t> replacement = daemon.KillAndWaitReplaced("web", 0);
  ASSERT_TRUE(replacement);
  EXPECT_TRUE(WaitForRequests(fresh, fresh.requests(), 100));
  LoadResult kept_result = kept_alive.Stop();
  LoadResult fresh_result = fresh.Stop();

  EXPECT_EQ(kept_result.failed, 0)
      << ::testing::PrintToString(kept_result.errors);
  EXPECT_GT(kept_result.ok, 0);
  // SIGKILL gives the worker no chance to answer what it had accepted:
  // at most one request per fresh client, reset or closed unanswered.
  // Nothing else may fail; above all no connection may be refused.
  EXPECT_LE(fresh_result.failed, kFreshClients)
      << ::testing::PrintToString(fresh_result.errors);
  for (const std::string& error : fresh_result.errors) {
    const bool lost_with_the_worker =
        error == "connection closed before a complete answer" ||
        error.ends_with(": Connection reset by peer") ||
        error.ends_with(": Broken pipe");
    EXPECT_TRUE(lost_with_the_worker) << error;
  }
  const std::string replacement_body =
      "instance=0 pid=" + std::to_string(*replacement) + "\n";
  EXPECT_GT(fresh_result.bodies[replacement_body] +
                kept_result.bodies[replacement_body],
            0)
      << "the replacement answered nothing; bodies: "
      << ::testing::PrintToString(fresh_result.bodies);

  // The replacement got the slot's listener back, not a new one. Its
  // report replaced the killed worker's before it sent READY=1.
  std::optional<Report> report = WaitForReport(daemon.Path("report.0"));
  ASSERT_TRUE(report);
  ASSERT_EQ((*report)["pid"], std::to_string(*replacement));
  EXPECT_EQ((*report)["fd.3.address"], "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(sockets.count((*report)["fd.3"]), 1u)
      << (*report)["fd.3"] << " is not one of the listeners before the kill";
}

TEST(Sockets, TwoSocketsAreFd3And4InDeclaredOrder) {
  const auto [port_a, port_b] = TwoFreePorts();
  Daemon daemon("[socket.b]\nlisten = \"127.0.0.1:" + std::to_string(port_b) +
                "\"\n[socket.a]\nlisten = \"127.0.0.1:" +
                std::to_string(port_a) + "\"\n" + R"toml(
[program.web]
command = ["@WORKER@", "--report", "@DIR@/report.{instance}",
           "--print", "b is fd {fd:b}", "--", "{fd:a}"]
sockets = ["a", "b"]
start_period = "0s"
)toml");
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(WaitForReadyWorkers(daemon, 1, &status));
  // The program's order, not the order of the [socket.NAME] tables.
  // {fd:NAME} expanded to the number, inside a word and as a whole word.
  ASSERT_TRUE(
      ExpectReports(daemon, status, 1,
                    {{"env.LISTEN_FDS", "2"},
                     {"env.LISTEN_FDNAMES", "a:b"},
                     {"fds", "0,1,2,3,4"},
                     {"fd.3.address", "127.0.0.1:" + std::to_string(port_a)},
                     {"fd.4.address", "127.0.0.1:" + std::to_string(port_b)},
                     {"fd.3.listening", "yes"},
                     {"fd.4.listening", "yes"},
                     {"argv4", "b is fd 4"},
                     {"argv6", "3"}}));
  EXPECT_TRUE(daemon.WaitForLog("b is fd 4\n"));
}

TEST(Sockets, UnixSocketHasItsModeAndIsRemovedAtExit) {
  Daemon daemon(R"toml(
[socket.http]
listen = "unix:@DIR@/http.sock"
mode = "0600"
)toml" + HttpProgram(1));
  const std::string path = daemon.Path("http.sock");
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(WaitForReadyWorkers(daemon, 1, &status));

  struct stat file {};
  ASSERT_EQ(stat(path.c_str(), &file), 0) << path << ": " << strerror(errno);
  EXPECT_TRUE(S_ISSOCK(file.st_mode));
  EXPECT_EQ(file.st_mode & 07777, 0600u) << std::oct << file.st_mode;

  std::optional<Report> report = ReportOf(daemon, status, 0);
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["env.LISTEN_FDNAMES"], "http");
  EXPECT_EQ((*report)["fd.3.address"], "unix:" + path);
  EXPECT_EQ((*report)["fd.3.listening"], "yes");

  auto answer = HttpGet(HttpTarget{.port = 0, .unix_path = path});
  ASSERT_TRUE(std::holds_alternative<HttpAnswer>(answer))
      << std::get<std::string>(answer);
  EXPECT_EQ(std::get<HttpAnswer>(answer).status, 200);
  EXPECT_EQ(std::get<HttpAnswer>(answer).body,
            "instance=0 pid=" + std::to_string(PidOf(status, "web", 0)) + "\n");

  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_NE(access(path.c_str(), F_OK), 0) << path << " is still there";
}

TEST(Sockets, PortInUseIsAnErrorBeforeAnyWorkerStarts) {
  // Ours, listening: workerd's SO_REUSEADDR does not get past that.
  int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  ASSERT_EQ(getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length),
            0);
  const int port = ntohs(address.sin_port);

  Daemon daemon(HttpSocket(port) + R"toml(
[program.web]
command = ["@WORKER@", "--http", "--pidfile", "@DIR@/worker.pid"]
sockets = ["http"]
)toml");
  // Not daemon.Start(), which expects a running workerd: this one must
  // exit at once.
  CommandResult run = RunProgram({kWorkerdPath, "-c", daemon.config_path()});
  close(taken);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  const std::string log = run.out + run.err;
  EXPECT_NE(log.find("socket \"http\": cannot listen on 127.0.0.1:" +
                     std::to_string(port) + ": Address already in use"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("started pid"), std::string::npos) << log;
  EXPECT_NE(access(daemon.Path("worker.pid").c_str(), F_OK), 0)
      << "a worker was started";
}

constexpr const char* kValidWithSockets = R"toml(
[socket.http]
listen = "127.0.0.1:8080"
balance = "reuseport"

[socket.admin]
listen = "unix:@DIR@/admin.sock"
mode = "0660"

[program.web]
command = ["@WORKER@", "--print", "admin is fd {fd:admin}"]
sockets = ["http", "admin"]
workers = 2
)toml";

// Line 7, column 12: "htp".
constexpr const char* kMisspelledSocket = R"toml(
[socket.http]
listen = "127.0.0.1:8080"

[program.web]
command = ["@WORKER@"]
sockets = ["htp"]
)toml";

TEST(Sockets, CheckValidatesSocketNames) {
  TempDir dir;
  const std::string valid = dir.Write(
      "valid.toml", FillPlaceholders(kValidWithSockets, dir.path(), ""));
  CommandResult ok = RunProgram({kWorkerdPath, "--check", "-c", valid});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("valid"), std::string::npos) << ok.out;
  // --check binds nothing.
  EXPECT_NE(access(dir.Path("admin.sock").c_str(), F_OK), 0);

  const std::string typo = dir.Write(
      "typo.toml", FillPlaceholders(kMisspelledSocket, dir.path(), ""));
  CommandResult bad = RunProgram({kWorkerdPath, "--check", "-c", typo});
  EXPECT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_NE(bad.err.find(typo + ":7:12: sockets: there is no socket \"htp\" "
                                "(did you mean \"http\"?)"),
            std::string::npos)
      << bad.err;
}

// systemd-socket-activate run as a child of the test, its output into
// the daemon's log file. It listens, and on the first connection execs
// workerd in its own process with the socket at fd 3: the pid stays the
// same. Stopped (SIGTERM, then SIGKILL) when it goes out of scope.
class SocketActivate {
 public:
  SocketActivate(const std::string& binary, int port, Daemon& daemon) {
    std::vector<std::string> args = {
        binary,
        "--listen=127.0.0.1:" + std::to_string(port),
        "--fdname=http",
        kWorkerdPath,
        "-c",
        daemon.config_path()};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string log_path = daemon.Path("workerd.log");
    int log =
        open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log < 0 || null < 0) {
      ADD_FAILURE() << "cannot open " << log_path << ": " << strerror(errno);
      return;
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls until exec.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(127);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGPIPE, SIG_DFL);
      if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (pid_ < 0) ADD_FAILURE() << "fork: " << strerror(errno);
    close(log);
    close(null);
  }

  ~SocketActivate() {
    if (pid_ > 0) Stop();
  }

  pid_t pid() const { return pid_; }

  // SIGTERM, and its exit status; SIGKILL (and a failure) after the
  // deadline.
  std::optional<int> Stop() {
    kill(pid_, SIGTERM);
    const auto until = Clock::now() + kDeadline;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) != pid_) {
      if (Clock::now() > until) {
        ADD_FAILURE() << "pid " << pid_ << " did not exit on SIGTERM";
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

TEST(Sockets, AdoptsTheSocketPassedBySystemd) {
  const std::string binary = "/usr/bin/systemd-socket-activate";
  ASSERT_EQ(access(binary.c_str(), X_OK), 0)
      << binary << " is missing: install Debian's systemd package "
      << "(scripts/dev does)";
  // The configured port is not the one passed: a worker answering on the
  // passed one, with the configured one unbound, proves the adoption.
  const auto [passed_port, configured_port] = TwoFreePorts();
  Daemon daemon(HttpSocket(configured_port) + HttpProgram(2));
  SocketActivate activate(binary, passed_port, daemon);
  ASSERT_GT(activate.pid(), 0);

  // The first connection is what makes it exec workerd; it waits in the
  // socket's queue until a worker accepts it.
  const HttpTarget target = TcpTarget(passed_port);
  ASSERT_TRUE(WaitForHttp(target)) << daemon.Log();
  Json status;
  // systemd-socket-activate became workerd, in the same process: ppid.
  ASSERT_TRUE(ServingReports(daemon, 2, passed_port, "shared",
                             {{"env.LISTEN_FDNAMES", "http"},
                              {"fds", "0,1,2,3"},
                              {"ppid", std::to_string(activate.pid())}},
                             &status));
  ExpectAllAnswered(target, 20);
  EXPECT_FALSE(Accepts(configured_port))
      << "workerd bound the configured port too";

  EXPECT_EQ(activate.Stop(), 0);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(daemon.WaitGone(PidOf(status, "web", i), "a worker"));
  }
}

}  // namespace
}  // namespace workerd::e2e
