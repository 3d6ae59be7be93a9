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
#include <set>
#include <sstream>
#include <string>
#include <string_view>
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

// workers.toml: [socket.http] on 127.0.0.1:`port` and `program` (the
// [program.web] keys) listing it.
std::string WebConfig(int port, std::string_view program) {
  std::ostringstream toml;
  toml << "[socket.http]\n"
       << "listen = \"127.0.0.1:" << port << "\"\n\n"
       << "[program.web]\n"
       << "sockets = [\"http\"]\n"
       << program;
  return toml.str();
}

std::vector<pid_t> SlotPids(const Json& status, int workers) {
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) pids.push_back(PidOf(status, "web", i));
  return pids;
}

bool SettledReady(const Json& status, int workers) {
  if (!AllInState(status, "web", workers, "ready")) return false;
  for (const Json& row : Workers(status, "web")) {
    if (!row["handover"].is_null()) return false;
  }
  return static_cast<int>(Workers(status, "web").size()) == workers;
}

// What a server did under a rolling restart.
struct Rolled {
  std::vector<pid_t> old_pids;
  std::vector<pid_t> new_pids;
  LoadResult load;
};

// Starts workerd, checks that the server answers, and runs a rolling
// restart of web under four clients. Everything is checked here but the
// answers' bodies, which differ per server.
void ServeAndRoll(Daemon& daemon, int port, int workers, bool keep_alive,
                  Rolled* rolled) {
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(
      daemon.WaitFor([&](const Json& s) { return SettledReady(s, workers); },
                     "every web worker ready", kPythonDeadline, &status));
  rolled->old_pids = SlotPids(status, workers);

  const HttpTarget target = TcpTarget(port);
  ASSERT_TRUE(WaitForHttp(target, kPythonDeadline))
      << "nothing answers on " << target.ToString();
  auto answer = HttpGet(target);
  ASSERT_TRUE(std::holds_alternative<HttpAnswer>(answer))
      << std::get<std::string>(answer);
  EXPECT_EQ(std::get<HttpAnswer>(answer).status, 200);
  EXPECT_EQ(std::get<HttpAnswer>(answer).body.rfind("instance=", 0), 0u)
      << std::get<HttpAnswer>(answer).body;

  LoadLoop load(target, 4, keep_alive);
  ASSERT_TRUE(WaitForRequests(load, 0, 50, kPythonDeadline));
  CommandResult restart = daemon.RunCtl({"restart", "web"}, kPythonDeadline);
  // Some answers from the new servers only.
  const bool more = WaitForRequests(load, load.requests(), 50, kPythonDeadline);
  rolled->load = load.Stop();
  ReportLoad(rolled->load);
  ASSERT_TRUE(more);

  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_NE(restart.out.find("web: " + std::to_string(workers) + " of " +
                             std::to_string(workers) + " workers replaced\n"),
            std::string::npos)
      << restart.out;
  EXPECT_EQ(rolled->load.failed, 0) << DescribeLoad(rolled->load);
  EXPECT_GE(rolled->load.ok, 100) << DescribeLoad(rolled->load);

  status = daemon.Status();
  EXPECT_TRUE(SettledReady(status, workers)) << status.dump(2);
  rolled->new_pids = SlotPids(status, workers);
  for (int i = 0; i < workers; ++i) {
    EXPECT_NE(rolled->new_pids[i], rolled->old_pids[i]) << "web:" << i;
    EXPECT_TRUE(daemon.WaitReaped(
        rolled->old_pids[i], "the old server of web:" + std::to_string(i)));
  }

  // Answers came from the old servers and then from the new ones.
  std::set<pid_t> answered = AnsweringPids(rolled->load);
  bool old_answered = false;
  bool new_answered = false;
  for (pid_t pid : rolled->old_pids) old_answered |= answered.count(pid) > 0;
  for (pid_t pid : rolled->new_pids) new_answered |= answered.count(pid) > 0;
  EXPECT_TRUE(old_answered) << "no answer from an old server";
  EXPECT_TRUE(new_answered) << "no answer from a new server";
}

TEST(RealServers, GunicornTakesItsListenerFromListenFds) {
  ASSERT_TRUE(GunicornInstalled());
  constexpr int kWorkers = 2;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  // No --bind and no flag: gunicorn's arbiter (20.1, gunicorn/systemd.py)
  // takes the sockets of LISTEN_FDS when LISTEN_PID is its own pid, hands
  // them to its workers, and on exit only closes its copies. It also sends
  // "READY=1\nSTATUS=Gunicorn arbiter booted" to NOTIFY_SOCKET once it
  // listens, before its workers are forked; until they accept, connections
  // wait in the listen queue, which workerd keeps open.
  Daemon daemon(WebConfig(port, R"toml(
command = ["/usr/bin/gunicorn", "--workers", "2", "--chdir", "@DIR@",
           "app:application"]
workers = 2
ready = "notify"
ready_timeout = "30s"
stop_timeout = "10s"
)toml"));
  daemon.dir().Write("app.py", kWsgiApp);

  Rolled rolled;
  // A request per connection: the sync workers close every connection.
  ServeAndRoll(daemon, port, kWorkers, /*keep_alive=*/false, &rolled);
  if (::testing::Test::HasFatalFailure()) return;

  Json status = daemon.Status();
  for (int i = 0; i < kWorkers; ++i) {
    EXPECT_EQ(Field(status, "web", i, "message"),
              "pid " + std::to_string(rolled.new_pids[i]) + " sent READY=1")
        << status.dump(2);
    EXPECT_EQ(Field(status, "web", i, "notify_status"),
              "Gunicorn arbiter booted")
        << status.dump(2);
  }

  // Every gunicorn process seen, masters and their workers, goes with
  // workerd; the teardown checks that none is left.
  std::set<pid_t> workers;
  for (const auto& [body, count] : rolled.load.bodies) {
    int instance = 0;
    int master = 0;
    int worker = 0;
    if (std::sscanf(body.c_str(), "instance=%d pid=%d worker=%d", &instance,
                    &master, &worker) == 3) {
      workers.insert(worker);
    }
  }
  EXPECT_GE(workers.size(), 2u) << "answers from fewer than two workers";
  for (pid_t pid : workers) daemon.Track(pid);
  EXPECT_EQ(daemon.Stop(), 0);
  for (pid_t pid : workers) {
    EXPECT_TRUE(daemon.WaitGone(pid, "gunicorn worker " + std::to_string(pid)));
  }
}

TEST(RealServers, UvicornServesOnTheFdOfItsSocket) {
  ASSERT_TRUE(UvicornInstalled());
  constexpr int kWorkers = 2;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  // uvicorn sends no READY=1: ready once it stayed up for start_period.
  // Until it accepts, connections wait in the shared listen queue.
  Daemon daemon(WebConfig(port, R"toml(
command = ["/usr/bin/python3", "-m", "uvicorn", "--fd", "{fd:http}",
           "--no-access-log", "app:app"]
directory = "@DIR@"
workers = 2
start_period = "1s"
stop_timeout = "10s"
)toml"));
  daemon.dir().Write("app.py", kAsgiApp);

  Rolled rolled;
  // Kept-alive connections, as a proxy in front of uvicorn keeps them.
  // Not one request per connection: uvicorn (0.17.6 in Debian 12) closes,
  // on SIGTERM, every connection without a parsed request, including one
  // it accepted a moment earlier whose request it has not read yet; that
  // client gets a reset (uvicorn discussion #2315; it happens as well with
  // two uvicorns sharing a socket and no workerd at all).
  // On a kept-alive connection that is the usual race of reusing an idle
  // connection, which clients retry (counted as `retried`), and the
  // requests in flight are answered with "Connection: close".
  ServeAndRoll(daemon, port, kWorkers, /*keep_alive=*/true, &rolled);
  if (::testing::Test::HasFatalFailure()) return;
  // {fd:http} became 3, the first passed socket.
  std::string argv =
      ReadFile("/proc/" + std::to_string(rolled.new_pids[0]) + "/cmdline");
  EXPECT_NE(argv.find(std::string("--fd\0003\0", 7)), std::string::npos)
      << argv;
  EXPECT_NE(daemon.Log().find("Uvicorn running on socket ('127.0.0.1', " +
                              std::to_string(port) + ")"),
            std::string::npos)
      << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0);
}

}  // namespace
}  // namespace workerd::e2e
