// Scaling at runtime end to end: up, down (highest instances go, gracefully,
// and vanish from status), and arguments that must change nothing.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace workerd::e2e {
namespace {

constexpr const char* kTwoWorkers = R"toml(
[program.web]
command = ["@WORKER@", "--pidfile", "@DIR@/web.{instance}.pid"]
workers = 2
start_period = "100ms"
)toml";

// Starts workerd on kTwoWorkers and waits until both are ready; `status`
// gets the status that showed it.
bool StartWithTwoReady(Daemon& daemon, Json* status) {
  return daemon.Start() &&
         daemon.WaitFor(
             [](const Json& s) { return AllInState(s, "web", 2, "ready"); },
             "2 ready workers", kDeadline, status);
}

TEST(Scale, UpAddsInstancesDownRemovesTheHighest) {
  Daemon daemon(kTwoWorkers);
  Json before;
  ASSERT_TRUE(StartWithTwoReady(daemon, &before));

  CommandResult up = daemon.RunCtl({"scale", "web=5"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.out.find("2 -> 5"), std::string::npos) << up.out;
  // scale waits until the new workers are ready.
  Json scaled = daemon.Status();
  ASSERT_TRUE(AllInState(scaled, "web", 5, "ready")) << scaled.dump(2);
  EXPECT_EQ(WantedOf(scaled, "web"), 5);
  std::set<pid_t> pids;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Field(scaled, "web", i, "instance"), i);
    pids.insert(PidOf(scaled, "web", i));
  }
  EXPECT_EQ(pids.size(), 5u);
  EXPECT_EQ(PidOf(scaled, "web", 0), PidOf(before, "web", 0));
  EXPECT_EQ(PidOf(scaled, "web", 1), PidOf(before, "web", 1));

  // Each pidfile says its worker handles SIGTERM by now (exits 0 on it).
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        daemon.ReadPidfile(daemon.Path("web." + std::to_string(i) + ".pid")));
  }
  CommandResult down = daemon.RunCtl({"scale", "web=1"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_NE(down.out.find("5 -> 1"), std::string::npos) << down.out;
  // With waiting, the removed instances are gone when scale answers.
  Json after = daemon.Status();
  std::vector<Json> workers = Workers(after, "web");
  ASSERT_EQ(workers.size(), 1u) << after.dump(2);
  EXPECT_EQ(workers[0]["instance"], 0);
  EXPECT_EQ(workers[0]["state"], "ready");
  EXPECT_EQ(PidOf(workers[0]), PidOf(before, "web", 0));
  EXPECT_EQ(WantedOf(after, "web"), 1);

  std::string log = daemon.Log();
  for (int i = 1; i < 5; ++i) {
    pid_t pid = PidOf(scaled, "web", i);
    EXPECT_TRUE(daemon.WaitReaped(pid, "web:" + std::to_string(i)));
    // Gracefully: the stop signal, to which the test worker exits 0.
    EXPECT_NE(log.find("pid " + std::to_string(pid) + " exited successfully"),
              std::string::npos)
        << "web:" << i << " (pid " << pid << ") did not stop gracefully";
  }
  EXPECT_EQ(log.find("SIGKILL"), std::string::npos) << log;

  // And back up: the next instance number is 1 again.
  CommandResult again = daemon.RunCtl({"scale", "web=2"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  Json regrown = daemon.Status();
  EXPECT_TRUE(AllInState(regrown, "web", 2, "ready")) << regrown.dump(2);
  EXPECT_EQ(Field(regrown, "web", 1, "instance"), 1);
}

TEST(Scale, InvalidArgumentsChangeNothing) {
  Daemon daemon(kTwoWorkers);
  Json before;
  ASSERT_TRUE(StartWithTwoReady(daemon, &before));

  // Refused by workerctl itself: a usage error, nothing sent.
  CommandResult not_a_number = daemon.RunCtl({"scale", "web=x"});
  EXPECT_EQ(not_a_number.exit_code, 2);
  EXPECT_NE(not_a_number.err.find("invalid scale argument \"web=x\""),
            std::string::npos)
      << not_a_number.err;
  CommandResult no_equals = daemon.RunCtl({"scale", "web"});
  EXPECT_EQ(no_equals.exit_code, 2) << no_equals.err;
  CommandResult nothing = daemon.RunCtl({"scale"});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.err;

  // Refused by workerd: no such program.
  CommandResult unknown = daemon.RunCtl({"scale", "nope=3"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no program named \"nope\""), std::string::npos)
      << unknown.err;
  // Every name is checked before anything changes: web is not scaled
  // either.
  CommandResult mixed = daemon.RunCtl({"scale", "web=4", "nope=3"});
  EXPECT_EQ(mixed.exit_code, 1);
  EXPECT_NE(mixed.err.find("no program named \"nope\""), std::string::npos)
      << mixed.err;
  // Over the per-program limit.
  CommandResult too_many = daemon.RunCtl({"scale", "web=5000"});
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_NE(too_many.err.find("web"), std::string::npos) << too_many.err;

  // The same over the protocol, for the codes.
  auto answer = daemon.Call("scale", {{"workers", {{"web", "x"}}}});
  ASSERT_TRUE(std::holds_alternative<proto::Response>(answer));
  const proto::Response& response = std::get<proto::Response>(answer);
  EXPECT_FALSE(response.ok);
  ASSERT_TRUE(response.error);
  EXPECT_EQ(response.error->code, "invalid_argument");
  answer = daemon.Call("scale", {{"workers", {{"nope", 3}}}});
  ASSERT_TRUE(std::holds_alternative<proto::Response>(answer));
  ASSERT_TRUE(std::get<proto::Response>(answer).error);
  EXPECT_EQ(std::get<proto::Response>(answer).error->code, "unknown_target");

  Json after = daemon.Status();
  EXPECT_TRUE(AllInState(after, "web", 2, "ready")) << after.dump(2);
  EXPECT_EQ(WantedOf(after, "web"), 2);
  EXPECT_EQ(PidOf(after, "web", 0), PidOf(before, "web", 0));
  EXPECT_EQ(PidOf(after, "web", 1), PidOf(before, "web", 1));
}

}  // namespace
}  // namespace workerd::e2e
