// What one worker is started with: its argv, environment and directory,
// derived from the program's spec and the slot's instance number.
#pragma once

#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/listeners.h"
#include "daemon/spawner.h"

namespace workerd {

// workerd's own environment less the variables that describe workerd's
// own supervision (NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*, ...): a worker that
// inherited them would answer systemd in workerd's name.
std::vector<std::string> InheritableEnvironment(const char* const* environ);

// The inherited variables (less JOURNAL_STREAM unless the worker writes to
// workerd's own stdout and stderr), then the program's `env` (which wins), then
// WORKERD_PROGRAM, WORKERD_INSTANCE, NOTIFY_SOCKET (when not empty) and
// WATCHDOG_USEC (when the program has a watchdog); placeholders expanded,
// `{fd:NAME}` included. The sockets go to fd 3.. (the spawner adds
// LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES). The parent-death signal is
// the program's stop_signal.
SpawnRequest MakeSpawnRequest(const ProgramSpec& spec, int instance,
                              const std::vector<std::string>& inherited,
                              const std::string& notify_socket = {},
                              const WorkerSockets& sockets = {});

}  // namespace workerd
