#include "proto/target.h"

#include <limits>

namespace workerd::proto {
namespace {

std::string Invalid(std::string_view text, std::string_view why) {
  std::string message = "invalid target \"";
  message += text;
  message += "\": ";
  message += why;
  return message;
}

bool IsControlOrSpace(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

}  // namespace

std::variant<Target, std::string> ParseTarget(std::string_view text) {
  if (text.empty()) return std::string("invalid target \"\": it is empty");
  const auto colon = text.find(':');
  const std::string_view program = text.substr(0, colon);
  if (program.empty()) return Invalid(text, "the program name is missing");
  for (const char c : program) {
    // workers.toml could quote such a name, but a target containing it is
    // far more likely a slip of the shell than a real program.
    if (IsControlOrSpace(c)) {
      return Invalid(text,
                     "a program name has no spaces or control characters");
    }
  }
  Target target{std::string(program), std::nullopt};
  if (colon == std::string_view::npos) return target;

  const std::string_view digits = text.substr(colon + 1);
  if (digits.empty()) return Invalid(text, "the instance after ':' is missing");
  long long value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return Invalid(text,
                     "the instance after ':' must be a non-negative integer");
    }
    value = value * 10 + (c - '0');
    if (value > std::numeric_limits<int>::max()) {
      return Invalid(text, "the instance after ':' is too large");
    }
  }
  target.instance = static_cast<int>(value);
  return target;
}

std::string FormatTarget(const Target& target) {
  if (!target.instance) return target.program;
  return target.program + ":" + std::to_string(*target.instance);
}

}  // namespace workerd::proto
