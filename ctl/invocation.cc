#include "ctl/invocation.h"

#include <limits>
#include <string_view>

#include "proto/default_socket.h"
#include "proto/target.h"

namespace workerd::ctl {
namespace {

using proto::Json;

bool IsTargetCommand(std::string_view command) {
  return command == "status" || command == "start" || command == "stop" ||
         command == "restart";
}

bool TakesWait(std::string_view command) {
  return command == "start" || command == "stop" || command == "restart" ||
         command == "scale";
}

std::string Quoted(std::string_view text) {
  std::string quoted = "\"";
  quoted += text;
  quoted += '"';
  return quoted;
}

// "web=8" -> {"web", 8}; a usage error otherwise.
std::variant<std::pair<std::string, int>, std::string> ParseScale(
    std::string_view operand) {
  const std::string prefix = "invalid scale argument " + Quoted(operand) + ": ";
  const auto equals = operand.find('=');
  if (equals == std::string_view::npos) {
    return prefix + "expected NAME=N, e.g. web=4";
  }
  const std::string_view name = operand.substr(0, equals);
  const std::string_view number = operand.substr(equals + 1);
  if (name.empty()) return prefix + "the program name is missing";
  // A program name is a target without an instance.
  const auto target = proto::ParseTarget(name);
  if (std::holds_alternative<std::string>(target) ||
      std::get<proto::Target>(target).instance) {
    return prefix + "scale takes a program name, not " + Quoted(name);
  }
  if (number.empty()) return prefix + "the number of workers is missing";
  long long value = 0;
  for (const char c : number) {
    if (c < '0' || c > '9') {
      return prefix + "N must be a non-negative integer";
    }
    value = value * 10 + (c - '0');
    if (value > std::numeric_limits<int>::max()) {
      return prefix + "N is too large";
    }
  }
  return std::pair{std::string(name), static_cast<int>(value)};
}

}  // namespace

std::variant<proto::Request, std::string> BuildRequest(
    const Invocation& invocation) {
  const std::string& command = invocation.command;
  proto::Request request;
  request.command = command;

  if (invocation.no_wait && !TakesWait(command)) {
    return "--no-wait applies only to start, stop, restart and scale";
  }
  if (invocation.at_once) {
    if (command != "restart") return "--all applies only to restart";
    request.args["at_once"] = true;
  }
  if (IsTargetCommand(command)) {
    Json targets = Json::array();
    for (const std::string& operand : invocation.operands) {
      auto parsed = proto::ParseTarget(operand);
      if (auto* why = std::get_if<std::string>(&parsed)) return *why;
      targets.push_back(proto::FormatTarget(std::get<proto::Target>(parsed)));
    }
    if (!targets.empty()) request.args["targets"] = std::move(targets);
  } else if (command == "scale") {
    if (invocation.operands.empty()) {
      return "scale needs at least one NAME=N, e.g. workerctl scale web=4";
    }
    Json workers = Json::object();
    for (const std::string& operand : invocation.operands) {
      auto parsed = ParseScale(operand);
      if (auto* why = std::get_if<std::string>(&parsed)) return *why;
      auto& [name, count] = std::get<std::pair<std::string, int>>(parsed);
      if (workers.contains(name)) {
        return "program " + Quoted(name) + " is given twice to scale";
      }
      workers[name] = count;
    }
    request.args["workers"] = std::move(workers);
  } else if (command == "shutdown" || command == "version") {
    if (!invocation.operands.empty()) {
      return command + " takes no arguments, but got " +
             Quoted(invocation.operands.front());
    }
  } else {
    return "unknown command " + Quoted(command);
  }
  if (invocation.no_wait) request.args["wait"] = false;
  return request;
}

std::string ResolveSocketPath(const std::optional<std::string>& flag,
                              const char* env_socket) {
  if (flag) return *flag;
  if (env_socket != nullptr && env_socket[0] != '\0') return env_socket;
  return proto::DefaultControlSocketPath();
}

}  // namespace workerd::ctl
