#include "daemon/exec_path.h"

#include <gtest/gtest.h>

namespace workerd {
namespace {

TEST(FindEnvTest, FirstAssignmentOfTheNameWins) {
  const std::vector<std::string> env = {"PATHX=1", "PATH=/a", "PATH=/b", "P="};
  EXPECT_EQ(FindEnv(env, "PATH"), "/a");
  EXPECT_EQ(FindEnv(env, "P"), "");
  EXPECT_EQ(FindEnv(env, "PAT"), std::nullopt);
  EXPECT_EQ(FindEnv({}, "PATH"), std::nullopt);
}

TEST(ExecCandidatesTest, ProgramWithASlashIsTakenAsItIs) {
  EXPECT_EQ(ExecCandidates("./app", {"PATH=/usr/bin"}),
            (std::vector<std::string>{"./app"}));
  EXPECT_EQ(ExecCandidates("/srv/bin/app", {}),
            (std::vector<std::string>{"/srv/bin/app"}));
}

TEST(ExecCandidatesTest, SearchesThePathOfTheWorkersEnvironment) {
  EXPECT_EQ(ExecCandidates("gunicorn", {"PATH=/opt/venv/bin::/usr/bin"}),
            (std::vector<std::string>{"/opt/venv/bin/gunicorn", "./gunicorn",
                                      "/usr/bin/gunicorn"}));
}

TEST(ExecCandidatesTest, WithoutPathUsesTheDefault) {
  EXPECT_EQ(ExecCandidates("sh", {"HOME=/root"}),
            (std::vector<std::string>{"/usr/local/bin/sh", "/usr/bin/sh",
                                      "/bin/sh"}));
}

}  // namespace
}  // namespace workerd
