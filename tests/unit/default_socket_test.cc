#include "proto/default_socket.h"

#include <gtest/gtest.h>

namespace workerd::proto {
namespace {

TEST(DefaultControlSocketPathTest, RootUsesRun) {
  EXPECT_EQ(DefaultControlSocketPath(0, "/run/user/0"),
            "/run/workerd/control.sock");
  EXPECT_EQ(DefaultControlSocketPath(0, nullptr), "/run/workerd/control.sock");
}

TEST(DefaultControlSocketPathTest, UsersUseTheirRuntimeDirectory) {
  EXPECT_EQ(DefaultControlSocketPath(1000, "/run/user/1000"),
            "/run/user/1000/workerd/control.sock");
  EXPECT_EQ(DefaultControlSocketPath(1000, "/run/user/1000/"),
            "/run/user/1000/workerd/control.sock");
}

TEST(DefaultControlSocketPathTest, FallsBackToTmpWithoutAUsableRuntimeDir) {
  EXPECT_EQ(DefaultControlSocketPath(1000, nullptr),
            "/tmp/workerd-1000/control.sock");
  EXPECT_EQ(DefaultControlSocketPath(1000, ""),
            "/tmp/workerd-1000/control.sock");
  EXPECT_EQ(DefaultControlSocketPath(1000, "relative/dir"),
            "/tmp/workerd-1000/control.sock");
}

}  // namespace
}  // namespace workerd::proto
