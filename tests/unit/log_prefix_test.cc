#include "daemon/log_prefix.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace workerd {
namespace {

TEST(LogPrefixTest, NamesTheProgramInstanceAndStream) {
  EXPECT_EQ(LogPrefix("2026-11-23T10:15:02.123+01:00", "web", 2,
                      OutputStream::kStdout, ""),
            "2026-11-23T10:15:02.123+01:00 web:2 stdout: ");
  EXPECT_EQ(LogPrefix("", "web", 0, OutputStream::kStderr, ""),
            "web:0 stderr: ");
}

TEST(LogPrefixTest, ColoursTheProgramPartOnly) {
  EXPECT_EQ(LogPrefix("2026-11-23T10:15:02.123+01:00", "web", 2,
                      OutputStream::kStdout, "\x1b[36m"),
            "2026-11-23T10:15:02.123+01:00 \x1b[36mweb:2 stdout\x1b[0m: ");
  EXPECT_EQ(LogPrefix("", "api", 10, OutputStream::kStderr, ProgramColour(1)),
            "\x1b[33mapi:10 stderr\x1b[0m: ");
}

TEST(LogPrefixTest, TheMarkIsTheSecondToLastByte) {
  for (std::string_view colour : {std::string_view(), ProgramColour(0)}) {
    const std::string prefix =
        LogPrefix("T", "web", 1, OutputStream::kStdout, colour);
    ASSERT_GE(prefix.size(), 2u);
    EXPECT_EQ(prefix[prefix.size() - 2], ':') << prefix;
    EXPECT_EQ(prefix.back(), ' ') << prefix;
  }
}

TEST(LogPrefixTest, ProgramsGetDistinctColoursInTurnWithoutRed) {
  std::set<std::string_view> colours;
  for (std::size_t n = 0; n < 10; ++n) {
    colours.insert(ProgramColour(n));
    EXPECT_NE(ProgramColour(n), "\x1b[31m");
    EXPECT_NE(ProgramColour(n), "\x1b[91m");
  }
  EXPECT_EQ(colours.size(), 10u);
  EXPECT_EQ(ProgramColour(10), ProgramColour(0));
  EXPECT_EQ(ProgramColour(0), "\x1b[36m");
}

}  // namespace
}  // namespace workerd
