#include "daemon/timestamp.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace workerd {

std::string_view TimestampFormatter::Format(WallTime time) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const auto since_epoch = time.time_since_epoch();
  auto whole = duration_cast<seconds>(since_epoch);
  auto millis = duration_cast<milliseconds>(since_epoch - whole).count();
  if (millis < 0) {  // before 1970: floor, not truncate
    whole -= seconds(1);
    millis += 1000;
  }
  const std::time_t second = static_cast<std::time_t>(whole.count());
  if (second != cached_second_) {
    std::tm local{};
    localtime_r(&second, &local);
    const long offset_minutes = local.tm_gmtoff / 60;
    const long magnitude = std::labs(offset_minutes);
    // The milliseconds ("000") are filled in below, per call.
    // Every field fits its width for years 0 to 9999; a wider one would
    // only be cut short.
    char formatted[96];
    std::snprintf(formatted, sizeof formatted,
                  "%04d-%02d-%02dT%02d:%02d:%02d.000%c%02ld:%02ld",
                  local.tm_year + 1900, local.tm_mon + 1, local.tm_mday,
                  local.tm_hour, local.tm_min, local.tm_sec,
                  offset_minutes < 0 ? '-' : '+', magnitude / 60,
                  magnitude % 60);
    std::memcpy(text_, formatted, kLength);
    cached_second_ = second;
  }
  text_[20] = static_cast<char>('0' + millis / 100);
  text_[21] = static_cast<char>('0' + millis / 10 % 10);
  text_[22] = static_cast<char>('0' + millis % 10);
  return std::string_view(text_, kLength);
}

}  // namespace workerd
