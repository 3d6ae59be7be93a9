#include "tests/support/log_lines.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>

namespace workerd::e2e {

bool IsRfc3339Millis(std::string_view time) {
  // YYYY-MM-DDTHH:MM:SS.mmm+hh:mm
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddd+dd:dd";
  if (time.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char want = kShape[i];
    const char got = time[i];
    if (want == 'd' && !std::isdigit(static_cast<unsigned char>(got))) {
      return false;
    }
    if (want == '+' && got != '+' && got != '-') return false;
    if (want != 'd' && want != '+' && got != want) return false;
  }
  return true;
}

std::optional<LogLine> ParseLogLine(std::string_view line, bool timestamps) {
  LogLine parsed;
  if (timestamps) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    parsed.time = line.substr(0, space);
    if (!IsRfc3339Millis(parsed.time)) return std::nullopt;
    line.remove_prefix(space + 1);
  }
  const std::size_t colon = line.find(':');
  const std::size_t space = line.find(' ');
  if (colon == std::string_view::npos || space == std::string_view::npos ||
      colon > space) {
    return std::nullopt;
  }
  parsed.program = line.substr(0, colon);
  const std::string instance(line.substr(colon + 1, space - colon - 1));
  if (instance.empty() ||
      instance.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  parsed.instance = std::atoi(instance.c_str());
  line.remove_prefix(space + 1);
  // "stdout: " or "stdout+ "
  if (line.size() < 8 || line[7] != ' ') return std::nullopt;
  parsed.stream = line.substr(0, 6);
  if (parsed.stream != "stdout" && parsed.stream != "stderr") {
    return std::nullopt;
  }
  if (line[6] == '+') {
    parsed.partial = true;
  } else if (line[6] != ':') {
    return std::nullopt;
  }
  parsed.text = line.substr(8);
  return parsed;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t newline;
  while ((newline = text.find('\n')) != std::string_view::npos) {
    lines.emplace_back(text.substr(0, newline));
    text.remove_prefix(newline + 1);
  }
  return lines;
}

std::vector<LogLine> ParseLogLines(std::string_view text, bool timestamps) {
  std::vector<LogLine> parsed;
  for (const std::string& line : SplitLines(text)) {
    std::optional<LogLine> one = ParseLogLine(line, timestamps);
    if (!one) {
      ADD_FAILURE() << "not a log line: \"" << line.substr(0, 200) << "\"";
      continue;
    }
    parsed.push_back(std::move(*one));
  }
  return parsed;
}

}  // namespace workerd::e2e
