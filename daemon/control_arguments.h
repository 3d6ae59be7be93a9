// Reading and checking the arguments of control requests (PROTOCOL.md):
// every argument is checked before anything changes, and a bad one is an
// error naming it.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "daemon/program.h"
#include "daemon/supervisor.h"
#include "proto/message.h"

namespace workerd {

// An optional boolean argument: `absent` when missing or null, an
// invalid_argument error when not a boolean.
std::variant<bool, proto::Error> BoolArgument(const proto::Json& args,
                                              const char* name, bool absent);

// `wait`, true unless said otherwise.
std::variant<bool, proto::Error> WaitArgument(const proto::Json& args);

// `no program named "wbe" (did you mean "web"?)`, as unknown_target.
proto::Error UnknownProgramError(const Supervisor& supervisor,
                                 const std::string& name);

// A program, or one instance of it.
struct ResolvedTarget {
  Program* program;
  std::optional<int> instance;
};

// `targets`: every program when missing or empty; unknown programs and
// instances are errors.
std::variant<std::vector<ResolvedTarget>, proto::Error> ResolveTargets(
    const Supervisor& supervisor, const proto::Json& args);

// A program in the middle of a rolling restart takes no other restart:
// the `busy` error saying so, or nullopt.
std::optional<proto::Error> BusyError(const Program& program);

}  // namespace workerd
