#include "daemon/timestamp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

namespace workerd {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Sets TZ for the test's lifetime, then puts back what was there.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* zone) {
    if (const char* previous = std::getenv("TZ")) previous_ = previous;
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~ScopedTimeZone() {
    if (previous_) {
      ::setenv("TZ", previous_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

 private:
  std::optional<std::string> previous_;
};

// Named zones need the system's tz database.
bool HaveZone(const std::string& name) {
  return std::filesystem::exists("/usr/share/zoneinfo/" + name);
}

// A UTC time, to the millisecond.
WallTime Utc(int year, int month, int day, int hour, int minute, int second,
             int millis = 0) {
  std::tm fields{};
  fields.tm_year = year - 1900;
  fields.tm_mon = month - 1;
  fields.tm_mday = day;
  fields.tm_hour = hour;
  fields.tm_min = minute;
  fields.tm_sec = second;
  return WallClock::from_time_t(::timegm(&fields)) + milliseconds(millis);
}

std::string Format(WallTime time) {
  TimestampFormatter formatter;
  return std::string(formatter.Format(time));
}

TEST(TimestampTest, UtcHasAZeroOffset) {
  ScopedTimeZone zone("UTC");
  TimestampFormatter formatter;
  const std::string_view text =
      formatter.Format(Utc(2026, 11, 23, 10, 15, 2, 123));
  EXPECT_EQ(text, "2026-11-23T10:15:02.123+00:00");
  EXPECT_EQ(text.size(), TimestampFormatter::kLength);
  EXPECT_EQ(Format(Utc(2024, 2, 29, 0, 0, 0)), "2024-02-29T00:00:00.000+00:00");
}

TEST(TimestampTest, PositiveOffsetWithHalfAnHour) {
  // tzdata is a test dependency (scripts/dev installs it): a missing zone
  // is a broken setup, not a reason to test less.
  ASSERT_TRUE(HaveZone("Asia/Kolkata")) << "install tzdata";
  ScopedTimeZone zone("Asia/Kolkata");
  EXPECT_EQ(Format(Utc(2026, 11, 23, 10, 15, 2, 123)),
            "2026-11-23T15:45:02.123+05:30");
  // Local time is past midnight already.
  EXPECT_EQ(Format(Utc(2026, 11, 23, 20, 0, 0)),
            "2026-11-24T01:30:00.000+05:30");
}

TEST(TimestampTest, PositiveOffsetFromAPosixZone) {
  ScopedTimeZone zone("ABC-5:45");
  EXPECT_EQ(Format(Utc(2026, 11, 23, 10, 15, 2, 7)),
            "2026-11-23T16:00:02.007+05:45");
}

TEST(TimestampTest, NegativeOffsets) {
  {
    // POSIX: 3:30 west of Greenwich.
    ScopedTimeZone zone("XYZ+3:30");
    EXPECT_EQ(Format(Utc(2026, 11, 23, 10, 15, 2, 123)),
              "2026-11-23T06:45:02.123-03:30");
    // Local time is still the day before.
    EXPECT_EQ(Format(Utc(2026, 11, 23, 1, 0, 0)),
              "2026-11-22T21:30:00.000-03:30");
  }
  {
    ScopedTimeZone zone("EST5");
    EXPECT_EQ(Format(Utc(2026, 1, 1, 4, 59, 59, 999)),
              "2025-12-31T23:59:59.999-05:00");
  }
}

TEST(TimestampTest, NegativeOffsetsOfANamedZoneFollowDaylightSaving) {
  ASSERT_TRUE(HaveZone("America/St_Johns")) << "install tzdata";
  ScopedTimeZone zone("America/St_Johns");
  EXPECT_EQ(Format(Utc(2026, 11, 23, 10, 15, 2, 123)),
            "2026-11-23T06:45:02.123-03:30");
  EXPECT_EQ(Format(Utc(2026, 7, 1, 12, 0, 0)), "2026-07-01T09:30:00.000-02:30");
}

TEST(TimestampTest, TheOffsetChangesWithDaylightSavingInOneFormatter) {
  // Daylight saving time from the second Sunday of March (8 March 2026) at
  // 02:00 local, 05:30 UTC.
  ScopedTimeZone zone("XYZ+3:30XDT,M3.2.0,M11.1.0");
  TimestampFormatter formatter;
  EXPECT_EQ(formatter.Format(Utc(2026, 3, 8, 5, 29, 59, 999)),
            "2026-03-08T01:59:59.999-03:30");
  EXPECT_EQ(formatter.Format(Utc(2026, 3, 8, 5, 30, 0, 0)),
            "2026-03-08T03:00:00.000-02:30");
}

TEST(TimestampTest, MillisecondsChangeWithinOneSecond) {
  ScopedTimeZone zone("UTC");
  TimestampFormatter formatter;
  const WallTime second = Utc(2026, 11, 23, 10, 15, 2);
  EXPECT_EQ(formatter.Format(second), "2026-11-23T10:15:02.000+00:00");
  EXPECT_EQ(formatter.Format(second + milliseconds(1)),
            "2026-11-23T10:15:02.001+00:00");
  EXPECT_EQ(formatter.Format(second + milliseconds(10)),
            "2026-11-23T10:15:02.010+00:00");
  EXPECT_EQ(formatter.Format(second + milliseconds(100)),
            "2026-11-23T10:15:02.100+00:00");
  EXPECT_EQ(formatter.Format(second + milliseconds(999)),
            "2026-11-23T10:15:02.999+00:00");
  EXPECT_EQ(formatter.Format(second + milliseconds(50)),
            "2026-11-23T10:15:02.050+00:00");
}

TEST(TimestampTest, ANewSecondIsNeverServedFromTheCache) {
  ScopedTimeZone zone("UTC");
  TimestampFormatter formatter;
  EXPECT_EQ(formatter.Format(Utc(2026, 11, 23, 10, 15, 2, 999)),
            "2026-11-23T10:15:02.999+00:00");
  EXPECT_EQ(formatter.Format(Utc(2026, 11, 23, 10, 15, 3, 0)),
            "2026-11-23T10:15:03.000+00:00");
  // Back in time, and a minute later with the same seconds and millis.
  EXPECT_EQ(formatter.Format(Utc(2026, 11, 23, 10, 15, 2, 500)),
            "2026-11-23T10:15:02.500+00:00");
  EXPECT_EQ(formatter.Format(Utc(2026, 11, 23, 10, 16, 2, 500)),
            "2026-11-23T10:16:02.500+00:00");
  // Across a year.
  EXPECT_EQ(formatter.Format(Utc(2026, 12, 31, 23, 59, 59, 999)),
            "2026-12-31T23:59:59.999+00:00");
  EXPECT_EQ(formatter.Format(Utc(2027, 1, 1, 0, 0, 0, 0)),
            "2027-01-01T00:00:00.000+00:00");
}

TEST(TimestampTest, LeavesOutWhatIsFinerThanAMillisecond) {
  ScopedTimeZone zone("UTC");
  const WallTime second = Utc(2026, 11, 23, 10, 15, 2);
  EXPECT_EQ(Format(second + std::chrono::duration_cast<WallClock::duration>(
                                nanoseconds(123'999'999))),
            "2026-11-23T10:15:02.123+00:00");
  EXPECT_EQ(Format(second + std::chrono::duration_cast<WallClock::duration>(
                                nanoseconds(999'999'999))),
            "2026-11-23T10:15:02.999+00:00");
}

TEST(TimestampTest, TimesBefore1970) {
  ScopedTimeZone zone("UTC");
  const WallTime epoch{};
  // Each on a fresh formatter: the first time formatted must not be taken
  // from a cache that holds nothing yet.
  EXPECT_EQ(Format(epoch), "1970-01-01T00:00:00.000+00:00");
  EXPECT_EQ(Format(epoch - milliseconds(1)), "1969-12-31T23:59:59.999+00:00");
  EXPECT_EQ(Format(epoch - milliseconds(500)), "1969-12-31T23:59:59.500+00:00");
  EXPECT_EQ(Format(epoch - seconds(1)), "1969-12-31T23:59:59.000+00:00");
  EXPECT_EQ(Format(epoch - milliseconds(1500)),
            "1969-12-31T23:59:58.500+00:00");
  EXPECT_EQ(Format(Utc(1960, 6, 15, 8, 30, 0, 250)),
            "1960-06-15T08:30:00.250+00:00");

  TimestampFormatter formatter;
  EXPECT_EQ(formatter.Format(epoch - milliseconds(1)),
            "1969-12-31T23:59:59.999+00:00");
  EXPECT_EQ(formatter.Format(epoch), "1970-01-01T00:00:00.000+00:00");
  EXPECT_EQ(formatter.Format(epoch - milliseconds(999)),
            "1969-12-31T23:59:59.001+00:00");
}

TEST(TimestampTest, TimesBefore1970InAZone) {
  ScopedTimeZone zone("XYZ+3:30");
  EXPECT_EQ(Format(WallTime{} - milliseconds(250)),
            "1969-12-31T20:29:59.750-03:30");
}

}  // namespace
}  // namespace workerd
