// How workerctl shows the daemon's answers to a person. Pure functions from
// a result (PROTOCOL.md's JSON) to text; missing or mistyped fields show as
// "-" instead of failing, because a newer daemon may send shapes we do not
// know and the raw answer is always one `--json` away.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "proto/message.h"

namespace workerd::ctl {

// A duration for a column: "0s", "45s", "3m05s", "2h05m", "3d4h". Rounded
// down; negative durations show as "0s".
std::string FormatDuration(std::int64_t ms);

// The `status` result as a table, one row per worker, columns aligned:
//
//   NAME    PID    STATE    UPTIME  RESTARTS  LAST EXIT
//   web:0   41230  ready    1h02m   0         -
//   jobs:0  -      fatal    -       5         exited with status 1
//   api     (no workers)
//
// A MESSAGE column is added when any worker has a message. With no
// programs at all: "no programs configured".
std::string RenderStatus(const proto::Json& result);

// The result of start, stop and restart ({"workers": [...]}): one line per
// worker, "web:2  ready  pid 4123"; a worker without a process shows its
// message and how its last process ended instead of a pid.
std::string RenderWorkers(const proto::Json& result);

// One interim response of a rolling restart ({"progress": {...}}) as a
// line: "[1/4] web:1: pid 4312 is ready; stopping pid 4107".
std::string RenderProgress(const proto::Json& result);

// The final result of a rolling restart: the workers as RenderWorkers
// shows them, then "web: 4 of 4 workers replaced" per program; without
// `workers` (restart --no-wait), "web: rolling restart started".
std::string RenderRestart(const proto::Json& result);

// The result of scale: "web  4 -> 8" per program.
std::string RenderScale(const proto::Json& result);

// The result of shutdown: "stopped 3 workers; workerd is exiting".
std::string RenderShutdown(const proto::Json& result);

// workerctl's own version and, when known, the daemon's `version` result:
//
//   workerctl 0.1.0 (protocol 1)
//   workerd   0.1.0 (protocol 1)
std::string RenderVersion(const std::optional<proto::Json>& daemon_result);

// The JSON `workerctl version --json` prints: {"workerctl": {"version",
// "protocol"}, "workerd": the daemon's result or null}.
proto::Json VersionJson(const std::optional<proto::Json>& daemon_result);

}  // namespace workerd::ctl
