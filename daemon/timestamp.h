// RFC 3339 times for log lines: "2026-11-23T10:15:02.123+01:00", local
// time with milliseconds and the numeric offset, so a line reads naturally
// and still says exactly when it was.
#pragma once

#include <chrono>
#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace workerd {

using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;

// Formats times, converting to local time (localtime_r, which consults the
// time zone) only once per second: output is stamped per line and may come
// at millions of lines a second.
class TimestampFormatter {
 public:
  static constexpr std::size_t kLength = 29;  // "YYYY-MM-DDTHH:MM:SS.mmm+hh:mm"

  // Valid until the next call.
  std::string_view Format(WallTime time);

 private:
  // Empty until the first call: any second, -1 included, may come first.
  std::optional<std::time_t> cached_second_;
  char text_[kLength + 1] = {};
};

}  // namespace workerd
