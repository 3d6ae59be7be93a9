#include "daemon/expand.h"

#include <gtest/gtest.h>

namespace workerd {
namespace {

TEST(ExpandPlaceholdersTest, ReplacesInstanceAndProgram) {
  EXPECT_EQ(ExpandPlaceholders("--port=80{instance}", "web", 3), "--port=803");
  EXPECT_EQ(ExpandPlaceholders("{program}-{instance}.log", "web", 0),
            "web-0.log");
  EXPECT_EQ(ExpandPlaceholders("{instance}{instance}", "web", 12), "1212");
  EXPECT_EQ(ExpandPlaceholders("{program}", "jobs.v2", 1), "jobs.v2");
}

TEST(ExpandPlaceholdersTest, LeavesEverythingElseAlone) {
  EXPECT_EQ(ExpandPlaceholders("", "web", 1), "");
  EXPECT_EQ(ExpandPlaceholders("plain", "web", 1), "plain");
  EXPECT_EQ(ExpandPlaceholders(R"({"a": {"b": 1}})", "web", 1),
            R"({"a": {"b": 1}})");
  EXPECT_EQ(ExpandPlaceholders("{}", "web", 1), "{}");
  EXPECT_EQ(ExpandPlaceholders("{instance", "web", 1), "{instance");
  EXPECT_EQ(ExpandPlaceholders("instance}", "web", 1), "instance}");
  EXPECT_EQ(ExpandPlaceholders("{Instance}", "web", 1), "{Instance}");
  EXPECT_EQ(ExpandPlaceholders("{ instance }", "web", 1), "{ instance }");
  EXPECT_EQ(ExpandPlaceholders("$PORT ${instance}", "web", 1), "$PORT $1");
}

TEST(ExpandPlaceholdersTest, HasNoEscapeForBraces) {
  // "{{instance}}" is a brace, the placeholder, a brace.
  EXPECT_EQ(ExpandPlaceholders("{{instance}}", "web", 7), "{7}");
}

TEST(ExpandPlaceholdersTest, DoesNotRescanReplacements) {
  EXPECT_EQ(ExpandPlaceholders("{program}", "{instance}", 5), "{instance}");
  EXPECT_EQ(ExpandPlaceholders("{progr{instance}am}", "web", 5), "{progr5am}");
}

TEST(FindMisspelledPlaceholderTest, FindsNearMisses) {
  auto found = FindMisspelledPlaceholder("--port=80{instnace}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{instnace}");
  EXPECT_EQ(found->meant, "{instance}");

  found = FindMisspelledPlaceholder("{Program}.log");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{Program}");
  EXPECT_EQ(found->meant, "{program}");

  found = FindMisspelledPlaceholder("{instance} {instances}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{instances}");
  EXPECT_EQ(found->meant, "{instance}");

  found = FindMisspelledPlaceholder("{{programm}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{programm}");
}

TEST(FindMisspelledPlaceholderTest, IgnoresOtherBraces) {
  EXPECT_EQ(FindMisspelledPlaceholder(""), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{instance}-{program}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder(R"({"instance": 1})"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{id}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{name}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{0}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{instnace"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{"), std::nullopt);
}

}  // namespace
}  // namespace workerd
