// The exit statuses of workerd and workerctl, as documented in workerd(8)
// and workerctl(1). Scripts depend on them: never renumber.
#pragma once

namespace workerd::proto {

// workerd
// Ran and stopped on request (SIGTERM, SIGINT or the `shutdown` command),
// or `--check` found the configuration valid.
inline constexpr int kDaemonOk = 0;
// Could not run: e.g. the control socket is in use by another workerd, or a
// listening socket could not be bound.
inline constexpr int kDaemonFailure = 1;
// The command line is wrong.
inline constexpr int kDaemonUsage = 2;
// workers.toml cannot be read or is invalid (also from `--check`).
inline constexpr int kDaemonConfigInvalid = 3;

// workerctl
// The daemon did what was asked.
inline constexpr int kCtlOk = 0;
// The daemon answered with an error: the command failed (`failed`), or it
// refused it (unknown target, invalid argument, shutting down, ...).
inline constexpr int kCtlFailed = 1;
// The command line is wrong; nothing was sent.
inline constexpr int kCtlUsage = 2;
// workerd is not running: there is no socket, or nothing listens on it.
inline constexpr int kCtlNotRunning = 3;
// The socket or the daemon refused us: not root, not the daemon's user and
// not a member of its control_group.
inline constexpr int kCtlPermissionDenied = 4;
// The conversation broke: the connection was lost before the answer, or the
// answer was not a valid response.
inline constexpr int kCtlProtocolError = 5;

}  // namespace workerd::proto
