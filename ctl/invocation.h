// What the user asked workerctl to do, as parsed from the command line, and
// its translation into a protocol request. Checked here, before connecting,
// so that a typo is reported as a usage error and nothing is sent.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proto/message.h"

namespace workerd::ctl {

struct Invocation {
  // status, start, stop, restart, scale, shutdown or version.
  std::string command;
  // TARGETs for status/start/stop/restart, NAME=N for scale.
  std::vector<std::string> operands;
  std::optional<std::string> socket;  // -s/--socket
  bool json = false;                  // --json
  bool no_wait = false;               // --no-wait
  bool at_once = false;               // restart --all
};

// The request for `invocation`, or a usage error naming the bad argument,
// e.g. `invalid scale argument "web=x": N must be a non-negative integer`.
// Targets are sent normalized ("web:02" as "web:2"); `wait` only when
// --no-wait is given (the daemon's default is to wait).
std::variant<proto::Request, std::string> BuildRequest(
    const Invocation& invocation);

// The control socket to use: --socket, else a non-empty WORKERD_SOCKET
// (`env_socket`, nullptr when unset), else proto's default.
std::string ResolveSocketPath(const std::optional<std::string>& flag,
                              const char* env_socket);

}  // namespace workerd::ctl
