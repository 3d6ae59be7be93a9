// Dependencies end to end: oneshot programs that run to completion before
// the programs that need them start, a failed dependency blocking its
// dependents until it is started again, dependencies started even with
// autostart = false, stops and shutdowns in reverse dependency order,
// rolling dependents with restart_with_dependency, a oneshot retried with
// restart = "on-failure", and the file:line:col errors of a bad depends_on.
//
// Workers that must record something (what they saw at start, when they
// were told to stop) are small /bin/sh scripts writing under @DIR@.

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The number of times `part` occurs in `text`.
int Count(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos;
       at = text.find(part, at + part.size())) {
    ++count;
  }
  return count;
}

// The position of `part` in workerd's log, for checking the order of two
// lines; npos (and a failure) when it is not there.
size_t PositionInLog(const std::string& log, const std::string& part) {
  size_t at = log.find(part);
  EXPECT_NE(at, std::string::npos) << "no \"" << part << "\" in:\n" << log;
  return at;
}

TEST(Dependencies, OneshotCompletesBeforeItsDependentsStart) {
  // migrate takes 200 ms and leaves a marker; web records at each start
  // whether the marker was there, then becomes the test worker. redis is a
  // service web needs ready.
  Daemon daemon(R"toml(
[program.migrate]
type = "oneshot"
command = ["/bin/sh", "-c", "sleep 0.2; echo done > @DIR@/marker"]

[program.redis]
command = ["@WORKER@", "--pidfile", "@DIR@/redis.pid"]
start_period = "100ms"

[program.web]
command = ["/bin/sh", "-c", '''
if test -f @DIR@/marker; then echo marker >> @DIR@/seen.{instance}
else echo no-marker >> @DIR@/seen.{instance}; fi
exec @WORKER@ --pidfile @DIR@/web.{instance}.pid''']
workers = 2
start_period = "100ms"
depends_on = { migrate = "completed", redis = "ready" }
)toml");
  ASSERT_TRUE(daemon.Start());

  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 2, "ready"); },
      "2 ready web workers", kDeadline, &status));
  EXPECT_EQ(StateOf(status, "migrate", 0), "completed") << status.dump(2);
  EXPECT_EQ(Field(status, "migrate", 0, "last_exit")["text"],
            "exited successfully");
  EXPECT_EQ(PidOf(status, "migrate", 0), 0);
  EXPECT_EQ(StateOf(status, "redis", 0), "ready");
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("web:" + std::to_string(i));
    ASSERT_TRUE(
        daemon.ReadPidfile(daemon.Path("web." + std::to_string(i) + ".pid")));
    // One start, and it saw the marker.
    EXPECT_EQ(ReadFile(daemon.Path("seen." + std::to_string(i))), "marker\n");
    EXPECT_EQ(Field(status, "web", i, "restarts"), 0);
  }

  // web waited, for both, when workerd started it.
  const std::string log = daemon.Log();
  EXPECT_TRUE(
      Contains(log,
               "web[0]: waiting for migrate to complete and redis to be ready "
               "[waiting]"))
      << log;
  EXPECT_TRUE(Contains(log, "migrate[0]: pid "));
  EXPECT_LT(PositionInLog(log, "[completed]"),
            PositionInLog(log, "web[0]: started pid"));

  // The text status names the states; --json carries type and depends_on.
  CommandResult text = daemon.RunCtl({"status"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(Contains(text.out, "completed")) << text.out;
  CommandResult json = daemon.RunCtl({"--json", "status"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json parsed = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << json.out;
  const Json* migrate = FindProgram(parsed, "migrate");
  const Json* web = FindProgram(parsed, "web");
  ASSERT_TRUE(migrate && web) << json.out;
  EXPECT_EQ((*migrate)["type"], "oneshot");
  EXPECT_EQ((*migrate)["depends_on"], Json::array());
  EXPECT_EQ((*web)["type"], "service");
  EXPECT_EQ((*web)["depends_on"],
            Json::parse(R"([{"program": "migrate", "condition": "completed"},
                            {"program": "redis", "condition": "ready"}])"))
      << json.out;
}

TEST(Dependencies, FailedOneshotBlocksDependentsUntilStartedAgain) {
  // migrate fails (status 3) while @DIR@/fail exists and counts its runs.
  Daemon daemon(R"toml(
[program.migrate]
type = "oneshot"
command = ["/bin/sh", "-c", '''
echo run >> @DIR@/runs
sleep 0.05
if test -e @DIR@/fail; then exit 3; fi''']

[program.web]
command = ["@WORKER@", "--pidfile", "@DIR@/web.{instance}.pid"]
workers = 2
start_period = "100ms"
depends_on = ["migrate"]
)toml");
  daemon.dir().Write("fail", "");
  ASSERT_TRUE(daemon.Start());

  const std::string blocked_prefix =
      "needs migrate to complete, but migrate:0 is exited: pid ";
  const std::string blocked_suffix =
      " exited with status 3; not restarted (restart = \"never\")";
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 2, "blocked"); },
      "web's workers blocked", kDeadline, &status));
  EXPECT_EQ(StateOf(status, "migrate", 0), "exited") << status.dump(2);
  EXPECT_EQ(Field(status, "migrate", 0, "last_exit")["code"], 3);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("web:" + std::to_string(i));
    EXPECT_EQ(PidOf(status, "web", i), 0);
    const Json message_json = Field(status, "web", i, "message");
    const std::string message =
        message_json.is_string() ? message_json.get<std::string>() : "";
    EXPECT_EQ(message.rfind(blocked_prefix, 0), 0u) << message;
    EXPECT_TRUE(message.ends_with(blocked_suffix)) << message;
  }
  CommandResult text = daemon.RunCtl({"status"});
  EXPECT_TRUE(Contains(text.out, "blocked")) << text.out;

  // Starting web tries migrate again, which fails again: web stays
  // blocked and the command fails saying why.
  CommandResult start_web = daemon.RunCtl({"start", "web"});
  EXPECT_EQ(start_web.exit_code, 1) << start_web.out << start_web.err;
  EXPECT_EQ(
      start_web.err.rfind("workerctl: web:0 is blocked: " + blocked_prefix, 0),
      0u)
      << start_web.err;
  EXPECT_TRUE(Contains(start_web.err, blocked_suffix)) << start_web.err;
  EXPECT_EQ(ReadFile(daemon.Path("runs")), "run\nrun\n");
  status = daemon.Status();
  EXPECT_TRUE(AllInState(status, "web", 2, "blocked")) << status.dump(2);

  // Fixed: starting migrate alone runs it to completion, and web follows.
  ASSERT_EQ(unlink(daemon.Path("fail").c_str()), 0);
  CommandResult start_migrate = daemon.RunCtl({"start", "migrate"});
  EXPECT_EQ(start_migrate.exit_code, 0)
      << start_migrate.out << start_migrate.err;
  EXPECT_TRUE(Contains(start_migrate.out, "completed")) << start_migrate.out;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return AllInState(s, "web", 2, "ready"); },
      "web's workers ready once migrate completed", kDeadline, &status));
  EXPECT_EQ(StateOf(status, "migrate", 0), "completed");
  EXPECT_EQ(ReadFile(daemon.Path("runs")), "run\nrun\nrun\n");
  EXPECT_TRUE(daemon.ReadPidfile(daemon.Path("web.0.pid")));
  EXPECT_TRUE(daemon.ReadPidfile(daemon.Path("web.1.pid")));
}

// queue and web (2 workers, needing queue) as shell scripts that append
// to @DIR@/order when SIGTERM arrives. web takes 300 ms to do it, so a
// queue signalled together with web would write first; queue also says
// whether a web process was still alive when it was signalled. Each
// writes its pid to @DIR@/NAME.pid once its trap is in place.
constexpr const char* kOrderedStopConfig = R"toml(
[program.queue]
command = ["/bin/sh", "-c", '''
trap 'alive=""
for f in @DIR@/web.0.pid @DIR@/web.1.pid; do
  if test -f $f && kill -0 $(cat $f) 2>/dev/null; then alive=" with web alive"; fi
done
echo "queue-stopped$alive" >> @DIR@/order; exit 0' TERM
echo $$ > @DIR@/queue.pid.tmp && mv @DIR@/queue.pid.tmp @DIR@/queue.pid
sleep 1000 & wait''']
start_period = "100ms"

[program.web]
command = ["/bin/sh", "-c", '''
trap 'sleep 0.3; echo web-stopped >> @DIR@/order; exit 0' TERM
echo $$ > @DIR@/web.{instance}.pid.tmp && mv @DIR@/web.{instance}.pid.tmp @DIR@/web.{instance}.pid
sleep 1000 & wait''']
workers = 2
start_period = "100ms"
depends_on = ["queue"]
)toml";

// Starts kOrderedStopConfig's daemon and waits until every worker is ready
// with its trap in place; `status` gets the status then.
void StartOrderedStop(Daemon& daemon, Json* status) {
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("queue.pid")));
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("web.0.pid")));
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("web.1.pid")));
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return AllInState(s, "web", 2, "ready") &&
               StateOf(s, "queue", 0) == "ready";
      },
      "queue and web ready", kDeadline, status));
}

TEST(Dependencies, ShutdownStopsDependentsFirst) {
  Daemon daemon(kOrderedStopConfig);
  Json status;
  ASSERT_NO_FATAL_FAILURE(StartOrderedStop(daemon, &status));

  CommandResult shutdown = daemon.RunCtl({"shutdown"});
  EXPECT_EQ(shutdown.exit_code, 0) << shutdown.out << shutdown.err;
  EXPECT_EQ(daemon.WaitForExit(), 0);
  EXPECT_EQ(ReadFile(daemon.Path("order")),
            "web-stopped\nweb-stopped\nqueue-stopped\n")
      << daemon.Log();
  for (const char* program : {"queue", "web"}) {
    for (const Json& worker : Workers(status, program)) {
      EXPECT_TRUE(daemon.WaitGone(PidOf(worker), program));
    }
  }
}

TEST(Dependencies, SigtermStopsDependentsFirst) {
  Daemon daemon(kOrderedStopConfig);
  Json status;
  ASSERT_NO_FATAL_FAILURE(StartOrderedStop(daemon, &status));

  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_EQ(ReadFile(daemon.Path("order")),
            "web-stopped\nweb-stopped\nqueue-stopped\n")
      << daemon.Log();
}

TEST(Dependencies, StopWarnsAboutRunningDependentsAndLeavesThem) {
  Daemon daemon(kOrderedStopConfig);
  Json before;
  ASSERT_NO_FATAL_FAILURE(StartOrderedStop(daemon, &before));

  CommandResult stop = daemon.RunCtl({"stop", "queue"});
  EXPECT_EQ(stop.exit_code, 0) << stop.out << stop.err;
  EXPECT_TRUE(
      Contains(stop.err,
               "workerctl: warning: web depends on queue and keeps running; "
               "`workerctl stop --with-dependents queue` stops it too\n"))
      << stop.err;
  // Stopped while web ran on.
  EXPECT_EQ(ReadFile(daemon.Path("order")), "queue-stopped with web alive\n");
  Json after = daemon.Status();
  EXPECT_EQ(StateOf(after, "queue", 0), "stopped") << after.dump(2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(StateOf(after, "web", i), "ready") << after.dump(2);
    EXPECT_EQ(PidOf(after, "web", i), PidOf(before, "web", i));
  }

  // An instance is not a program whose dependents could be named: a
  // usage error, nothing sent.
  CommandResult instance =
      daemon.RunCtl({"stop", "--with-dependents", "queue:0"});
  EXPECT_EQ(instance.exit_code, 2) << instance.out << instance.err;
  EXPECT_EQ(instance.err,
            "workerctl: --with-dependents stops whole programs; name queue, "
            "not queue:0\n");
  after = daemon.Status();
  EXPECT_TRUE(AllInState(after, "web", 2, "ready")) << after.dump(2);
}

TEST(Dependencies, StopWithDependentsStopsThemFirst) {
  Daemon daemon(kOrderedStopConfig);
  Json before;
  ASSERT_NO_FATAL_FAILURE(StartOrderedStop(daemon, &before));

  CommandResult stop = daemon.RunCtl({"stop", "--with-dependents", "queue"});
  EXPECT_EQ(stop.exit_code, 0) << stop.out << stop.err;
  EXPECT_FALSE(Contains(stop.err, "warning")) << stop.err;
  EXPECT_EQ(ReadFile(daemon.Path("order")),
            "web-stopped\nweb-stopped\nqueue-stopped\n")
      << daemon.Log();
  // `stop` waits: everything is stopped when it returns.
  Json after = daemon.Status();
  EXPECT_EQ(StateOf(after, "queue", 0), "stopped") << after.dump(2);
  EXPECT_TRUE(AllInState(after, "web", 2, "stopped")) << after.dump(2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(daemon.WaitReaped(PidOf(before, "web", i), "a web worker"));
  }
  EXPECT_TRUE(daemon.WaitReaped(PidOf(before, "queue", 0), "queue:0"));
}

TEST(Dependencies, AutostartFalseDependencyStartsWithItsDependent) {
  Daemon daemon(R"toml(
[program.redis]
command = ["@WORKER@", "--pidfile", "@DIR@/redis.pid"]
autostart = false
start_period = "100ms"

[program.idle]
command = ["@WORKER@"]
autostart = false

[program.web]
command = ["@WORKER@", "--pidfile", "@DIR@/web.pid"]
start_period = "100ms"
depends_on = ["redis"]
)toml");
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "web", 0) == "ready"; },
      "web:0 ready", kDeadline, &status));
  EXPECT_EQ(StateOf(status, "redis", 0), "ready") << status.dump(2);
  // Nothing needs idle.
  EXPECT_EQ(StateOf(status, "idle", 0), "stopped") << status.dump(2);
  EXPECT_TRUE(daemon.ReadPidfile(daemon.Path("redis.pid")));
  EXPECT_TRUE(daemon.ReadPidfile(daemon.Path("web.pid")));

  const std::string log = daemon.Log();
  EXPECT_LT(PositionInLog(log, "redis: starting it, as web needs it"),
            PositionInLog(log, "web[0]: started pid"));
  EXPECT_LT(PositionInLog(log, "redis[0]: pid "),
            PositionInLog(log, "web[0]: started pid"));
}

TEST(Dependencies, RestartWithDependencyRollsDependents) {
  // web follows redis's restarts; api, without the option, does not.
  Daemon daemon(R"toml(
[program.redis]
command = ["@WORKER@", "--pidfile", "@DIR@/redis.pid"]
start_period = "100ms"

[program.web]
command = ["@WORKER@"]
workers = 2
start_period = "100ms"
depends_on = ["redis"]
restart_with_dependency = true

[program.api]
command = ["@WORKER@"]
start_period = "100ms"
depends_on = ["redis"]
)toml");
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("redis.pid")));
  Json before;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) {
        return AllInState(s, "web", 2, "ready") &&
               StateOf(s, "api", 0) == "ready";
      },
      "web and api ready", kDeadline, &before));
  const pid_t old_redis = PidOf(before, "redis", 0);

  CommandResult restart = daemon.RunCtl({"restart", "redis"});
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;

  Json after;
  ASSERT_TRUE(daemon.WaitFor(
      [&](const Json& s) {
        for (int i = 0; i < 2; ++i) {
          if (StateOf(s, "web", i) != "ready") return false;
          const pid_t pid = PidOf(s, "web", i);
          if (pid == 0 || pid == PidOf(before, "web", i)) return false;
        }
        return true;
      },
      "web's workers replaced and ready", kDeadline, &after));
  const pid_t new_redis = PidOf(after, "redis", 0);
  EXPECT_NE(new_redis, old_redis);
  EXPECT_EQ(StateOf(after, "redis", 0), "ready");
  EXPECT_EQ(PidOf(after, "api", 0), PidOf(before, "api", 0)) << after.dump(2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(daemon.WaitReaped(PidOf(before, "web", i), "an old web"));
  }

  // The new web workers started only after the new redis was ready.
  const std::string log = daemon.Log();
  EXPECT_TRUE(Contains(log,
                       "web: restarting it, as redis was restarted "
                       "(restart_with_dependency = true)"))
      << log;
  EXPECT_FALSE(Contains(log, "api: restarting it")) << log;
  EXPECT_FALSE(Contains(log, "api: rolling restart")) << log;
  const size_t redis_ready = PositionInLog(
      log, "redis[0] new: pid " + std::to_string(new_redis) + " stayed up");
  for (int i = 0; i < 2; ++i) {
    EXPECT_LT(redis_ready,
              PositionInLog(log, "started pid " +
                                     std::to_string(PidOf(after, "web", i))));
  }
}

TEST(Dependencies, OnFailureOneshotRetriesUntilItCompletes) {
  // migrate fails its first two runs and succeeds on the third; web
  // waits through the failures instead of being blocked.
  Daemon daemon(R"toml(
[program.migrate]
type = "oneshot"
restart = "on-failure"
backoff = { initial = "20ms", max = "100ms" }
command = ["/bin/sh", "-c", '''
n=$(cat @DIR@/count 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > @DIR@/count
test $n -ge 3''']

[program.web]
command = ["/bin/sh", "-c", '''
echo "count $(cat @DIR@/count)" >> @DIR@/seen
exec @WORKER@ --pidfile @DIR@/web.pid''']
start_period = "100ms"
depends_on = ["migrate"]
)toml");
  ASSERT_TRUE(daemon.Start());
  Json status;
  ASSERT_TRUE(daemon.WaitFor(
      [](const Json& s) { return StateOf(s, "web", 0) == "ready"; },
      "web:0 ready", kDeadline, &status));
  EXPECT_TRUE(daemon.ReadPidfile(daemon.Path("web.pid")));
  EXPECT_EQ(StateOf(status, "migrate", 0), "completed") << status.dump(2);
  EXPECT_EQ(Field(status, "migrate", 0, "restarts"), 2);
  EXPECT_EQ(Field(status, "migrate", 0, "last_exit")["text"],
            "exited successfully");
  EXPECT_EQ(ReadFile(daemon.Path("count")), "3\n");
  EXPECT_EQ(ReadFile(daemon.Path("seen")), "count 3\n");
  const std::string log = daemon.Log();
  EXPECT_EQ(Count(log, "migrate[0]: started pid"), 3) << log;
  EXPECT_FALSE(Contains(log, "[blocked]")) << log;
}

// `workerd --check -c PATH`.
CommandResult Check(const std::string& path) {
  return RunProgram({kWorkerdPath, "--check", "-c", path});
}

TEST(Dependencies, BadDependsOnIsAnErrorWithFileLineAndColumn) {
  TempDir dir;
  std::string cycle = dir.Write("cycle.toml", R"toml([program.a]
command = ["/bin/true"]
depends_on = ["b"]

[program.b]
command = ["/bin/true"]
depends_on = { a = "started" }
)toml");
  CommandResult result = Check(cycle);
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_EQ(result.err,
            cycle + ":3:15: depends_on makes a cycle: a -> b -> a\n" +
                "workerd: " + cycle + " is not valid; nothing was started\n");

  // Misspelt, both with --check and when starting for real.
  std::string unknown =
      dir.Write("unknown.toml", "[daemon]\ncontrol_socket = \"" +
                                    dir.Path("control.sock") + R"toml("

[program.migrate]
type = "oneshot"
command = ["/bin/true"]

[program.web]
command = ["/bin/true"]
depends_on = ["migrat"]
)toml");
  const std::string expected =
      unknown +
      ":10:15: depends_on: there is no program \"migrat\" (did you mean "
      "\"migrate\"?)\n" +
      "workerd: " + unknown + " is not valid; nothing was started\n";
  result = Check(unknown);
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_EQ(result.err, expected);
  result = RunProgram({kWorkerdPath, "-c", unknown});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_EQ(result.err, expected);
  EXPECT_NE(access(dir.Path("control.sock").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace workerd::e2e
