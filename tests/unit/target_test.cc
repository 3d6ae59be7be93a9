#include "proto/target.h"

#include <gtest/gtest.h>

namespace workerd::proto {
namespace {

std::string ParseError(std::string_view text) {
  auto parsed = ParseTarget(text);
  if (!std::holds_alternative<std::string>(parsed)) {
    ADD_FAILURE() << "expected an error for " << text;
    return "";
  }
  return std::get<std::string>(parsed);
}

TEST(ParseTargetTest, ProgramAlone) {
  auto parsed = ParseTarget("web");
  ASSERT_TRUE(std::holds_alternative<Target>(parsed));
  EXPECT_EQ(std::get<Target>(parsed), (Target{"web", std::nullopt}));
}

TEST(ParseTargetTest, ProgramAndInstance) {
  EXPECT_EQ(std::get<Target>(ParseTarget("web:2")), (Target{"web", 2}));
  EXPECT_EQ(std::get<Target>(ParseTarget("web:0")), (Target{"web", 0}));
  EXPECT_EQ(std::get<Target>(ParseTarget("my-app.v2:02")),
            (Target{"my-app.v2", 2}));
  EXPECT_EQ(std::get<Target>(ParseTarget("w:2147483647")),
            (Target{"w", 2147483647}));
}

TEST(ParseTargetTest, ExplainsBadTargets) {
  EXPECT_EQ(ParseError(""), "invalid target \"\": it is empty");
  EXPECT_EQ(ParseError(":2"),
            "invalid target \":2\": the program name is missing");
  EXPECT_EQ(ParseError("web:"),
            "invalid target \"web:\": the instance after ':' is missing");
  EXPECT_EQ(ParseError("web:x"),
            "invalid target \"web:x\": the instance after ':' must be a "
            "non-negative integer");
  EXPECT_EQ(ParseError("web:-1"),
            "invalid target \"web:-1\": the instance after ':' must be a "
            "non-negative integer");
  EXPECT_EQ(ParseError("web:1:2"),
            "invalid target \"web:1:2\": the instance after ':' must be a "
            "non-negative integer");
  EXPECT_EQ(ParseError("web:2147483648"),
            "invalid target \"web:2147483648\": the instance after ':' is too "
            "large");
  EXPECT_EQ(ParseError("my web"),
            "invalid target \"my web\": a program name has no spaces or "
            "control characters");
}

TEST(FormatTargetTest, IsTheInverseOfParse) {
  EXPECT_EQ(FormatTarget(Target{"web", std::nullopt}), "web");
  EXPECT_EQ(FormatTarget(Target{"web", 12}), "web:12");
  for (const char* text : {"web", "web:0", "jobs:17"}) {
    EXPECT_EQ(FormatTarget(std::get<Target>(ParseTarget(text))), text);
  }
}

}  // namespace
}  // namespace workerd::proto
