#include "ctl/run.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

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

// An exec that must not happen.
void NoExec(const std::vector<std::string>& argv) {
  ADD_FAILURE() << "unexpected exec of " << argv.front();
}

Outcome RunAt(const std::string& socket_path, Invocation invocation,
              const Exec& exec = NoExec) {
  std::ostringstream out;
  std::ostringstream err;
  const int status = Run(invocation, socket_path, out, err, exec);
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
  const Json step = {{"program", "web"}, {"instance", 0},   {"step", "ready"},
                     {"old_pid", 4100},  {"new_pid", 4123}, {"done", 0},
                     {"total", 1}};
  FakeControlServer server([&](const std::string&) {
    return FakeControlServer::Reply{
        // A shape this workerctl does not know is skipped.
        proto::EncodeResponse(Response::Interim(Json(1), {{"progress", 1}})) +
        proto::EncodeResponse(
            Response::Interim(Json(1), {{"progress", step}})) +
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
        proto::EncodeResponse(
            Response::Success(Json(1), {{"workers", Json::array()}}))};
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

TEST(RunTest, WarningsGoToStderrAfterTheAnswer) {
  Json stopped = OneWorker("stopped", nullptr);
  stopped["program"] = "redis";
  stopped["message"] = "pid 7 killed by SIGTERM";
  const Json result = {
      {"workers", {stopped}},
      {"warnings",
       {"web depends on redis and keeps running; `workerctl stop "
        "--with-dependents redis` stops it too"}}};
  FakeControlServer server(AnswerWith(Response::Success(nullptr, result)));
  const Outcome outcome = RunAt(server.path(), Make("stop", {"redis"}));
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out, "redis:0  stopped  pid 7 killed by SIGTERM\n");
  EXPECT_EQ(outcome.err,
            "workerctl: warning: web depends on redis and keeps running; "
            "`workerctl stop --with-dependents redis` stops it too\n");

  FakeControlServer json_server(AnswerWith(Response::Success(nullptr, result)));
  const Outcome as_json =
      RunAt(json_server.path(), Make("stop", {"redis"}, true));
  EXPECT_EQ(as_json.out, result.dump(2) + "\n");
  EXPECT_EQ(as_json.err, "");
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

Json ReloadedProgram(const char* name, const char* action,
                     std::vector<std::string> changes, int from, int to) {
  return {{"name", name}, {"action", action}, {"changes", changes},
          {"from", from}, {"to", to},         {"ok", true},
          {"message", ""}};
}

const Json kReloaded = {
    {"dry_run", false},
    {"config", "/etc/workerd/workers.toml"},
    {"programs",
     {ReloadedProgram("web", "rolled", {"command"}, 1, 1),
      ReloadedProgram("api", "started", {}, 0, 1),
      ReloadedProgram("db", "unchanged", {}, 1, 1)}},
    {"sockets",
     {{{"name", "http"}, {"action", "unchanged"}, {"changes", Json::array()}},
      {{"name", "admin"}, {"action", "added"}, {"changes", Json::array()}}}},
    {"warnings",
     {"[daemon] control_socket changed; it takes effect when workerd "
      "restarts"}}};

TEST(RunTest, ReloadShowsProgressThenWhatChangedThenWarnings) {
  const Json step = {{"program", "web"}, {"instance", 0},   {"step", "ready"},
                     {"old_pid", 4100},  {"new_pid", 4123}, {"done", 0},
                     {"total", 1}};
  FakeControlServer server([&](const std::string&) {
    return FakeControlServer::Reply{
        proto::EncodeResponse(
            Response::Interim(Json(1), {{"progress", step}})) +
        proto::EncodeResponse(Response::Success(Json(1), kReloaded))};
  });
  const Outcome outcome = RunAt(server.path(), Make("reload"));
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out,
            "[0/1] web:0: pid 4123 is ready; stopping pid 4100\n"
            "web: rolled (command)\n"
            "api: started\n"
            "db: unchanged\n"
            "socket admin: added\n");
  EXPECT_EQ(outcome.err,
            "workerctl: warning: [daemon] control_socket changed; it takes "
            "effect when workerd restarts\n");
  EXPECT_EQ(
      server.received(),
      std::vector<std::string>{R"({"id":1,"command":"reload","protocol":1})"});
}

TEST(RunTest, ReloadDryRunAsksForOneAndSaysSo) {
  Json plan = kReloaded;
  plan["dry_run"] = true;
  plan["warnings"] = Json::array();
  FakeControlServer server(AnswerWith(Response::Success(nullptr, plan)));
  Invocation invocation = Make("reload");
  invocation.dry_run = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out,
            "dry run: nothing was changed\n"
            "web: would roll (command)\n"
            "api: would start\n"
            "db: unchanged\n"
            "socket admin: would add\n");
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(server.received(),
            std::vector<std::string>{
                R"({"id":1,"command":"reload","args":{"dry_run":true},)"
                R"("protocol":1})"});
}

const Json kConfigErrors = {
    {"errors",
     {"/etc/workerd/workers.toml:3:11: workers must be an integer from 0 to "
      "1024, not the string \"4\"",
      "/etc/workerd/workers.toml:9:1: unknown key \"stop_timout\" in "
      "[program.jobs] (did you mean \"stop_timeout\"?)"}}};

Response ConfigInvalid() {
  return Response::Failure(
      nullptr,
      Error{proto::error_code::kConfigInvalid,
            kConfigErrors["errors"][0].get<std::string>() + "\n" +
                kConfigErrors["errors"][1].get<std::string>()},
      kConfigErrors);
}

TEST(RunTest, ReloadOfAnInvalidFileListsEveryError) {
  FakeControlServer server(AnswerWith(ConfigInvalid()));
  const Outcome outcome = RunAt(server.path(), Make("reload"));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err,
            "/etc/workerd/workers.toml:3:11: workers must be an integer from "
            "0 to 1024, not the string \"4\"\n"
            "/etc/workerd/workers.toml:9:1: unknown key \"stop_timout\" in "
            "[program.jobs] (did you mean \"stop_timeout\"?)\n"
            "workerctl: workers.toml was not reloaded; workerd keeps running "
            "its current configuration\n");
}

TEST(RunTest, ReloadOfAnInvalidFileWithoutAResultPrintsTheMessage) {
  FakeControlServer server(AnswerWith(Response::Failure(
      nullptr, Error{proto::error_code::kConfigInvalid,
                     "workers.toml:1:2: one\nworkers.toml:5:1: two"})));
  const Outcome outcome = RunAt(server.path(), Make("reload"));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.err,
            "workers.toml:1:2: one\n"
            "workers.toml:5:1: two\n"
            "workerctl: workers.toml was not reloaded; workerd keeps running "
            "its current configuration\n");
}

TEST(RunTest, ReloadOfAnInvalidFileAsJson) {
  FakeControlServer server(AnswerWith(ConfigInvalid()));
  const Outcome outcome = RunAt(server.path(), Make("reload", {}, true));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  const Json answer = Json::parse(outcome.out);
  EXPECT_EQ(answer["error"]["code"], "config_invalid");
  EXPECT_EQ(answer["result"], kConfigErrors);
  EXPECT_EQ(outcome.err, "");
}

TEST(RunTest, ReloadThatFailedForOneProgramShowsEveryProgram) {
  Json result = kReloaded;
  result["warnings"] = Json::array();
  result["programs"][1]["ok"] = false;
  result["programs"][1]["message"] =
      "api:0 is fatal: pid 77 exited with status 1";
  FakeControlServer server(AnswerWith(Response::Failure(
      nullptr,
      Error{proto::error_code::kFailed,
            "api did not start: api:0 is fatal: pid 77 exited with status 1"},
      result)));
  const Outcome outcome = RunAt(server.path(), Make("reload"));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out,
            "web: rolled (command)\n"
            "api: started; failed: api:0 is fatal: pid 77 exited with status "
            "1\n"
            "db: unchanged\n"
            "socket admin: added\n");
  EXPECT_EQ(outcome.err,
            "workerctl: api did not start: api:0 is fatal: pid 77 exited "
            "with status 1\n");
}

TEST(RunTest, ReloadThatChangedNothingSaysWhy) {
  const std::string why =
      "socket \"admin\": cannot listen on 127.0.0.1:9000: Address already in "
      "use; nothing was changed";
  FakeControlServer server(AnswerWith(
      Response::Failure(nullptr, Error{proto::error_code::kFailed, why})));
  const Outcome outcome = RunAt(server.path(), Make("reload"));
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "workerctl: " + why + "\n");
}

// An output buffer that remembers what had been written at each flush, and
// lets the fake server's thread wait until some text has been flushed.
class FlushRecorder : public std::stringbuf {
 public:
  std::vector<std::string> flushes() const {
    std::lock_guard lock(mutex_);
    return flushes_;
  }

  // False when `text` is not flushed within a deadline.
  bool WaitUntilFlushed(const std::string& text) {
    std::unique_lock lock(mutex_);
    return flushed_.wait_for(lock, std::chrono::seconds(10), [&] {
      return !flushes_.empty() &&
             flushes_.back().find(text) != std::string::npos;
    });
  }

 protected:
  int sync() override {
    std::lock_guard lock(mutex_);
    flushes_.push_back(str());
    flushed_.notify_all();
    return 0;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable flushed_;
  std::vector<std::string> flushes_;
};

Invocation Logs(std::string target) {
  return Make("logs", {std::move(target)});
}

Json LogLine(int instance, const char* stream, const char* text) {
  return {{"time", "2026-11-23T10:15:02.123+00:00"},
          {"program", "web"},
          {"instance", instance},
          {"stream", stream},
          {"text", text}};
}

Json Lines(std::vector<Json> lines) {
  return {{"lines", Json(std::move(lines))}};
}

std::string Interim(std::vector<Json> lines) {
  return proto::EncodeResponse(Response::Interim(Json(1), Lines(lines)));
}

constexpr const char* kTooSlow =
    "stopped: this client read more slowly than web wrote, and 3 lines it "
    "had not been sent yet were dropped from memory (log_buffer); the log "
    "file or a new `workerctl logs -f` has the rest";

TEST(RunTest, LogsPrintsEachBatchAsItArrives) {
  FlushRecorder recorder;
  FakeControlServer server([&](const std::string&) {
    FakeControlServer::Reply reply{
        Interim({LogLine(0, "stdout", "one"), LogLine(1, "stderr", "two")})};
    // The next batch only once the first is on the terminal: following
    // must not wait for the end of the stream.
    reply.then = [&] {
      EXPECT_TRUE(recorder.WaitUntilFlushed("two"));
      return FakeControlServer::Reply{Interim({LogLine(0, "stdout", "three")}),
                                      true};
    };
    return reply;
  });
  Invocation invocation = Logs("web");
  invocation.follow = true;
  std::ostream out(&recorder);
  std::ostringstream err;
  const int status = ctl::Run(invocation, server.path(), out, err, NoExec);

  const std::string first =
      "2026-11-23T10:15:02.123+00:00 web:0 stdout: one\n"
      "2026-11-23T10:15:02.123+00:00 web:1 stderr: two\n";
  const std::string second =
      "2026-11-23T10:15:02.123+00:00 web:0 stdout: three\n";
  EXPECT_EQ(recorder.flushes(),
            (std::vector<std::string>{first, first + second}));
  // workerd going away ends -f.
  EXPECT_EQ(status, proto::kCtlProtocolError);
  EXPECT_EQ(err.str(),
            "workerctl: workerd closed the connection; it may have stopped\n");
  EXPECT_EQ(server.received(),
            std::vector<std::string>{
                R"({"id":1,"command":"logs","args":{"follow":true,)"
                R"("targets":["web"]},"protocol":1})"});
}

TEST(RunTest, LogsEndsWithTheFinalBatch) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{
        Interim({LogLine(2, "stdout", "first")}) +
        proto::EncodeResponse(
            Response::Success(Json(1), Lines({LogLine(2, "stdout", "last")})))};
  });
  Invocation invocation = Logs("web:2");
  invocation.lines = "2";
  invocation.stdout_only = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out,
            "2026-11-23T10:15:02.123+00:00 web:2 stdout: first\n"
            "2026-11-23T10:15:02.123+00:00 web:2 stdout: last\n");
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(server.received(),
            std::vector<std::string>{
                R"({"id":1,"command":"logs","args":{"lines":2,)"
                R"("stream":"stdout","targets":["web:2"]},"protocol":1})"});
}

TEST(RunTest, LogsCutOffForReadingTooSlowlyExits1) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{
        Interim({LogLine(0, "stdout", "kept up")}) +
        proto::EncodeResponse(Response::Failure(
            Json(1), Error{proto::error_code::kTooSlow, kTooSlow}))};
  });
  Invocation invocation = Logs("web");
  invocation.follow = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out,
            "2026-11-23T10:15:02.123+00:00 web:0 stdout: kept up\n");
  EXPECT_EQ(outcome.err, std::string("workerctl: ") + kTooSlow + "\n");
}

TEST(RunTest, LogsAsJsonLines) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{
        Interim({LogLine(0, "stdout", "a"), LogLine(0, "stderr", "b")}) +
        proto::EncodeResponse(Response::Failure(
            Json(1), Error{proto::error_code::kTooSlow, kTooSlow}))};
  });
  Invocation invocation = Logs("web");
  invocation.json = true;
  invocation.follow = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  // Every line an object of its own, the error included.
  EXPECT_EQ(outcome.out, LogLine(0, "stdout", "a").dump() + "\n" +
                             LogLine(0, "stderr", "b").dump() + "\n" +
                             R"({"error":{"code":"too_slow","message":")" +
                             kTooSlow + "\"}}\n");
  EXPECT_EQ(outcome.err, "");
}

const Json kJournal = {
    {"log", "journal"}, {"identifier", "web"}, {"pid", 1234}};

TEST(RunTest, LogsOfAJournalProgramRunJournalctl) {
  FlushRecorder recorder;
  FakeControlServer server(AnswerWith(Response::Success(nullptr, kJournal)));
  Invocation invocation = Logs("web:2");
  invocation.lines = "50";
  invocation.follow = true;
  std::vector<std::vector<std::string>> execs;
  std::size_t flushes_before_exec = 0;
  auto exec = [&](const std::vector<std::string>& argv) {
    execs.push_back(argv);
    flushes_before_exec = recorder.flushes().size();
  };
  std::ostream out(&recorder);
  std::ostringstream err;
  const int status = ctl::Run(invocation, server.path(), out, err, exec);

  EXPECT_EQ(execs,
            (std::vector<std::vector<std::string>>{
                {"journalctl", "-t", "web", "_PID=1234", "-n", "50", "-f"}}));
  EXPECT_EQ(flushes_before_exec, 1u);
  // The exec returned: journalctl could not be run.
  EXPECT_EQ(status, proto::kCtlFailed);
  EXPECT_EQ(err.str(),
            "workerctl: web logs to the journal; read it with: journalctl -t "
            "web _PID=1234 -n 50 -f\n");
  EXPECT_EQ(recorder.str(), "");
}

TEST(RunTest, LogsOfAJournalProgramHaveNoStreams) {
  FakeControlServer server(AnswerWith(Response::Success(nullptr, kJournal)));
  Invocation invocation = Logs("web");
  invocation.stderr_only = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err,
            "workerctl: the journal does not record which stream a line came "
            "from; drop --stdout/--stderr\n");
}

TEST(RunTest, LogsOfAJournalProgramAsJsonIsTheAnswer) {
  FakeControlServer server(AnswerWith(Response::Success(nullptr, kJournal)));
  Invocation invocation = Logs("web");
  invocation.json = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out, kJournal.dump() + "\n");
  EXPECT_EQ(outcome.err, "");
}

TEST(RunTest, ReopenNamesTheFiles) {
  FakeControlServer server(AnswerWith(Response::Success(
      nullptr, {{"reopened",
                 {"/var/log/workerd/web.log", "/var/log/workerd/jobs.log"}}})));
  Invocation invocation = Make("logs");
  invocation.reopen = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlOk);
  EXPECT_EQ(outcome.out,
            "reopened /var/log/workerd/web.log\n"
            "reopened /var/log/workerd/jobs.log\n");
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(server.received(),
            std::vector<std::string>{
                R"({"id":1,"command":"reopen_logs","protocol":1})"});
}

TEST(RunTest, ReopenFailureSaysWhatWorkedAndWhatNot) {
  FakeControlServer server(AnswerWith(Response::Failure(
      nullptr,
      Error{proto::error_code::kFailed,
            "cannot reopen /var/log/workerd/jobs.log: Permission denied"},
      {{"reopened", {"/var/log/workerd/web.log"}}})));
  Invocation invocation = Make("logs");
  invocation.reopen = true;
  const Outcome outcome = RunAt(server.path(), invocation);
  EXPECT_EQ(outcome.status, proto::kCtlFailed);
  EXPECT_EQ(outcome.out, "reopened /var/log/workerd/web.log\n");
  EXPECT_EQ(outcome.err,
            "workerctl: cannot reopen /var/log/workerd/jobs.log: Permission "
            "denied\n");
}

}  // namespace
}  // namespace workerd::ctl
