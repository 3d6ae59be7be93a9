#include "ctl/run.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "proto/exit_codes.h"
#include "proto/message.h"
#include "proto/version.h"
#include "tests/unit/fake_control_server.h"

namespace workerd::ctl {
namespace {

using proto::Error;
using proto::Json;
using proto::Response;
using testing::FakeControlServer;

struct Outcome {
  int status;
  std::string out;
  std::string err;
};

Outcome RunAt(const std::string& socket_path, Invocation invocation) {
  std::ostringstream out;
  std::ostringstream err;
  const int status = Run(invocation, socket_path, out, err);
  return {status, out.str(), err.str()};
}

Invocation Make(std::string command, std::vector<std::string> operands = {},
                bool json = false) {
  Invocation invocation;
  invocation.command = std::move(command);
  invocation.operands = std::move(operands);
  invocation.json = json;
  return invocation;
}

// Answers every request with `response`, addressed to the request's id.
FakeControlServer::Handler AnswerWith(Response response) {
  return [response](const std::string& line) {
    Response answer = response;
    answer.id = std::get<proto::Request>(proto::DecodeRequest(line)).id;
    return FakeControlServer::Reply{proto::EncodeResponse(answer)};
  };
}

Json OneWorker(const char* state, Json pid) {
  return {{"program", "web"}, {"instance", 0},        {"state", state},
          {"pid", pid},       {"uptime_ms", 5000},    {"state_ms", 5000},
          {"restarts", 0},    {"last_exit", nullptr}, {"message", ""}};
}

const Json kStatus = {{"programs",
                       {{{"name", "web"},
                         {"workers", 1},
                         {"instances", {OneWorker("ready", 4123)}}}}}};

TEST(RunTest, StatusPrintsATable) {
  FakeControlServer server(AnswerWith(Response::Success(nullptr, kStatus)));
  const Outcome outcome = RunAt(server.path(), Make("status", {"web"}));
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out,
            "NAME   PID   STATE  UPTIME  RESTARTS  LAST EXIT\n"
            "web:0  4123  ready  5s      0         -\n");
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(server.received(),
            std::vector<std::string>{
                R"({"id":1,"command":"status","args":{"targets":["web"]},)"
                R"("protocol":1})"});
}

TEST(RunTest, JsonPrintsTheResult) {
  FakeControlServer server(AnswerWith(Response::Success(nullptr, kStatus)));
  const Outcome outcome = RunAt(server.path(), Make("status", {}, true));
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out, kStatus.dump(2) + "\n");
  EXPECT_EQ(outcome.err, "");
}

TEST(RunTest, RolloutProgressIsShownAsItComes) {
  const Json step = {{"program", "web"}, {"instance", 0}, {"step", "ready"},
                     {"old_pid", 4100}, {"new_pid", 4123}, {"done", 0},
                     {"total", 1}};
  FakeControlServer server([&](const std::string&) {
    return FakeControlServer::Reply{
        // A shape this workerctl does not know is skipped.
        proto::EncodeResponse(Response::Interim(Json(1), {{"progress", 1}})) +
        proto::EncodeResponse(Response::Interim(Json(1), {{"progress", step}})) +
        proto::EncodeResponse(Response::Success(
            Json(1), {{"workers", {OneWorker("ready", 4123)}}}))};
  });
  const Outcome outcome = RunAt(server.path(), Make("restart", {"web"}));
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out,
            "[0/1] web:0: pid 4123 is ready; stopping pid 4100\n"
            "web:0  ready  pid 4123\n");
}

TEST(RunTest, RolloutProgressIsLeftOutOfJson) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{
        proto::EncodeResponse(Response::Interim(
            Json(1), {{"progress", {{"program", "web"}, {"step", "ready"}}}})) +
        proto::EncodeResponse(Response::Success(Json(1), {{"workers", Json::array()}}))};
  });
  Invocation invocation = Make("restart", {"web"});
  invocation.json = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(Json::parse(outcome.out), (Json{{"workers", Json::array()}}));
}

TEST(RunTest, DaemonErrorsGoToStderr) {
  FakeControlServer server(AnswerWith(Response::Failure(
      nullptr, Error{proto::error_code::kUnknownTarget,
                     "no program named \"wbe\" (did you mean \"web\"?)"})));
  const Outcome outcome = RunAt(server.path(), Make("stop", {"wbe"}));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err,
            "workerctl: no program named \"wbe\" (did you mean \"web\"?)\n");
}

TEST(RunTest, FailedCommandShowsTheWorkersAndTheReason) {
  Json fatal = OneWorker("fatal", nullptr);
  fatal["message"] = "exited 5 times within 60s";
  FakeControlServer server(AnswerWith(Response::Failure(
      nullptr, Error{proto::error_code::kFailed, "web:0 did not become ready"},
      {{"workers", {fatal}}})));
  const Outcome outcome = RunAt(server.path(), Make("start", {"web"}));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out, "web:0  fatal  exited 5 times within 60s\n");
  EXPECT_EQ(outcome.err, "workerctl: web:0 did not become ready\n");
}

TEST(RunTest, FailedCommandAsJson) {
  FakeControlServer server(AnswerWith(Response::Failure(
      nullptr, Error{proto::error_code::kFailed, "web:0 did not become ready"},
      {{"workers", Json::array()}})));
  const Outcome outcome = RunAt(server.path(), Make("start", {}, true));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out,
            "{\n"
            "  \"error\": {\n"
            "    \"code\": \"failed\",\n"
            "    \"message\": \"web:0 did not become ready\"\n"
            "  },\n"
            "  \"result\": {\n"
            "    \"workers\": []\n"
            "  }\n"
            "}\n");
  EXPECT_EQ(outcome.err, "");
}

TEST(RunTest, NotRunning) {
  const Outcome outcome = RunAt("/nonexistent/control.sock", Make("status"));
  EXPECT_EQ(outcome.status, proto::kCtlNotRunning);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err,
            "workerctl: workerd is not running (no socket at "
            "/nonexistent/control.sock)\n");
}

TEST(RunTest, NotRunningAsJson) {
  const Outcome outcome =
      RunAt("/nonexistent/control.sock", Make("status", {}, true));
  EXPECT_EQ(outcome.status, proto::kCtlNotRunning);
  EXPECT_EQ(Json::parse(outcome.out),
            Json::parse(R"json({"error": {"code": "not_running", "message":
                "workerd is not running (no socket at /nonexistent/control.sock)"}})json"));
  EXPECT_EQ(outcome.err, "");
}

TEST(RunTest, VersionPrintsItsOwnEvenWhenNotRunning) {
  const Outcome outcome = RunAt("/nonexistent/control.sock", Make("version"));
  EXPECT_EQ(outcome.status, proto::kCtlNotRunning);
  EXPECT_EQ(outcome.out,
            std::string("workerctl ") + proto::Version() + " (protocol 1)\n");
  EXPECT_EQ(outcome.err,
            "workerctl: workerd is not running (no socket at "
            "/nonexistent/control.sock)\n");
}

TEST(RunTest, VersionOfBoth) {
  FakeControlServer server(AnswerWith(
      Response::Success(nullptr, {{"version", "0.9.1"}, {"protocol", 1}})));
  const Outcome outcome = RunAt(server.path(), Make("version"));
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out, std::string("workerctl ") + proto::Version() +
                             " (protocol 1)\n"
                             "workerd   0.9.1 (protocol 1)\n");
}

TEST(RunTest, PermissionDeniedByTheDaemonMentionsTheControlGroup) {
  FakeControlServer server(
      AnswerWith(Response::Success(nullptr, kStatus)),
      proto::EncodeResponse(Response::Failure(
          nullptr, Error{proto::error_code::kPermissionDenied,
                         "uid 1000 may not control workerd"})),
      /*close_after_greeting=*/true);
  const Outcome outcome = RunAt(server.path(), Make("status"));
  EXPECT_EQ(outcome.status, proto::kCtlPermissionDenied);
  EXPECT_EQ(outcome.err,
            "workerctl: uid 1000 may not control workerd (only root, "
            "workerd's own user and members of its control_group may use "
            "workerctl)\n");
}

TEST(RunTest, LostConnectionIsAProtocolError) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{"{\"id\":1,", true};
  });
  const Outcome outcome = RunAt(server.path(), Make("status"));
  EXPECT_EQ(outcome.status, proto::kCtlProtocolError);
  EXPECT_EQ(outcome.err,
            "workerctl: connection closed by workerd before it answered\n");
}

TEST(RunTest, UsageErrorsSendNothing) {
  FakeControlServer server(AnswerWith(Response::Success(nullptr, kStatus)));
  const Outcome outcome = RunAt(server.path(), Make("scale", {"web=x"}));
  EXPECT_EQ(outcome.status, proto::kCtlUsage);
  EXPECT_EQ(outcome.err,
            "workerctl: invalid scale argument \"web=x\": N must be a "
            "non-negative integer\n");
  EXPECT_TRUE(server.received().empty());
}

TEST(RunTest, ScaleAndShutdownRender) {
  FakeControlServer scale_server(AnswerWith(Response::Success(
      nullptr, {{"programs", {{{"name", "web"}, {"from", 2}, {"to", 4}}}}})));
  EXPECT_EQ(RunAt(scale_server.path(), Make("scale", {"web=4"})).out,
            "web  2 -> 4\n");
  FakeControlServer shutdown_server(
      AnswerWith(Response::Success(nullptr, {{"stopped", 2}})));
  EXPECT_EQ(RunAt(shutdown_server.path(), Make("shutdown")).out,
            "stopped 2 workers; workerd is exiting\n");
}

}  // namespace
}  // namespace workerd::ctl
