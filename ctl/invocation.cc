#include "ctl/invocation.h"

#include <sys/stat.h>

#include <limits>
#include <optional>
#include <string_view>
#include <utility>

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
         command == "scale" || command == "reload";
}

std::string Quoted(std::string_view text) {
  std::string quoted = "\"";
  quoted += text;
  quoted += '"';
  return quoted;
}

// A count of workers or lines: "8" -> 8. Otherwise what is wrong with it,
// to follow the name of the count: "must be a non-negative integer".
std::variant<int, std::string> ParseCount(std::string_view number) {
  const std::string not_a_count = "must be a non-negative integer";
  if (number.empty()) return not_a_count;
  long long value = 0;
  for (const char c : number) {
    if (c < '0' || c > '9') return not_a_count;
    value = value * 10 + (c - '0');
    if (value > std::numeric_limits<int>::max()) {
      return std::string("is too large");
    }
  }
  return static_cast<int>(value);
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
  auto count = ParseCount(number);
  if (auto* why = std::get_if<std::string>(&count)) return prefix + "N " + *why;
  return std::pair{std::string(name), std::get<int>(count)};
}

bool HasLogsOptions(const Invocation& invocation) {
  return invocation.lines || invocation.follow || invocation.stdout_only ||
         invocation.stderr_only || invocation.reopen;
}

// `logs --reopen`: the command `reopen_logs`, which takes nothing else.
std::optional<std::string> BuildReopen(const Invocation& invocation,
                                       proto::Request& request) {
  if (!invocation.operands.empty()) {
    return "logs --reopen reopens every log file and takes no TARGET, but "
           "got " +
           Quoted(invocation.operands.front());
  }
  if (invocation.lines || invocation.follow || invocation.stdout_only ||
      invocation.stderr_only) {
    return "--reopen cannot be combined with -n, -f, --stdout or --stderr";
  }
  request.command = "reopen_logs";
  return std::nullopt;
}

// `logs TARGET [-n N] [-f] [--stdout | --stderr]`. Only what is given is
// sent: the daemon's defaults are every line held, no follow, both streams.
std::optional<std::string> BuildLogs(const Invocation& invocation,
                                     proto::Request& request) {
  if (invocation.reopen) return BuildReopen(invocation, request);
  const std::vector<std::string>& operands = invocation.operands;
  if (operands.size() != 1) {
    std::string why = "logs takes one TARGET, like web or web:2";
    if (!operands.empty())
      why += ", but got " + std::to_string(operands.size());
    return why;
  }
  auto target = proto::ParseTarget(operands.front());
  if (auto* why = std::get_if<std::string>(&target)) return *why;
  request.args["targets"] =
      Json::array({proto::FormatTarget(std::get<proto::Target>(target))});
  if (invocation.stdout_only && invocation.stderr_only) {
    return "--stdout and --stderr exclude each other; without either, logs "
           "shows both streams";
  }
  if (invocation.lines) {
    auto lines = ParseCount(*invocation.lines);
    if (auto* why = std::get_if<std::string>(&lines)) {
      return "-n " + *why + ", but got " + Quoted(*invocation.lines);
    }
    request.args["lines"] = std::get<int>(lines);
  }
  if (invocation.follow) request.args["follow"] = true;
  if (invocation.stdout_only) request.args["stream"] = "stdout";
  if (invocation.stderr_only) request.args["stream"] = "stderr";
  return std::nullopt;
}

}  // namespace

std::variant<proto::Request, std::string> BuildRequest(
    const Invocation& invocation) {
  const std::string& command = invocation.command;
  proto::Request request;
  request.command = command;

  if (invocation.no_wait && !TakesWait(command)) {
    return "--no-wait applies only to start, stop, restart, scale and "
           "reload";
  }
  if (invocation.dry_run) {
    if (command != "reload") return "--dry-run applies only to reload";
    request.args["dry_run"] = true;
  }
  if (invocation.at_once) {
    if (command != "restart") return "--all applies only to restart";
    request.args["at_once"] = true;
  }
  if (invocation.with_dependents) {
    if (command != "stop") return "--with-dependents applies only to stop";
    for (const std::string& operand : invocation.operands) {
      auto parsed = proto::ParseTarget(operand);
      const auto* target = std::get_if<proto::Target>(&parsed);
      if (target == nullptr || !target->instance) continue;
      return "--with-dependents stops whole programs; name " + target->program +
             ", not " + proto::FormatTarget(*target);
    }
    request.args["with_dependents"] = true;
  }
  if (command != "logs" && HasLogsOptions(invocation)) {
    return "-n, -f, --stdout, --stderr and --reopen apply only to logs";
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
  } else if (command == "logs") {
    if (auto why = BuildLogs(invocation, request)) return std::move(*why);
  } else if (command == "shutdown" || command == "version" ||
             command == "reload") {
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

std::string ChooseSocketPath(
    const std::optional<std::string>& flag, const char* env_socket,
    const std::string& own_default,
    const std::function<bool(const std::string&)>& exists) {
  if (flag) return *flag;
  if (env_socket != nullptr && env_socket[0] != '\0') return env_socket;
  if (own_default != proto::kSystemControlSocket && !exists(own_default) &&
      exists(proto::kSystemControlSocket)) {
    return proto::kSystemControlSocket;
  }
  return own_default;
}

std::string ResolveSocketPath(const std::optional<std::string>& flag,
                              const char* env_socket) {
  return ChooseSocketPath(flag, env_socket, proto::DefaultControlSocketPath(),
                          [](const std::string& path) {
                            struct stat info;
                            return ::stat(path.c_str(), &info) == 0;
                          });
}

}  // namespace workerd::ctl
