// What the user asked workerctl to do, as parsed from the command line, and
// its translation into a protocol request. Checked here, before connecting,
// so that a typo is reported as a usage error and nothing is sent.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proto/message.h"

namespace workerd::ctl {

struct Invocation {
  // status, start, stop, restart, scale, reload, logs, shutdown or version.
  std::string command;
  // TARGETs for status/start/stop/restart/logs, NAME=N for scale.
  std::vector<std::string> operands;
  std::optional<std::string> socket;  // -s/--socket
  bool json = false;                  // --json
  bool no_wait = false;               // --no-wait
  bool at_once = false;               // restart --all
  bool with_dependents = false;       // stop --with-dependents
  bool dry_run = false;               // reload --dry-run
  // logs -n/--lines as typed: checked by BuildRequest, like NAME=N, so that
  // the message says what -n takes. nullopt: every line workerd holds.
  std::optional<std::string> lines;
  bool follow = false;  // logs -f/--follow
  // logs --stdout and --stderr: one stream only. Two flags rather than one
  // value so that giving both can be refused.
  bool stdout_only = false;
  bool stderr_only = false;
  bool reopen = false;  // logs --reopen: the `reopen_logs` command
};

// The request for `invocation`, or a usage error naming the bad argument,
// e.g. `invalid scale argument "web=x": N must be a non-negative integer`.
// Targets are sent normalized ("web:02" as "web:2"); `wait` only when
// --no-wait is given (the daemon's default is to wait). `logs` sends its
// one target and only the options given (`lines`, `follow`, `stream`);
// `logs --reopen` is the command `reopen_logs`, without arguments.
// `reload` sends `dry_run` only when --dry-run is given.
std::variant<proto::Request, std::string> BuildRequest(
    const Invocation& invocation);

// The control socket to use: --socket, else a non-empty WORKERD_SOCKET
// (`env_socket`, nullptr when unset), else proto's default; and when that
// (a user's own workerd) does not exist but the system daemon's does, the
// system daemon's, so that members of its control_group need no flag.
std::string ResolveSocketPath(const std::optional<std::string>& flag,
                              const char* env_socket);
// The rule itself, for a given default and a given test of existence.
std::string ChooseSocketPath(
    const std::optional<std::string>& flag, const char* env_socket,
    const std::string& own_default,
    const std::function<bool(const std::string&)>& exists);

}  // namespace workerd::ctl
