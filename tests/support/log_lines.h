// Reading workerd's log lines back in the end-to-end tests: the lines of a
// log file (or of `workerctl logs`), "TIME PROGRAM:INSTANCE STREAM: TEXT",
// with "STREAM+" for a record cut from a longer line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workerd::e2e {

struct LogLine {
  std::string time;  // empty without timestamps
  std::string program;
  int instance = -1;
  std::string stream;     // "stdout" or "stderr"
  bool partial = false;   // "stdout+": the line goes on in the next record
  std::string text;
};

// One line without its newline; nullopt when it is not in the format.
std::optional<LogLine> ParseLogLine(std::string_view line, bool timestamps);

// Every line of `text`; a line not in the format is a test failure.
std::vector<LogLine> ParseLogLines(std::string_view text, bool timestamps);

// The whole lines of `text` (the part after the last newline is dropped).
std::vector<std::string> SplitLines(std::string_view text);

// Whether `time` is RFC 3339 as workerd writes it:
// "2026-11-23T10:15:02.123+01:00".
bool IsRfc3339Millis(std::string_view time);

}  // namespace workerd::e2e
