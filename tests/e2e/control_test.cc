// The control socket under abuse, spoken to byte by byte: garbage, unknown
// commands, over-long lines, too many clients, a client that never reads.
// Each case ends by checking that workerd still answers and still
// supervises (PROTOCOL.md: "never a crash, never a stalled loop").

#include <errno.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

using std::chrono::steady_clock;

constexpr const char* kOneWorker = R"toml(
[program.web]
command = ["@WORKER@"]
start_period = "0s"
)toml";

// The daemon's limit on simultaneous control connections
// (ControlServerLimits::max_clients).
constexpr int kMaxClients = 64;

std::string ErrorCode(const Json& response) {
  if (!response.is_object() || !response.contains("error") ||
      !response["error"].is_object()) {
    return "<no error in " + response.dump() + ">";
  }
  return response["error"].value("code", "<no code>");
}

std::string ErrorMessage(const Json& response) {
  if (!response.is_object() || !response.contains("error")) return "";
  return response["error"].value("message", "");
}

// The daemon answers and supervises: a fresh status works, and a killed
// worker is replaced.
void ExpectHealthy(Daemon& daemon) {
  auto answer = daemon.Call("status");
  ASSERT_TRUE(std::holds_alternative<proto::Response>(answer))
      << std::get<std::string>(answer);
  EXPECT_TRUE(std::get<proto::Response>(answer).ok);
  EXPECT_TRUE(daemon.KillAndWaitReplaced("web", 0));
}

TEST(Control, MalformedRequestsGetErrorsAndTheConnectionGoesOn) {
  Daemon daemon(kOneWorker);
  ASSERT_TRUE(daemon.Start());
  RawConnection conn(daemon.socket_path());
  ASSERT_TRUE(conn.connected());

  Json answer = conn.Ask("{not json");
  EXPECT_EQ(answer["ok"], false) << answer;
  EXPECT_EQ(ErrorCode(answer), "bad_request");
  EXPECT_TRUE(answer["id"].is_null()) << answer;

  answer = conn.Ask("[1, 2, 3]");
  EXPECT_EQ(ErrorCode(answer), "bad_request") << answer;

  // A wrong field still gets its id back when the id itself is valid.
  answer = conn.Ask(R"({"id": 6, "command": 42})");
  EXPECT_EQ(ErrorCode(answer), "bad_request") << answer;
  EXPECT_EQ(answer["id"], 6) << answer;

  answer = conn.Ask(R"({"id": 7, "command": "version", "protocol": 99})");
  EXPECT_EQ(ErrorCode(answer), "unsupported_protocol") << answer;
  EXPECT_EQ(answer["id"], 7) << answer;

  // Blank lines are skipped, not answered.
  answer = conn.Ask(
      "\n"
      R"({"id": 8, "command": "version"})");
  EXPECT_EQ(answer["ok"], true) << answer;
  EXPECT_EQ(answer["id"], 8) << answer;
  EXPECT_EQ(answer["result"]["protocol"], 1) << answer;

  // Two requests in one write: two answers, in order.
  ASSERT_FALSE(conn.Send(R"({"id": "a", "command": "version"})"
                         "\n"
                         R"({"id": "b", "command": "status"})"
                         "\n"));
  std::optional<std::string> first = conn.ReadLine();
  std::optional<std::string> second = conn.ReadLine();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(Json::parse(*first, nullptr, false)["id"], "a") << *first;
  EXPECT_EQ(Json::parse(*second, nullptr, false)["id"], "b") << *second;

  EXPECT_FALSE(conn.eof());
  ExpectHealthy(daemon);
}

TEST(Control, UnknownCommandsAndTargetsAreNamed) {
  Daemon daemon(kOneWorker);
  ASSERT_TRUE(daemon.Start());
  RawConnection conn(daemon.socket_path());
  ASSERT_TRUE(conn.connected());

  Json answer = conn.Ask(R"({"id": "x", "command": "stauts"})");
  EXPECT_EQ(ErrorCode(answer), "unknown_command") << answer;
  EXPECT_EQ(answer["id"], "x");
  EXPECT_NE(ErrorMessage(answer).find("did you mean \"status\""),
            std::string::npos)
      << answer;

  answer =
      conn.Ask(R"({"id": 9, "command": "stop", "args": {"targets": ["wbe"]}})");
  EXPECT_EQ(ErrorCode(answer), "unknown_target") << answer;
  EXPECT_EQ(ErrorMessage(answer),
            "no program named \"wbe\" (did you mean \"web\"?)");

  answer = conn.Ask(
      R"({"id": 10, "command": "stop", "args": {"targets": ["web:5"]}})");
  EXPECT_EQ(ErrorCode(answer), "unknown_target") << answer;

  // Nothing was stopped by the refused requests.
  answer = conn.Ask(R"({"id": 11, "command": "status"})");
  EXPECT_EQ(answer["ok"], true) << answer;
  EXPECT_EQ(answer["result"]["programs"][0]["instances"][0]["state"], "ready")
      << answer;
  ExpectHealthy(daemon);
}

TEST(Control, OverlongLineIsRefusedAndTheConnectionClosed) {
  Daemon daemon(kOneWorker);
  ASSERT_TRUE(daemon.Start());
  RawConnection conn(daemon.socket_path());
  ASSERT_TRUE(conn.connected());

  // A valid request first: it is answered before the long line is refused.
  std::string bytes = R"({"id": 1, "command": "version"})"
                      "\n";
  bytes += std::string(2 << 20, 'x');
  bytes += "\n";
  int error = 0;
  // The daemon may close before taking all 2 MiB: EPIPE/ECONNRESET are
  // fine, a stall (ETIMEDOUT) is not.
  conn.Send(bytes, kDeadline, &error);
  EXPECT_NE(error, ETIMEDOUT) << "workerd stopped reading without closing";

  std::optional<std::string> line = conn.ReadLine();
  ASSERT_TRUE(line);
  Json answer = Json::parse(*line, nullptr, false);
  EXPECT_EQ(answer["id"], 1) << *line;
  EXPECT_EQ(answer["ok"], true) << *line;

  line = conn.ReadLine();
  ASSERT_TRUE(line) << "no line_too_long answer";
  answer = Json::parse(*line, nullptr, false);
  EXPECT_EQ(ErrorCode(answer), "line_too_long") << *line;
  EXPECT_TRUE(answer["id"].is_null()) << *line;
  EXPECT_TRUE(conn.WaitForEof()) << "the connection was not closed";

  ExpectHealthy(daemon);
}

TEST(Control, TooManyClientsAreTurnedAwayAndTheLimitRecovers) {
  Daemon daemon(kOneWorker);
  ASSERT_TRUE(daemon.Start());

  // One at a time, each proven in by an answer, so that the count is exact.
  std::vector<RawConnection> held;
  std::vector<RawConnection> refused;
  for (int i = 0; i < kMaxClients + 6; ++i) {
    RawConnection conn(daemon.socket_path());
    ASSERT_TRUE(conn.connected()) << "connection " << i;
    Json answer = conn.Ask(R"({"id": 1, "command": "version"})");
    if (answer["ok"] == true) {
      held.push_back(std::move(conn));
      continue;
    }
    EXPECT_EQ(ErrorCode(answer), "too_many_clients") << answer;
    EXPECT_TRUE(answer["id"].is_null()) << answer;
    EXPECT_TRUE(conn.WaitForEof()) << "a refused connection stays open";
    refused.push_back(std::move(conn));
  }
  EXPECT_EQ(held.size(), static_cast<size_t>(kMaxClients));
  EXPECT_EQ(refused.size(), 6u);

  // The held connections keep working.
  Json answer = held.front().Ask(R"({"id": 2, "command": "status"})");
  EXPECT_EQ(answer["ok"], true) << answer;

  // A newcomer is told why, by proto::Client and by workerctl.
  auto full = daemon.Call("status");
  ASSERT_TRUE(std::holds_alternative<proto::Response>(full))
      << std::get<std::string>(full);
  ASSERT_TRUE(std::get<proto::Response>(full).error);
  EXPECT_EQ(std::get<proto::Response>(full).error->code, "too_many_clients");
  CommandResult ctl = daemon.RunCtl({"status"});
  EXPECT_EQ(ctl.exit_code, 1) << ctl.out << ctl.err;
  EXPECT_NE(ctl.err.find("too many control connections"), std::string::npos)
      << ctl.err;

  held.clear();
  refused.clear();
  // Closed connections are forgotten: a fresh status works again.
  const auto until = steady_clock::now() + kDeadline;
  bool recovered = false;
  while (!recovered && steady_clock::now() < until) {
    auto again = daemon.Call("status");
    recovered = std::holds_alternative<proto::Response>(again) &&
                std::get<proto::Response>(again).ok;
    if (!recovered) usleep(20 * 1000);
  }
  EXPECT_TRUE(recovered) << "status still refused after the clients left";
  ExpectHealthy(daemon);
}

TEST(Control, ClientThatNeverReadsDoesNotStallTheDaemon) {
  Daemon daemon(R"toml(
[program.web]
command = ["@WORKER@"]
workers = 3
start_period = "0s"
)toml");
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 3, "ready"); },
      "3 ready workers"));

  RawConnection greedy(daemon.socket_path());
  ASSERT_TRUE(greedy.connected());
  // Status requests whose 64 KiB id every answer echoes: the unread
  // answers pass the daemon's 4 MiB bound after some 70 requests, rather
  // than after thousands of small ones (slow under ASan).
  const std::string request = R"({"id": ")" + std::string(64 << 10, 'i') +
                              R"(", "command": "status"})"
                              "\n";
  std::string batch;
  for (int i = 0; i < 8; ++i) batch += request;

  const auto until = steady_clock::now() + std::chrono::seconds(30);
  bool closed = false;
  int batches = 0;
  long worst_ms = 0;
  while (!closed && steady_clock::now() < until) {
    int error = 0;
    // A full socket buffer (ETIMEDOUT here) just means "try again".
    if (greedy.Send(batch, Millis(100), &error) && error != ETIMEDOUT) {
      closed = true;
    }
    ++batches;
    // Meanwhile another client is answered promptly.
    const auto asked = steady_clock::now();
    auto answer = daemon.Call("status", Json::object(), Millis(5000));
    long took =
        std::chrono::duration_cast<Millis>(steady_clock::now() - asked).count();
    worst_ms = std::max(worst_ms, took);
    ASSERT_TRUE(std::holds_alternative<proto::Response>(answer))
        << "status while a client does not read: "
        << std::get<std::string>(answer);
    ASSERT_TRUE(std::get<proto::Response>(answer).ok);
  }
  EXPECT_TRUE(closed) << "workerd kept a non-reading client after " << batches
                      << " batches of 8 requests";
  EXPECT_LT(worst_ms, 2000)
      << "a status took " << worst_ms << " ms while a client did not read";
  EXPECT_TRUE(daemon.WaitForLog("does not read its answers"));
  ExpectHealthy(daemon);
}

TEST(Control, SecondWorkerdOnTheSameSocketExitsWith1) {
  Daemon daemon(kOneWorker);
  ASSERT_TRUE(daemon.Start());

  std::string other = daemon.dir().Write(
      "other.toml", "[daemon]\ncontrol_socket = \"" + daemon.socket_path() +
                        R"toml("

[program.idle]
command = ["@WORKER@"]
autostart = false
)toml");
  CommandResult result = RunProgram({kWorkerdPath, "-c", other});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find(daemon.socket_path()), std::string::npos)
      << result.err;
  // The running workerd keeps its socket.
  ExpectHealthy(daemon);
}

TEST(Control, WorkerctlSaysWhenWorkerdIsNotRunning) {
  TempDir dir;
  std::string missing = dir.Path("control.sock");
  CommandResult result = RunProgram({kWorkerctlPath, "-s", missing, "status"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("workerd is not running"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(missing), std::string::npos) << result.err;

  // The socket from $WORKERD_SOCKET, and --json.
  result = RunProgram({kWorkerctlPath, "--json", "status"},
                      {"WORKERD_SOCKET=" + missing});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  Json json = Json::parse(result.out, nullptr, false);
  EXPECT_EQ(ErrorCode(json), "not_running") << result.out;

  // A socket file that nothing listens on (a workerd that was SIGKILLed).
  std::string stale = dir.Path("stale.sock");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, stale.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  close(fd);
  result = RunProgram({kWorkerctlPath, "-s", stale, "stop", "web"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("workerd is not running"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace workerd::e2e
