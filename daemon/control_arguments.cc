#include "daemon/control_arguments.h"

#include <fmt/format.h>

#include "daemon/suggest.h"
#include "proto/target.h"

namespace workerd {

using proto::Json;
namespace error_code = proto::error_code;

std::variant<bool, proto::Error> BoolArgument(const Json& args,
                                              const char* name, bool absent) {
  // Null counts as absent (PROTOCOL.md).
  if (!args.contains(name) || args[name].is_null()) return absent;
  if (!args[name].is_boolean()) {
    return proto::Error{error_code::kInvalidArgument,
                        fmt::format("\"{}\" must be true or false", name)};
  }
  return args[name].get<bool>();
}

std::variant<bool, proto::Error> WaitArgument(const Json& args) {
  return BoolArgument(args, "wait", true);
}

proto::Error UnknownProgramError(const Supervisor& supervisor,
                                 const std::string& name) {
  std::vector<std::string> names;
  for (const auto& program : supervisor.programs()) {
    names.push_back(program->name());
  }
  std::string message = fmt::format("no program named \"{}\"", name);
  if (auto guess = Suggest(name, names)) {
    message += fmt::format(" (did you mean \"{}\"?)", *guess);
  }
  return {error_code::kUnknownTarget, message};
}

std::variant<std::vector<ResolvedTarget>, proto::Error> ResolveTargets(
    const Supervisor& supervisor, const Json& args) {
  std::vector<ResolvedTarget> resolved;
  if (!args.contains("targets") || args["targets"].empty()) {
    for (const auto& program : supervisor.programs()) {
      resolved.push_back({program.get(), std::nullopt});
    }
    return resolved;
  }
  const Json& targets = args["targets"];
  if (!targets.is_array()) {
    return proto::Error{error_code::kInvalidArgument,
                        "\"targets\" must be a list of strings"};
  }
  for (const Json& item : targets) {
    if (!item.is_string()) {
      return proto::Error{error_code::kInvalidArgument,
                          "\"targets\" must be a list of strings"};
    }
    auto parsed = proto::ParseTarget(item.get<std::string>());
    if (auto* error = std::get_if<std::string>(&parsed)) {
      return proto::Error{error_code::kInvalidArgument, *error};
    }
    auto& target = std::get<proto::Target>(parsed);
    Program* program = supervisor.FindProgram(target.program);
    if (program == nullptr) {
      return UnknownProgramError(supervisor, target.program);
    }
    if (target.instance && *target.instance >= program->wanted()) {
      return proto::Error{
          error_code::kUnknownTarget,
          fmt::format("{} has {} workers, numbered from 0: there is no {}",
                      program->name(), program->wanted(),
                      proto::FormatTarget(target))};
    }
    resolved.push_back({program, target.instance});
  }
  return resolved;
}

std::optional<proto::Error> BusyError(const Program& program) {
  const Rollout* rollout = program.rollout();
  if (rollout == nullptr) return std::nullopt;
  return proto::Error{
      error_code::kBusy,
      fmt::format("{} is in the middle of a rolling restart ({} of {} "
                  "workers replaced); wait for it to finish, or stop {}",
                  program.name(), rollout->done(), rollout->total(),
                  program.name())};
}

}  // namespace workerd
