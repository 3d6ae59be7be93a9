#include "ctl/render.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/version.h"

namespace workerd::ctl {
namespace {

using proto::Json;

Json Worker(const char* program, int instance, const char* state, Json pid,
            Json uptime_ms, int restarts, Json last_exit_text,
            const char* message = "") {
  Json last_exit = nullptr;
  if (!last_exit_text.is_null()) {
    last_exit = {
        {"code", nullptr}, {"signal", nullptr}, {"text", last_exit_text}};
  }
  return {
      {"program", program},   {"instance", instance},   {"state", state},
      {"pid", pid},           {"uptime_ms", uptime_ms}, {"state_ms", 1000},
      {"restarts", restarts}, {"last_exit", last_exit}, {"message", message}};
}

Json StatusResult() {
  return {
      {"programs",
       {{{"name", "web"},
         {"workers", 2},
         {"instances",
          {Worker("web", 0, "ready", 41230, 3723000, 0, nullptr),
           Worker("web", 1, "ready", 41231, 45000, 3, "killed by SIGKILL")}}},
        {{"name", "jobs"},
         {"workers", 1},
         {"instances",
          {Worker("jobs", 0, "fatal", nullptr, nullptr, 5,
                  "exited with status 1")}}},
        {{"name", "api"}, {"workers", 0}, {"instances", Json::array()}}}}};
}

TEST(FormatDurationTest, PicksTwoUnits) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(999), "0s");
  EXPECT_EQ(FormatDuration(45000), "45s");
  EXPECT_EQ(FormatDuration(59999), "59s");
  EXPECT_EQ(FormatDuration(60000), "1m00s");
  EXPECT_EQ(FormatDuration(192000), "3m12s");
  EXPECT_EQ(FormatDuration(3599999), "59m59s");
  EXPECT_EQ(FormatDuration(3600000), "1h00m");
  EXPECT_EQ(FormatDuration(7500000), "2h05m");
  EXPECT_EQ(FormatDuration(86399999), "23h59m");
  EXPECT_EQ(FormatDuration(86400000), "1d0h");
  EXPECT_EQ(FormatDuration(273600000), "3d4h");
  EXPECT_EQ(FormatDuration(400LL * 86400000), "400d0h");
  EXPECT_EQ(FormatDuration(-5), "0s");
}

TEST(RenderStatusTest, AlignsColumnsAndMarksMissingValues) {
  EXPECT_EQ(RenderStatus(StatusResult()),
            "NAME    PID    STATE  UPTIME  RESTARTS  LAST EXIT\n"
            "web:0   41230  ready  1h02m   0         -\n"
            "web:1   41231  ready  45s     3         killed by SIGKILL\n"
            "jobs:0  -      fatal  -       5         exited with status 1\n"
            "api     (no workers)\n");
}

TEST(RenderStatusTest, AddsAMessageColumnWhenAWorkerHasOne) {
  Json result = StatusResult();
  result["programs"][1]["instances"][0]["message"] =
      "restarted 5 times within 60s";
  EXPECT_EQ(
      RenderStatus(result),
      "NAME    PID    STATE  UPTIME  RESTARTS  LAST EXIT             MESSAGE\n"
      "web:0   41230  ready  1h02m   0         -\n"
      "web:1   41231  ready  45s     3         killed by SIGKILL\n"
      "jobs:0  -      fatal  -       5         exited with status 1  "
      "restarted 5 times within 60s\n"
      "api     (no workers)\n");
}

TEST(RenderStatusTest, ShowsBothWorkersOfASlotDuringAHandover) {
  Json old_worker = Worker("web", 0, "ready", 4100, 60000, 0, nullptr);
  old_worker["handover"] = "old";
  Json new_worker = Worker("web", 0, "starting", 4123, 1000, 0, nullptr,
                           "started pid 4123; waiting for READY=1");
  new_worker["handover"] = "new";
  new_worker["notify_status"] = "loading model";
  Json result = {{"programs",
                  {{{"name", "web"},
                    {"workers", 1},
                    {"instances", {old_worker, new_worker}}}}}};
  EXPECT_EQ(
      RenderStatus(result),
      "NAME         PID   STATE     UPTIME  RESTARTS  LAST EXIT  MESSAGE\n"
      "web:0 (old)  4100  ready     1m00s   0         -\n"
      "web:0 (new)  4123  starting  1s      0         -          "
      "started pid 4123; waiting for READY=1; status: loading model\n");
}

TEST(RenderProgressTest, OneLinePerStep) {
  auto progress = [](const char* step, Json old_pid, Json new_pid) {
    return Json{{"progress",
                 {{"program", "web"},
                  {"instance", 2},
                  {"step", step},
                  {"old_pid", old_pid},
                  {"new_pid", new_pid},
                  {"done", 2},
                  {"total", 4}}}};
  };
  EXPECT_EQ(RenderProgress(progress("starting", 41, 52)),
            "[2/4] web:2: starting pid 52 to replace pid 41\n");
  EXPECT_EQ(RenderProgress(progress("starting", nullptr, 52)),
            "[2/4] web:2: starting pid 52 to replace pid -\n");
  EXPECT_EQ(RenderProgress(progress("ready", 41, 52)),
            "[2/4] web:2: pid 52 is ready; stopping pid 41\n");
  EXPECT_EQ(RenderProgress(progress("replaced", 41, 52)),
            "[2/4] web:2: replaced: pid 52 serves\n");
  EXPECT_EQ(RenderProgress(Json::object()), "");
}

TEST(RenderRestartTest, SaysHowManyWereReplaced) {
  Json result = {
      {"workers", {Worker("web", 0, "ready", 52, 1000, 0, nullptr)}},
      {"programs",
       {{{"name", "web"}, {"ok", true}, {"replaced", 1}, {"total", 1}}}}};
  EXPECT_EQ(RenderRestart(result),
            "web:0  ready  pid 52\nweb: 1 of 1 workers replaced\n");
}

TEST(RenderRestartTest, WithoutWaitingNamesThePrograms) {
  Json result = {{"programs", {{{"name", "web"}}, {{"name", "jobs"}}}}};
  EXPECT_EQ(RenderRestart(result),
            "web: rolling restart started\njobs: rolling restart started\n");
}

TEST(RenderStatusTest, NoPrograms) {
  EXPECT_EQ(RenderStatus({{"programs", Json::array()}}),
            "no programs configured\n");
}

TEST(RenderStatusTest, KeepsEachWorkerOnOneLineAndAlignsUtf8) {
  Json result = {
      {"programs",
       {{{"name", "caf\u00e9"},
         {"instances",
          {Worker("caf\u00e9", 0, "starting", 7, 0, 0, nullptr,
                  "STATUS=warming\nup"),
           Worker("caf\u00e9", 1, "starting", 8, 0, 0, nullptr)}}}}}};
  EXPECT_EQ(RenderStatus(result),
            "NAME    PID  STATE     UPTIME  RESTARTS  LAST EXIT  MESSAGE\n"
            "caf\u00e9:0  7    starting  0s      0         -          "
            "STATUS=warming up\n"
            "caf\u00e9:1  8    starting  0s      0         -\n");
}

TEST(RenderStatusTest, ToleratesMissingAndMistypedFields) {
  Json result = {
      {"programs",
       {{{"name", "web"},
         {"instances", {{{"instance", 0}, {"pid", "12"}, {"state", 3}}}}}}}};
  EXPECT_EQ(RenderStatus(result),
            "NAME   PID  STATE  UPTIME  RESTARTS  LAST EXIT\n"
            "web:0  -    -      -       -         -\n");
  EXPECT_EQ(RenderStatus(Json("nonsense")), "no programs configured\n");
}

TEST(RenderWorkersTest, OneLinePerWorker) {
  Json fatal = Worker("web", 10, "fatal", nullptr, nullptr, 5,
                      "exec \"gunicornn\": No such file or directory",
                      "restarted 5 times within 60s");
  Json stopped =
      Worker("jobs", 0, "stopped", nullptr, nullptr, 0, "exited with status 0");
  Json result = {
      {"workers",
       {Worker("web", 2, "ready", 4123, 100, 0, nullptr), fatal, stopped}}};
  EXPECT_EQ(RenderWorkers(result),
            "web:2   ready    pid 4123\n"
            "web:10  fatal    restarted 5 times within 60s; exec "
            "\"gunicornn\": No such file or directory\n"
            "jobs:0  stopped  exited with status 0\n");
}

TEST(RenderWorkersTest, DoesNotRepeatAnExitTheMessageQuotes) {
  Json result = {{"workers",
                  {Worker("web", 1, "stopped", nullptr, nullptr, 0,
                          "killed by SIGTERM", "pid 2552 killed by SIGTERM")}}};
  EXPECT_EQ(RenderWorkers(result),
            "web:1  stopped  pid 2552 killed by SIGTERM\n");
}

TEST(RenderWorkersTest, NoWorkers) {
  EXPECT_EQ(RenderWorkers({{"workers", Json::array()}}), "no workers\n");
}

TEST(RenderScaleTest, FromAndTo) {
  Json result = {{"programs",
                  {{{"name", "web"}, {"from", 4}, {"to", 8}},
                   {{"name", "jobs"}, {"from", 1}, {"to", 1}}}}};
  EXPECT_EQ(RenderScale(result),
            "web   4 -> 8\n"
            "jobs  1 (unchanged)\n");
}

Json ProgramReload(const char* name, const char* action,
                   std::vector<std::string> changes, int from, int to) {
  return {{"name", name}, {"action", action}, {"changes", changes},
          {"from", from}, {"to", to},         {"ok", true},
          {"message", ""}};
}

Json SocketReload(const char* name, const char* action,
                  std::vector<std::string> changes = {}) {
  return {{"name", name}, {"action", action}, {"changes", changes}};
}

Json ReloadResult(bool dry_run) {
  return {{"dry_run", dry_run},
          {"config", "/etc/workerd/workers.toml"},
          {"programs",
           {ProgramReload("web", "rolled", {"command", "env"}, 4, 8),
            ProgramReload("jobs", "scaled", {}, 2, 4),
            ProgramReload("api", "started", {}, 0, 2),
            ProgramReload("cron", "added", {}, 0, 1),
            ProgramReload("queue", "restarted", {"type"}, 1, 1),
            ProgramReload("mail", "updated", {"backoff", "stop_timeout"}, 1, 1),
            ProgramReload("db", "unchanged", {}, 1, 1),
            ProgramReload("old", "stopped", {}, 3, 0)}},
          {"sockets",
           {SocketReload("http", "changed", {"listen"}),
            SocketReload("db", "unchanged"), SocketReload("admin", "added"),
            SocketReload("legacy", "removed")}},
          {"warnings", Json::array()}};
}

TEST(RenderReloadTest, OneLinePerProgramThenTheSocketsThatChanged) {
  EXPECT_EQ(RenderReload(ReloadResult(false)),
            "web: rolled (command, env); scaled 4 -> 8\n"
            "jobs: scaled 2 -> 4\n"
            "api: started\n"
            "cron: added (autostart = false)\n"
            "queue: restarted (type)\n"
            "mail: updated (backoff, stop_timeout)\n"
            "db: unchanged\n"
            "old: stopped\n"
            "socket http: changed (listen)\n"
            "socket admin: added\n"
            "socket legacy: removed\n");
}

TEST(RenderReloadTest, DryRunSaysWhatWouldBeDone) {
  EXPECT_EQ(RenderReload(ReloadResult(true)),
            "dry run: nothing was changed\n"
            "web: would roll (command, env); would scale 4 -> 8\n"
            "jobs: would scale 2 -> 4\n"
            "api: would start\n"
            "cron: would add (autostart = false)\n"
            "queue: would restart (type)\n"
            "mail: would update (backoff, stop_timeout)\n"
            "db: unchanged\n"
            "old: would stop\n"
            "socket http: would change (listen)\n"
            "socket admin: would add\n"
            "socket legacy: would remove\n");
}

TEST(RenderReloadTest, AFailedProgramEndsWithItsMessage) {
  Json web = ProgramReload("web", "rolled", {"command"}, 2, 2);
  web["ok"] = false;
  web["message"] =
      "the new worker for web:0 failed: pid 4399 exited with status 1 "
      "before it was ready; the old worker (pid 4109) keeps serving";
  Json api = ProgramReload("api", "started", {}, 0, 1);
  api["ok"] = false;
  Json result = {
      {"dry_run", false},
      {"programs", {web, api, ProgramReload("db", "unchanged", {}, 1, 1)}},
      {"sockets", {SocketReload("http", "unchanged")}}};
  EXPECT_EQ(RenderReload(result),
            "web: rolled (command); failed: the new worker for web:0 failed: "
            "pid 4399 exited with status 1 before it was ready; the old "
            "worker (pid 4109) keeps serving\n"
            "api: started; failed\n"
            "db: unchanged\n");
}

TEST(RenderReloadTest, ToleratesUnknownActionsAndMissingFields) {
  Json result = {{"programs",
                  {Json{{"name", "web"},
                        {"action", "teleported"},
                        {"changes", {"command", 3}}},
                   Json{{"action", "scaled"}}, Json("nonsense")}},
                 {"sockets", {Json{{"name", "http"}}}}};
  EXPECT_EQ(RenderReload(result),
            "web: teleported (command)\n"
            "-: scaled - -> -\n"
            "-: -\n"
            "socket http: -\n");
  EXPECT_EQ(RenderReload({{"programs", Json::array()}}),
            "no programs configured\n");
  EXPECT_EQ(RenderReload(Json::object()), "no programs configured\n");
}

TEST(RenderShutdownTest, CountsStoppedWorkers) {
  EXPECT_EQ(RenderShutdown({{"stopped", 3}}),
            "stopped 3 workers; workerd is exiting\n");
  EXPECT_EQ(RenderShutdown({{"stopped", 1}}),
            "stopped 1 worker; workerd is exiting\n");
  EXPECT_EQ(RenderShutdown({{"stopped", 0}}),
            "stopped 0 workers; workerd is exiting\n");
}

TEST(RenderVersionTest, OwnVersionAlwaysAndTheDaemonsWhenKnown) {
  const std::string own =
      std::string("workerctl ") + proto::Version() + " (protocol 1)\n";
  EXPECT_EQ(RenderVersion(std::nullopt), own);
  EXPECT_EQ(RenderVersion(Json{{"version", "0.2.0"}, {"protocol", 1}}),
            own + "workerd   0.2.0 (protocol 1)\n");
}

TEST(VersionJsonTest, BothHalves) {
  EXPECT_EQ(
      VersionJson(std::nullopt),
      Json::parse(std::string(R"({"workerctl":{"version":")") +
                  proto::Version() + R"(","protocol":1},"workerd":null})"));
  EXPECT_EQ(VersionJson(Json{{"version", "0.2.0"}, {"protocol", 1}})["workerd"],
            Json::parse(R"({"version":"0.2.0","protocol":1})"));
}

Json LogLine(const char* time, int instance, const char* stream,
             const char* text, bool partial = false) {
  Json line = {{"time", time},
               {"program", "web"},
               {"instance", instance},
               {"stream", stream},
               {"text", text}};
  if (partial) line["partial"] = true;
  return line;
}

TEST(RenderLogLinesTest, AsInTheLogFile) {
  const Json result = {
      {"lines",
       {LogLine("2026-11-23T10:15:02.123+00:00", 2, "stdout", "hello"),
        LogLine("2026-11-23T10:15:02.124+00:00", 0, "stderr", "a long li",
                /*partial=*/true),
        LogLine("2026-11-23T10:15:02.124+00:00", 0, "stderr", "ne ends"),
        LogLine("2026-11-23T10:15:02.125+00:00", 2, "stdout", "")}}};
  EXPECT_EQ(RenderLogLines(result),
            "2026-11-23T10:15:02.123+00:00 web:2 stdout: hello\n"
            "2026-11-23T10:15:02.124+00:00 web:0 stderr+ a long li\n"
            "2026-11-23T10:15:02.124+00:00 web:0 stderr: ne ends\n"
            "2026-11-23T10:15:02.125+00:00 web:2 stdout: \n");
}

TEST(RenderLogLinesTest, KeepsTheTextAsWritten) {
  // Tabs, escapes and UTF-8 go through untouched, as into the log file.
  const Json result = {
      {"lines",
       {LogLine("2026-11-23T10:15:02.123+01:00", 1, "stdout",
                "col1\tcol2 \x1b[1mbold\x1b[0m gr\xc3\xbc\xc3\x9f"
                "e")}}};
  EXPECT_EQ(RenderLogLines(result),
            "2026-11-23T10:15:02.123+01:00 web:1 stdout: "
            "col1\tcol2 \x1b[1mbold\x1b[0m gr\xc3\xbc\xc3\x9f"
            "e\n");
}

TEST(RenderLogLinesTest, ToleratesMissingFields) {
  EXPECT_EQ(RenderLogLines({{"lines", Json::array()}}), "");
  EXPECT_EQ(RenderLogLines(Json::object()), "");
  EXPECT_EQ(RenderLogLines({{"lines", {Json{{"text", "bare"}}, 7}}}),
            "- -: bare\n"
            "- -: \n");
  EXPECT_EQ(RenderLogLines({{"lines",
                             {Json{{"program", "web"},
                                   {"stream", "stdout"},
                                   {"text", "no time, no instance"},
                                   {"partial", false}}}}}),
            "web stdout: no time, no instance\n");
}

TEST(LogLinesJsonTest, OneCompactObjectPerLine) {
  const Json result = {
      {"lines",
       {LogLine("2026-11-23T10:15:02.123+00:00", 2, "stdout", "hello"),
        LogLine("2026-11-23T10:15:02.124+00:00", 0, "stderr", "cut",
                /*partial=*/true)}}};
  EXPECT_EQ(LogLinesJson(result),
            R"({"instance":2,"program":"web","stream":"stdout",)"
            R"("text":"hello","time":"2026-11-23T10:15:02.123+00:00"})"
            "\n"
            R"({"instance":0,"partial":true,"program":"web","stream":)"
            R"("stderr","text":"cut","time":"2026-11-23T10:15:02.124+00:00"})"
            "\n");
  EXPECT_EQ(LogLinesJson({{"lines", Json::array()}}), "");
}

TEST(LogLinesJsonTest, ReplacesInvalidUtf8) {
  const Json result = {
      {"lines", {Json{{"text", std::string("bad \xff byte")}}}}};
  EXPECT_EQ(LogLinesJson(result), "{\"text\":\"bad \xef\xbf\xbd byte\"}\n");
}

TEST(RenderReopenedTest, OneLinePerFile) {
  const Json result = {
      {"reopened", {"/var/log/workerd/web.log", "/var/log/workerd/jobs.log"}}};
  EXPECT_EQ(RenderReopened(result, true),
            "reopened /var/log/workerd/web.log\n"
            "reopened /var/log/workerd/jobs.log\n");
  EXPECT_EQ(RenderReopened(result, false),
            "reopened /var/log/workerd/web.log\n"
            "reopened /var/log/workerd/jobs.log\n");
}

TEST(RenderReopenedTest, NoneReopened) {
  const Json none = {{"reopened", Json::array()}};
  EXPECT_EQ(RenderReopened(none, true), "no log files to reopen\n");
  // The error that comes with a failure says what did not work.
  EXPECT_EQ(RenderReopened(none, false), "");
}

TEST(JournalctlCommandTest, PassesOnWhatWasAskedFor) {
  using Argv = std::vector<std::string>;
  const Json journal = {{"log", "journal"}, {"identifier", "web"}};
  EXPECT_EQ(JournalctlCommand(journal, {{"targets", {"web"}}}),
            (Argv{"journalctl", "-t", "web"}));
  Json with_pid = journal;
  with_pid["pid"] = 1234;
  EXPECT_EQ(
      JournalctlCommand(
          with_pid, {{"targets", {"web:2"}}, {"lines", 50}, {"follow", true}}),
      (Argv{"journalctl", "-t", "web", "_PID=1234", "-n", "50", "-f"}));
  EXPECT_EQ(
      JournalctlCommand(
          journal, {{"targets", {"web"}}, {"lines", 0}, {"follow", false}}),
      (Argv{"journalctl", "-t", "web", "-n", "0"}));
}

TEST(JournalctlCommandTest, IdentifierFallsBackToTheTarget) {
  EXPECT_EQ(JournalctlCommand({{"log", "journal"}, {"pid", nullptr}},
                              {{"targets", {"jobs:1"}}}),
            (std::vector<std::string>{"journalctl", "-t", "jobs"}));
}

TEST(ShellCommandTest, QuotesOnlyWhatAShellWouldInterpret) {
  EXPECT_EQ(ShellCommand({"journalctl", "-t", "web", "_PID=12", "-f"}),
            "journalctl -t web _PID=12 -f");
  EXPECT_EQ(ShellCommand({"journalctl", "-t", "my app", "-t", "it's", "-t",
                          "$x", "-t", ""}),
            "journalctl -t 'my app' -t 'it'\\''s' -t '$x' -t ''");
}

}  // namespace
}  // namespace workerd::ctl
