#include "daemon/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

#include "daemon/suggest.h"

namespace workerd {
namespace {

constexpr std::string_view kSizeExamples =
    R"("512M", "1G", "64K" or a number of bytes)";

// Largest first, so FormatDuration can take the first unit that divides.
constexpr std::array<std::pair<std::string_view, std::int64_t>, 4>
    kDurationUnits = {
        {{"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};
constexpr std::array<std::pair<char, int>, 3> kSizeUnits = {
    {{'G', 30}, {'M', 20}, {'K', 10}}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool HasSpace(std::string_view text) {
  return text.find_first_of(" \t\r\n\v\f") != std::string_view::npos;
}

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// Reads the leading digits of `*text` into `*value`, consuming them. False on
// overflow of `limit`.
bool TakeDigits(std::string_view* text, std::uint64_t limit,
                std::uint64_t* value) {
  *value = 0;
  std::size_t i = 0;
  for (; i < text->size() && IsDigit((*text)[i]); ++i) {
    const std::uint64_t digit = (*text)[i] - '0';
    if (*value > (limit - digit) / 10) return false;
    *value = *value * 10 + digit;
  }
  text->remove_prefix(i);
  return true;
}

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text,
                                      std::string* error) {
  const std::string quoted = Quoted(text);
  const std::string too_long = quoted + " is too long; the most is " +
                               Quoted(FormatDuration(kMaxDuration));
  if (text.empty()) {
    SetError(error, "an empty string is not a duration; write it like " +
                        std::string(kDurationExamples));
    return std::nullopt;
  }
  if (HasSpace(text)) {
    SetError(error, quoted + " must not contain spaces; write it like " +
                        std::string(kDurationExamples));
    return std::nullopt;
  }
  if (text.front() == '-') {
    SetError(error, quoted + " is negative; a duration is 0s or more");
    return std::nullopt;
  }
  if (!IsDigit(text.front())) {
    SetError(error, quoted + " is not a duration; write it like " +
                        std::string(kDurationExamples));
    return std::nullopt;
  }

  std::string_view rest = text;
  std::uint64_t whole = 0;
  if (!TakeDigits(&rest, kMaxDuration.count(), &whole)) {
    SetError(error, too_long);
    return std::nullopt;
  }
  // The fraction as digits, trailing zeros dropped: "1.50s" is "1.5s".
  std::string_view fraction;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    std::size_t digits = 0;
    while (digits < rest.size() && IsDigit(rest[digits])) ++digits;
    if (digits == 0) {
      SetError(error, quoted + " is not a duration; write it like " +
                          std::string(kDurationExamples));
      return std::nullopt;
    }
    fraction = rest.substr(0, digits);
    rest.remove_prefix(digits);
    while (!fraction.empty() && fraction.back() == '0') {
      fraction.remove_suffix(1);
    }
  }

  if (rest.empty()) {
    SetError(error, quoted + " has no unit; write it like " +
                        std::string(kDurationExamples));
    return std::nullopt;
  }
  std::int64_t unit_ms = 0;
  for (const auto& [name, ms] : kDurationUnits) {
    if (rest == name) unit_ms = ms;
  }
  if (unit_ms == 0) {
    SetError(error, quoted + " has an unknown unit " + Quoted(rest) +
                        "; use ms, s, m or h");
    return std::nullopt;
  }

  // A unit is at most 3.6e6 ms, so a fraction finer than 1e-7 can never come
  // to whole milliseconds; capping at 12 digits keeps the product in range.
  std::int64_t fraction_ms = 0;
  if (!fraction.empty()) {
    std::int64_t numerator = 0, denominator = 1;
    if (fraction.size() <= 12) {
      for (char c : fraction) {
        numerator = numerator * 10 + (c - '0');
        denominator *= 10;
      }
    }
    if (denominator == 1 || numerator * unit_ms % denominator != 0) {
      SetError(error, quoted + " is not a whole number of milliseconds");
      return std::nullopt;
    }
    fraction_ms = numerator * unit_ms / denominator;
  }
  const std::int64_t max_ms = kMaxDuration.count();
  if (whole > static_cast<std::uint64_t>(max_ms / unit_ms) ||
      static_cast<std::int64_t>(whole) * unit_ms + fraction_ms > max_ms) {
    SetError(error, too_long);
    return std::nullopt;
  }
  return Duration(static_cast<std::int64_t>(whole) * unit_ms + fraction_ms);
}

std::string FormatDuration(Duration duration) {
  std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string sign;
  if (ms < 0) {
    // Not a configured value, but a difference of two may be negative.
    sign = "-";
    ms = -ms;
  }
  for (const auto& [name, unit_ms] : kDurationUnits) {
    if (unit_ms == 1) break;
    if (ms % unit_ms == 0) {
      return sign + std::to_string(ms / unit_ms) + std::string(name);
    }
  }
  // Not a whole number of seconds: seconds with up to three decimals reads
  // better than milliseconds once it passes one second.
  if (ms < 1000) return sign + std::to_string(ms) + "ms";
  std::string decimals = std::to_string(1000 + ms % 1000).substr(1);
  while (decimals.back() == '0') decimals.pop_back();
  return sign + std::to_string(ms / 1000) + "." + decimals + "s";
}

std::optional<std::uint64_t> ParseSize(std::string_view text,
                                       std::string* error) {
  const std::string quoted = Quoted(text);
  if (text.empty()) {
    SetError(error, "an empty string is not a size; write it like " +
                        std::string(kSizeExamples));
    return std::nullopt;
  }
  if (HasSpace(text)) {
    SetError(error, quoted + " must not contain spaces; write it like " +
                        std::string(kSizeExamples));
    return std::nullopt;
  }
  if (!IsDigit(text.front())) {
    SetError(error, quoted + " is not a size; write it like " +
                        std::string(kSizeExamples));
    return std::nullopt;
  }
  std::string_view rest = text;
  std::uint64_t number = 0;
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  const std::string too_large = quoted + " is too large";
  if (!TakeDigits(&rest, max, &number)) {
    SetError(error, too_large);
    return std::nullopt;
  }
  if (rest.empty()) return number;
  if (rest.front() == '.') {
    SetError(error, quoted + " is not a whole number; write it like " +
                        std::string(kSizeExamples));
    return std::nullopt;
  }
  for (const auto& [letter, shift] : kSizeUnits) {
    if (rest.size() == 1 && (rest[0] == letter || rest[0] == letter + 32)) {
      if (number > (max >> shift)) {
        SetError(error, too_large);
        return std::nullopt;
      }
      return number << shift;
    }
  }
  SetError(error, quoted + " has an unknown unit " + Quoted(rest) +
                      "; use K, M or G (powers of 1024), or no unit for bytes");
  return std::nullopt;
}

std::string FormatSize(std::uint64_t bytes) {
  if (bytes != 0) {
    for (const auto& [letter, shift] : kSizeUnits) {
      if (bytes % (std::uint64_t{1} << shift) == 0) {
        return std::to_string(bytes >> shift) + letter;
      }
    }
  }
  return std::to_string(bytes);
}

}  // namespace workerd
