// Real servers from Debian packages under workerd: gunicorn taking its
// listener from LISTEN_FDS and uvicorn from `--fd {fd:http}`, each serving
// HTTP and going through a rolling restart under load without a failed
// request.
//
// They are part of the suite, not optional: when a package is missing the
// test fails and names it (the CI installs gunicorn and python3-uvicorn).
// The Debian python is used explicitly, since a pyenv python3 may come
// first in PATH and lack these modules.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/harness_http.h"
#include "tests/support/load_checks.h"

namespace workerd::e2e {
namespace {

constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kGunicorn = "/usr/bin/gunicorn";

// Python starts slowly under a loaded machine; this bounds failing tests.
constexpr Millis kPythonDeadline{30000};

// A WSGI app answering with the gunicorn master's pid (the process workerd
// started; the sync worker is its child) and the worker's own.
constexpr const char* kWsgiApp = R"py(import os


def application(environ, start_response):
    body = "instance=%s pid=%d worker=%d\n" % (
        os.environ.get("WORKERD_INSTANCE", "?"), os.getppid(), os.getpid())
    body = body.encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
)py";

// An ASGI app with no dependency beyond uvicorn, answering with its pid.
constexpr const char* kAsgiApp = R"py(import os


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = "instance=%s pid=%d\n" % (
        os.environ.get("WORKERD_INSTANCE", "?"), os.getpid())
    body = body.encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
)py";

::testing::AssertionResult PythonInstalled() {
  if (::access(kPython, X_OK) != 0) {
    return ::testing::AssertionFailure()
           << kPython << " is missing: install the Debian package python3";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult GunicornInstalled() {
  if (auto python = PythonInstalled(); !python) return python;
  if (::access(kGunicorn, X_OK) != 0) {
    return ::testing::AssertionFailure()
           << kGunicorn
           << " is missing: install the Debian package gunicorn "
              "(apt-get install gunicorn)";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult UvicornInstalled() {
  if (auto python = PythonInstalled(); !python) return python;
  CommandResult probe =
      RunProgram({kPython, "-c", "import uvicorn"}, {}, kPythonDeadline);
  if (probe.exit_code != 0) {
    return ::testing::AssertionFailure()
           << kPython
           << " cannot import uvicorn: install the Debian package "
              "python3-uvicorn (apt-get install python3-uvicorn)\n"
           << probe.err;
  }
  return ::testing::AssertionSuccess();
}

// Both programs run two servers.
constexpr int kWorkers = 2;

// workers.toml: [socket.http] on 127.0.0.1:`port` and `program` (the
// [program.web] keys but `workers`) listing it.
std::string WebConfig(int port, std::string_view program) {
  std::ostringstream toml;
  toml << "[socket.http]\n"
       << "listen = \"127.0.0.1:" << port << "\"\n\n"
       << "[program.web]\n"
       << "sockets = [\"http\"]\n"
       << "workers = " << kWorkers << "\n"
       << program;
  return toml.str();
}

// One server under workerd, and what it did under a rolling restart.
class RealServers : public ::testing::Test {
 protected:
  // Runs `program` with `app` as @DIR@/app.py, checks that the server
  // answers, and runs a rolling restart of web under four clients.
  // Everything is checked here but the answers' bodies, which differ per
  // server.
  void ServeAndRoll(std::string_view program, std::string_view app,
                    bool keep_alive);

  int port_ = 0;
  std::optional<Daemon> daemon_;
  std::vector<pid_t> old_pids_;
  std::vector<pid_t> new_pids_;
  LoadResult load_;
};

void RealServers::ServeAndRoll(std::string_view program, std::string_view app,
                               bool keep_alive) {
  port_ = FreePort();
  ASSERT_GT(port_, 0);
  daemon_.emplace(WebConfig(port_, program));
  daemon_->dir().Write("app.py", app);
  ASSERT_TRUE(daemon_->Start());
  Json status;
  ASSERT_TRUE(
      daemon_->WaitFor([&](const Json& s) { return SettledReady(s, kWorkers); },
                       "every web worker ready", kPythonDeadline, &status));
  old_pids_ = SlotPids(status, kWorkers);

  const HttpTarget target = TcpTarget(port_);
  ASSERT_TRUE(WaitForHttp(target, kPythonDeadline))
      << "nothing answers on " << target.ToString();
  auto answer = HttpGet(target);
  ASSERT_TRUE(std::holds_alternative<HttpAnswer>(answer))
      << std::get<std::string>(answer);
  EXPECT_EQ(std::get<HttpAnswer>(answer).status, 200);
  EXPECT_EQ(std::get<HttpAnswer>(answer).body.rfind("instance=", 0), 0u)
      << std::get<HttpAnswer>(answer).body;

  // Some answers from the new servers only.
  std::optional<LoadedCommand> rollout = RunCtlUnderLoad(
      *daemon_, {"restart", "web"}, target, keep_alive, 50, kPythonDeadline);
  ASSERT_TRUE(rollout);
  const CommandResult& restart = rollout->result;
  load_ = rollout->load;

  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_NE(restart.out.find("web: " + std::to_string(kWorkers) + " of " +
                             std::to_string(kWorkers) + " workers replaced\n"),
            std::string::npos)
      << restart.out;
  EXPECT_EQ(load_.failed, 0) << DescribeLoad(load_);
  EXPECT_GE(load_.ok, 100) << DescribeLoad(load_);

  status = daemon_->Status();
  EXPECT_TRUE(SettledReady(status, kWorkers)) << status.dump(2);
  new_pids_ = SlotPids(status, kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    EXPECT_NE(new_pids_[i], old_pids_[i]) << "web:" << i;
    EXPECT_TRUE(daemon_->WaitReaped(
        old_pids_[i], "the old server of web:" + std::to_string(i)));
  }

  // Answers came from the old servers and then from the new ones.
  ExpectOldAndNewAnswered(load_, old_pids_, new_pids_, "server");
}

TEST_F(RealServers, GunicornTakesItsListenerFromListenFds) {
  ASSERT_TRUE(GunicornInstalled());
  // No --bind and no flag: gunicorn's arbiter (20.1, gunicorn/systemd.py)
  // takes the sockets of LISTEN_FDS when LISTEN_PID is its own pid, hands
  // them to its workers, and on exit only closes its copies. It also sends
  // "READY=1\nSTATUS=Gunicorn arbiter booted" to NOTIFY_SOCKET once it
  // listens, before its workers are forked; until they accept, connections
  // wait in the listen queue, which workerd keeps open.
  // A request per connection: the sync workers close every connection.
  ASSERT_NO_FATAL_FAILURE(ServeAndRoll(R"toml(
command = ["/usr/bin/gunicorn", "--workers", "2", "--chdir", "@DIR@",
           "app:application"]
ready = "notify"
ready_timeout = "30s"
stop_timeout = "10s"
)toml",
                                       kWsgiApp, /*keep_alive=*/false));

  Json status = daemon_->Status();
  for (int i = 0; i < kWorkers; ++i) {
    EXPECT_EQ(Field(status, "web", i, "message"),
              "pid " + std::to_string(new_pids_[i]) + " sent READY=1")
        << status.dump(2);
    EXPECT_EQ(Field(status, "web", i, "notify_status"),
              "Gunicorn arbiter booted")
        << status.dump(2);
  }

  // Every gunicorn process seen, masters and their workers, goes with
  // workerd; the teardown checks that none is left.
  std::set<pid_t> workers;
  for (const auto& [body, count] : load_.bodies) {
    int instance = 0;
    int master = 0;
    int worker = 0;
    if (std::sscanf(body.c_str(), "instance=%d pid=%d worker=%d", &instance,
                    &master, &worker) == 3) {
      workers.insert(worker);
    }
  }
  EXPECT_GE(workers.size(), 2u) << "answers from fewer than two workers";
  for (pid_t pid : workers) daemon_->Track(pid);
  EXPECT_EQ(daemon_->Stop(), 0);
  for (pid_t pid : workers) {
    EXPECT_TRUE(
        daemon_->WaitGone(pid, "gunicorn worker " + std::to_string(pid)));
  }
}

TEST_F(RealServers, UvicornServesOnTheFdOfItsSocket) {
  ASSERT_TRUE(UvicornInstalled());
  // uvicorn sends no READY=1: ready once it stayed up for start_period.
  // Until it accepts, connections wait in the shared listen queue.
  // Kept-alive connections, as a proxy in front of uvicorn keeps them.
  // Not one request per connection: uvicorn (0.17.6 in Debian 12) closes,
  // on SIGTERM, every connection without a parsed request, including one
  // it accepted a moment earlier whose request it has not read yet; that
  // client gets a reset (uvicorn discussion #2315; it happens as well with
  // two uvicorns sharing a socket and no workerd at all).
  // On a kept-alive connection that is the usual race of reusing an idle
  // connection, which clients retry (counted as `retried`), and the
  // requests in flight are answered with "Connection: close".
  ASSERT_NO_FATAL_FAILURE(ServeAndRoll(R"toml(
command = ["/usr/bin/python3", "-m", "uvicorn", "--fd", "{fd:http}",
           "--no-access-log", "app:app"]
directory = "@DIR@"
start_period = "1s"
stop_timeout = "10s"
)toml",
                                       kAsgiApp, /*keep_alive=*/true));
  // {fd:http} became 3, the first passed socket.
  std::string argv =
      ReadFile("/proc/" + std::to_string(new_pids_[0]) + "/cmdline");
  EXPECT_NE(argv.find(std::string("--fd\0003\0", 7)), std::string::npos)
      << argv;
  EXPECT_NE(daemon_->Log().find("Uvicorn running on socket ('127.0.0.1', " +
                                std::to_string(port_) + ")"),
            std::string::npos)
      << daemon_->Log();
  EXPECT_EQ(daemon_->Stop(), 0);
}

}  // namespace
}  // namespace workerd::e2e
