// Durations and sizes as users write them in workers.toml, and back.
//
// A duration is a decimal number and a unit: "250ms", "10s", "2m", "1h".
// Fractions are allowed when they come to whole milliseconds ("1.5s",
// "0.25s", "1.5m"); "0.5ms" is not. Units are lower case. There is no sign,
// no space and no compound form ("1m30s": write "90s"). "0s" is a duration;
// a bare "0" is not, so that every duration says its unit.
//
// A size is a whole number of bytes, optionally followed by K, M or G
// (powers of 1024; lower case is accepted too): "512M", "1G", "64K", "4096".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace workerd {

using Duration = std::chrono::milliseconds;

// Examples for messages about a value that should have been a duration.
inline constexpr std::string_view kDurationExamples =
    R"("10s", "250ms" or "2m")";

// Nothing in workerd waits longer than this; longer values are typos.
inline constexpr Duration kMaxDuration = std::chrono::hours(24 * 365);

// The parsed duration, or nullopt with `*error` (when not null) set to a
// sentence about `text` without the key name, e.g.
// `"10" has no unit; write it like "10s", "250ms" or "2m"`.
std::optional<Duration> ParseDuration(std::string_view text,
                                      std::string* error = nullptr);

// The shortest text ParseDuration reads back as the same value, using the
// largest unit that divides it: "2m", "90s", "1.5s", "250ms", "0s".
std::string FormatDuration(Duration duration);

// The parsed size in bytes, or nullopt with `*error` set like ParseDuration.
std::optional<std::uint64_t> ParseSize(std::string_view text,
                                       std::string* error = nullptr);

// "1G", "512M", "64K" when the unit divides the size, else plain bytes.
std::string FormatSize(std::uint64_t bytes);

}  // namespace workerd
