#include "daemon/worker_launch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

namespace workerd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::Contains;

TEST(InheritableEnvironmentTest, DropsWhatDescribesWorkerdItself) {
  const char* environ[] = {"PATH=/usr/bin",      "NOTIFY_SOCKET=/run/x",
                           "LISTEN_FDS=2",       "LISTEN_PID=1",
                           "LISTEN_FDNAMES=a:b", "WATCHDOG_USEC=100",
                           "WATCHDOG_PID=1",     "HOME=/root",
                           "NOEQUALS",           nullptr};
  EXPECT_THAT(InheritableEnvironment(environ),
              ElementsAre("PATH=/usr/bin", "HOME=/root"));
}

TEST(MakeSpawnRequestTest, ExpandsAndLayersTheEnvironment) {
  ProgramSpec spec;
  spec.name = "web";
  spec.command = {"app", "--port", "80{instance}", "--name={program}"};
  spec.env = {{"HOME", "/srv"}, {"SLOT", "{program}-{instance}"}};
  spec.directory = "/srv";
  spec.uid = 33;
  spec.gid = 34;
  SpawnRequest request =
      MakeSpawnRequest(spec, 2, {"HOME=/root", "PATH=/bin", "WORKERD_INSTANCE=9"});
  EXPECT_THAT(request.argv, ElementsAre("app", "--port", "802", "--name=web"));
  EXPECT_THAT(request.env,
              ElementsAre("HOME=/srv", "PATH=/bin", "WORKERD_INSTANCE=2",
                          "SLOT=web-2", "WORKERD_PROGRAM=web"));
  EXPECT_EQ(request.directory, "/srv");
  EXPECT_EQ(request.uid, 33u);
  EXPECT_EQ(request.gid, 34u);
}

TEST(MakeSpawnRequestTest, TheParentDeathSignalIsTheStopSignal) {
  ProgramSpec spec;
  spec.command = {"app"};
  spec.stop_signal = SIGQUIT;
  EXPECT_EQ(MakeSpawnRequest(spec, 0, {}).parent_death_signal, SIGQUIT);
}

TEST(MakeSpawnRequestTest, JournalStreamOnlyReachesWorkersWritingToOurStderr) {
  ProgramSpec spec;
  spec.command = {"app"};
  const std::vector<std::string> inherited = {"JOURNAL_STREAM=8:1234",
                                              "PATH=/bin"};
  spec.log = LogMode::kInherit;
  EXPECT_THAT(MakeSpawnRequest(spec, 0, inherited).env,
              Contains("JOURNAL_STREAM=8:1234"));
  for (LogMode captured : {LogMode::kFile, LogMode::kJournal, LogMode::kNull}) {
    spec.log = captured;
    EXPECT_THAT(MakeSpawnRequest(spec, 0, inherited).env,
                Not(Contains("JOURNAL_STREAM=8:1234")));
  }
}

}  // namespace
}  // namespace workerd
