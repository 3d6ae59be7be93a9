// Targets name the workers a command acts on: "web" is every instance of
// program web, "web:2" is instance 2 of it (PROTOCOL.md, "Targets").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace workerd::proto {

struct Target {
  std::string program;
  std::optional<int> instance;  // nullopt: every instance

  bool operator==(const Target&) const = default;
};

// Parses "NAME" or "NAME:N" (N a non-negative decimal integer). On failure, a
// sentence naming the text, e.g. `invalid target "web:x": the instance after
// ':' must be a non-negative integer`. Whether the program exists is not
// checked here.
std::variant<Target, std::string> ParseTarget(std::string_view text);

// The inverse of ParseTarget: "web" or "web:2".
std::string FormatTarget(const Target& target);

}  // namespace workerd::proto
