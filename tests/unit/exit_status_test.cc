#include "daemon/exit_status.h"

#include <gtest/gtest.h>

namespace workerd {
namespace {

siginfo_t Info(int code, int status) {
  siginfo_t info{};
  info.si_code = code;
  info.si_status = status;
  return info;
}

TEST(ExitStatusTest, DescribesEveryEnding) {
  EXPECT_EQ(ExitStatus::FromSiginfo(Info(CLD_EXITED, 0)).Describe(),
            "exited successfully");
  EXPECT_EQ(ExitStatus::FromSiginfo(Info(CLD_EXITED, 3)).Describe(),
            "exited with status 3");
  EXPECT_EQ(ExitStatus::FromSiginfo(Info(CLD_KILLED, SIGKILL)).Describe(),
            "killed by SIGKILL");
  EXPECT_EQ(ExitStatus::FromSiginfo(Info(CLD_DUMPED, SIGSEGV)).Describe(),
            "killed by SIGSEGV (core dumped)");
  EXPECT_EQ(
      ExitStatus::SpawnFailed("exec \"x\": No such file or directory")
          .Describe(),
      "exec \"x\": No such file or directory");
}

TEST(ExitStatusTest, OnlyExitZeroIsSuccess) {
  EXPECT_TRUE(ExitStatus::FromSiginfo(Info(CLD_EXITED, 0)).Success());
  EXPECT_FALSE(ExitStatus::FromSiginfo(Info(CLD_EXITED, 1)).Success());
  EXPECT_FALSE(ExitStatus::FromSiginfo(Info(CLD_KILLED, SIGTERM)).Success());
  EXPECT_FALSE(ExitStatus::SpawnFailed("x").Success());
}

}  // namespace
}  // namespace workerd
