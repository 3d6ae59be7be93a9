// The harness's own promise, tested: a teardown that does not notice a
// leftover process would make every "no process is left" check above
// worthless.

#include "tests/support/harness.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace workerd::e2e {
namespace {

constexpr const char* kOneWorker = R"toml(
[program.web]
command = ["@WORKER@"]
start_period = "0s"
)toml";

// Starts the test worker as our own child, outside workerd's care, with
// `env` added to our environment; it runs until killed.
pid_t StartStray(const std::vector<std::string>& args, const std::string& env) {
  // Everything execve needs is built before fork: only async-signal-safe
  // calls in the child.
  std::vector<std::string> strings = {kTestWorkerPath};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string env_copy = env;
  std::vector<char*> envp;
  for (char** p = environ; *p != nullptr; ++p) envp.push_back(*p);
  if (!env_copy.empty()) envp.push_back(env_copy.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

// Collects the stray once the teardown has killed it.
void Collect(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(Harness, TeardownReportsAProcessCarryingTheTestsDirectory) {
  pid_t stray = -1;
  EXPECT_NONFATAL_FAILURE(
      {
        Daemon daemon(kOneWorker);
        daemon.set_teardown_deadline(Millis(300));
        ASSERT_TRUE(daemon.Start());
        // As a worker's descendant would: the marker in its environment.
        stray = StartStray({"--pidfile", daemon.Path("stray.pid")},
                           "WORKERD_E2E_DIR=" + daemon.dir().path());
        ASSERT_TRUE(daemon.ReadPidfile(daemon.Path("stray.pid"), kDeadline));
      },
      "outlived workerd");
  if (stray > 0) Collect(stray);
}

TEST(Harness, TeardownReportsATrackedPid) {
  pid_t stray = -1;
  EXPECT_NONFATAL_FAILURE(
      {
        Daemon daemon(kOneWorker);
        daemon.set_teardown_deadline(Millis(300));
        ASSERT_TRUE(daemon.Start());
        stray = StartStray({}, "");
        daemon.Track(stray);
      },
      "outlived workerd");
  if (stray > 0) Collect(stray);
}

TEST(Harness, CleanRunLeavesNothingToReport) {
  Daemon daemon(kOneWorker);
  ASSERT_TRUE(daemon.Start());
  EXPECT_TRUE(daemon.KillAndWaitReplaced("web", 0));
  EXPECT_EQ(daemon.Stop(), 0);
}

}  // namespace
}  // namespace workerd::e2e
