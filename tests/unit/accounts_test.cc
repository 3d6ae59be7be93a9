#include "daemon/accounts.h"

#include <errno.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>

#include <optional>
#include <string>

namespace workerd {
namespace {

// Ids and names no system has.
constexpr uid_t kNoSuchUid = 4123456;
constexpr char kNoSuchName[] = "workerd-no-such-entry";

TEST(FindUserTest, FindsRootByName) {
  int error = -1;
  const std::optional<Account> root = FindUser("root", &error);
  ASSERT_TRUE(root);
  EXPECT_EQ(error, 0);
  EXPECT_EQ(*root, (Account{"root", 0, 0}));
}

TEST(FindUserTest, MatchesGetpwnam) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const Account expected{nobody->pw_name, nobody->pw_uid, nobody->pw_gid};
  int error = -1;
  EXPECT_EQ(FindUser("nobody", &error), expected);
  EXPECT_EQ(error, 0);
}

TEST(FindUserTest, NoSuchUserIsENOENT) {
  int error = 0;
  EXPECT_EQ(FindUser(kNoSuchName, &error), std::nullopt);
  EXPECT_EQ(error, ENOENT);
  error = 0;
  EXPECT_EQ(FindUser("", &error), std::nullopt);
  EXPECT_EQ(error, ENOENT);
}

TEST(FindUserByIdTest, FindsTheNameAndPrimaryGroup) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  int error = -1;
  const std::optional<Account> found = FindUserById(nobody->pw_uid, &error);
  ASSERT_TRUE(found);
  EXPECT_EQ(error, 0);
  EXPECT_EQ(found->name, "nobody");
  EXPECT_EQ(found->gid, nobody->pw_gid);
}

TEST(FindUserByIdTest, NoSuchUidIsENOENT) {
  int error = 0;
  EXPECT_EQ(FindUserById(kNoSuchUid, &error), std::nullopt);
  EXPECT_EQ(error, ENOENT);
}

TEST(FindGroupTest, MatchesGetgrnam) {
  const group* daemon = getgrnam("daemon");
  ASSERT_NE(daemon, nullptr);
  const gid_t gid = daemon->gr_gid;
  int error = -1;
  EXPECT_EQ(FindGroup("daemon", &error), (Group{"daemon", gid}));
  EXPECT_EQ(error, 0);
}

TEST(FindGroupTest, NoSuchGroupIsENOENT) {
  int error = 0;
  EXPECT_EQ(FindGroup(kNoSuchName, &error), std::nullopt);
  EXPECT_EQ(error, ENOENT);
}

}  // namespace
}  // namespace workerd
