#include "daemon/credentials.h"

#include <pwd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

namespace workerd {
namespace {

TEST(ResolveCredentialsTest, NothingAskedNothingChanged) {
  const Credentials creds = ResolveCredentials(std::nullopt, std::nullopt);
  EXPECT_FALSE(creds.set_groups);
  EXPECT_FALSE(creds.uid);
  EXPECT_FALSE(creds.gid);
  EXPECT_EQ(creds.lookup_error, 0);
}

TEST(ResolveCredentialsTest, UserWithoutGroupTakesItsPrimaryGroup) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  const Credentials creds = ResolveCredentials(uid, std::nullopt);
  EXPECT_EQ(creds.uid, uid);
  EXPECT_EQ(creds.gid, gid);
  EXPECT_EQ(creds.lookup_error, 0);
  // Supplementary groups can only be set by root, who gets the user's.
  EXPECT_EQ(creds.set_groups, geteuid() == 0);
  if (creds.set_groups) {
    EXPECT_NE(std::find(creds.groups.begin(), creds.groups.end(), gid),
              creds.groups.end());
  }
}

TEST(ResolveCredentialsTest, UnknownUidWithoutGroupIsRefused) {
  // No passwd entry and no gid: there is no group to switch to.
  const uid_t unknown = 3999999999u;
  ASSERT_EQ(getpwuid(unknown), nullptr);
  const Credentials creds = ResolveCredentials(unknown, std::nullopt);
  EXPECT_EQ(creds.lookup_error, ENOENT);
  EXPECT_FALSE(creds.gid);
}

TEST(ResolveCredentialsTest, UnknownUidWithGroupGetsJustThatGroup) {
  const uid_t unknown = 3999999999u;
  const Credentials creds = ResolveCredentials(unknown, 4242);
  EXPECT_EQ(creds.lookup_error, 0);
  EXPECT_EQ(creds.gid, 4242u);
  if (geteuid() == 0) {
    EXPECT_EQ(creds.groups, std::vector<gid_t>{4242});
  }
}

}  // namespace
}  // namespace workerd
