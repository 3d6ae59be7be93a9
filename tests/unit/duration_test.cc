#include "daemon/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace workerd {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::string DurationError(std::string_view text) {
  std::string error;
  EXPECT_FALSE(ParseDuration(text, &error).has_value()) << text;
  return error;
}

std::string SizeError(std::string_view text) {
  std::string error;
  EXPECT_FALSE(ParseSize(text, &error).has_value()) << text;
  return error;
}

TEST(ParseDurationTest, ReadsEachUnit) {
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("10s"), seconds(10));
  EXPECT_EQ(ParseDuration("2m"), minutes(2));
  EXPECT_EQ(ParseDuration("1h"), hours(1));
}

TEST(ParseDurationTest, ZeroNeedsAUnitToo) {
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
  EXPECT_EQ(ParseDuration("0ms"), milliseconds(0));
  EXPECT_EQ(DurationError("0"),
            R"("0" has no unit; write it like "10s", "250ms" or "2m")");
}

TEST(ParseDurationTest, ReadsFractionsThatComeToWholeMilliseconds) {
  EXPECT_EQ(ParseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(ParseDuration("0.25s"), milliseconds(250));
  EXPECT_EQ(ParseDuration("1.5m"), seconds(90));
  EXPECT_EQ(ParseDuration("0.001s"), milliseconds(1));
  EXPECT_EQ(ParseDuration("1.50000000000000000000s"), milliseconds(1500));
  EXPECT_EQ(ParseDuration("2.0h"), hours(2));
  EXPECT_EQ(ParseDuration("0.0001h"), milliseconds(360));
  EXPECT_EQ(DurationError("0.5ms"),
            R"("0.5ms" is not a whole number of milliseconds)");
  EXPECT_EQ(DurationError("1.0005s"),
            R"("1.0005s" is not a whole number of milliseconds)");
  EXPECT_EQ(DurationError("1.00000000000001h"),
            R"("1.00000000000001h" is not a whole number of milliseconds)");
}

TEST(ParseDurationTest, LeadingZerosAreFine) {
  EXPECT_EQ(ParseDuration("010s"), seconds(10));
}

TEST(ParseDurationTest, ExplainsAMissingUnit) {
  EXPECT_EQ(DurationError("10"),
            R"("10" has no unit; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(DurationError("1.5"),
            R"("1.5" has no unit; write it like "10s", "250ms" or "2m")");
}

TEST(ParseDurationTest, ExplainsAnUnknownUnit) {
  EXPECT_EQ(DurationError("10sec"),
            R"("10sec" has an unknown unit "sec"; use ms, s, m or h)");
  EXPECT_EQ(DurationError("10S"),
            R"("10S" has an unknown unit "S"; use ms, s, m or h)");
  EXPECT_EQ(DurationError("1d"),
            R"("1d" has an unknown unit "d"; use ms, s, m or h)");
  EXPECT_EQ(DurationError("1m30s"),
            R"("1m30s" has an unknown unit "m30s"; use ms, s, m or h)");
}

TEST(ParseDurationTest, ExplainsWhatIsNotADuration) {
  EXPECT_EQ(
      DurationError(""),
      R"(an empty string is not a duration; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(
      DurationError("soon"),
      R"("soon" is not a duration; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(DurationError(".5s"),
            R"(".5s" is not a duration; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(DurationError("1.s"),
            R"("1.s" is not a duration; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(DurationError("+1s"),
            R"("+1s" is not a duration; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(
      DurationError("10 s"),
      R"("10 s" must not contain spaces; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(
      DurationError(" 10s"),
      R"(" 10s" must not contain spaces; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(DurationError("-1s"),
            R"("-1s" is negative; a duration is 0s or more)");
}

TEST(ParseDurationTest, RejectsMoreThanAYear) {
  EXPECT_EQ(ParseDuration("8760h"), kMaxDuration);
  EXPECT_EQ(ParseDuration("525600m"), kMaxDuration);
  EXPECT_EQ(DurationError("8761h"),
            R"("8761h" is too long; the most is "8760h")");
  EXPECT_EQ(DurationError("8760.5h"),
            R"("8760.5h" is too long; the most is "8760h")");
  EXPECT_EQ(DurationError("31536000001ms"),
            R"("31536000001ms" is too long; the most is "8760h")");
  // Digits that would overflow 64 bits are caught before they do.
  EXPECT_EQ(DurationError("99999999999999999999999s"),
            R"("99999999999999999999999s" is too long; the most is "8760h")");
}

TEST(ParseDurationTest, ErrorIsOptional) {
  EXPECT_FALSE(ParseDuration("nope").has_value());
}

TEST(FormatDurationTest, UsesTheLargestUnitThatDivides) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(milliseconds(1250)), "1.25s");
  EXPECT_EQ(FormatDuration(milliseconds(1001)), "1.001s");
  EXPECT_EQ(FormatDuration(seconds(10)), "10s");
  EXPECT_EQ(FormatDuration(seconds(90)), "90s");
  EXPECT_EQ(FormatDuration(minutes(2)), "2m");
  EXPECT_EQ(FormatDuration(minutes(90)), "90m");
  EXPECT_EQ(FormatDuration(hours(3)), "3h");
  EXPECT_EQ(FormatDuration(milliseconds(-1500)), "-1.5s");
}

TEST(FormatDurationTest, RoundTripsThroughParse) {
  for (std::int64_t ms : std::initializer_list<std::int64_t>{
           0, 1, 999, 1000, 1001, 1500, 59999, 60000, 61000, 3599999, 3600000,
           5400000, 31536000000}) {
    EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms))
        << ms;
  }
}

TEST(ParseSizeTest, ReadsUnitsAsPowersOf1024) {
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("0"), 0u);
  EXPECT_EQ(ParseSize("64K"), 64u << 10);
  EXPECT_EQ(ParseSize("512M"), 512u << 20);
  EXPECT_EQ(ParseSize("1G"), 1u << 30);
  EXPECT_EQ(ParseSize("16G"), std::uint64_t{16} << 30);
  EXPECT_EQ(ParseSize("512m"), 512u << 20);
  EXPECT_EQ(ParseSize("64k"), 64u << 10);
  EXPECT_EQ(ParseSize("2g"), std::uint64_t{2} << 30);
}

TEST(ParseSizeTest, ExplainsMistakes) {
  EXPECT_EQ(
      SizeError(""),
      R"(an empty string is not a size; write it like "512M", "1G", "64K" or a number of bytes)");
  EXPECT_EQ(
      SizeError("big"),
      R"("big" is not a size; write it like "512M", "1G", "64K" or a number of bytes)");
  EXPECT_EQ(
      SizeError("-1M"),
      R"("-1M" is not a size; write it like "512M", "1G", "64K" or a number of bytes)");
  EXPECT_EQ(
      SizeError("1.5G"),
      R"("1.5G" is not a whole number; write it like "512M", "1G", "64K" or a number of bytes)");
  EXPECT_EQ(
      SizeError("512 M"),
      R"("512 M" must not contain spaces; write it like "512M", "1G", "64K" or a number of bytes)");
  EXPECT_EQ(
      SizeError("512MB"),
      R"("512MB" has an unknown unit "MB"; use K, M or G (powers of 1024), or no unit for bytes)");
  EXPECT_EQ(
      SizeError("1T"),
      R"("1T" has an unknown unit "T"; use K, M or G (powers of 1024), or no unit for bytes)");
}

TEST(ParseSizeTest, RejectsOverflow) {
  EXPECT_EQ(ParseSize("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(SizeError("18446744073709551616"),
            R"("18446744073709551616" is too large)");
  EXPECT_EQ(ParseSize("17179869183G"), std::uint64_t{17179869183} << 30);
  EXPECT_EQ(SizeError("17179869184G"), R"("17179869184G" is too large)");
}

TEST(FormatSizeTest, UsesTheLargestUnitThatDivides) {
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(FormatSize(1000), "1000");
  EXPECT_EQ(FormatSize(1024), "1K");
  EXPECT_EQ(FormatSize(1536), "1536");
  EXPECT_EQ(FormatSize(512u << 20), "512M");
  EXPECT_EQ(FormatSize(std::uint64_t{3} << 30), "3G");
  EXPECT_EQ(FormatSize(1536u << 10), "1536K");
  EXPECT_EQ(ParseSize(FormatSize(1536u << 10)), 1536u << 10);
}

}  // namespace
}  // namespace workerd
