// What one worker is started with: its argv, environment and directory,
// derived from the program's spec and the slot's instance number.
#pragma once

#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/spawner.h"

namespace workerd {

// workerd's own environment less the variables that describe workerd's
// own supervision (NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*, ...): a worker that
// inherited them would answer systemd in workerd's name.
std::vector<std::string> InheritableEnvironment(const char* const* environ);

// The inherited variables, then the program's `env` (which wins), then
// WORKERD_PROGRAM and WORKERD_INSTANCE; placeholders expanded.
SpawnRequest MakeSpawnRequest(const ProgramSpec& spec, int instance,
                              const std::vector<std::string>& inherited);

}  // namespace workerd
