// How workerctl shows the daemon's answers to a person. Pure functions from
// a result (PROTOCOL.md's JSON) to text; missing or mistyped fields show as
// "-" instead of failing, because a newer daemon may send shapes we do not
// know and the raw answer is always one `--json` away.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// The result of reload: one line per program, in the order of the result
// (the new file's, then the removed programs), then one per socket that
// is not unchanged:
//
//   web: rolled (command, env); scaled 4 -> 8
//   jobs: scaled 2 -> 4
//   api: started
//   cron: added (autostart = false)
//   old: stopped
//   db: unchanged
//   socket http: changed (listen)
//
// A program that did not reach its aim ("ok": false) ends its line with
// "; failed: " and its message. A dry run ("dry_run": true) starts with
// "dry run: nothing was changed" and says what a reload would do: "web:
// would roll (command); would scale 4 -> 8", "old: would stop", "socket
// admin: would add". An action this workerctl does not know is shown as
// the daemon names it.
std::string RenderReload(const proto::Json& result);

// The result of shutdown: "stopped 3 workers; workerd is exiting".
std::string RenderShutdown(const proto::Json& result);

// A batch of `logs` lines ({"lines": [LINE, ...]}), each as workerd writes
// it to a log file:
//
//   2026-11-23T10:15:02.123+01:00 web:2 stdout: hello
//   2026-11-23T10:15:02.124+01:00 web:2 stderr+ the first 16 KiB of a long...
//
// `stream+` instead of `stream:` marks a record cut because the line was
// too long; the next record of the stream continues it. The text is left
// as the worker wrote it, so that what greps a log file greps this too.
std::string RenderLogLines(const proto::Json& result);

// The same batch for --json: each LINE as compact JSON on a line of its
// own (JSON lines), so that jq or a script can read it as it comes.
std::string LogLinesJson(const proto::Json& result);

// The result of reopen_logs: "reopened /var/log/workerd/web.log" per file.
// When none was and `ok`: "no log files to reopen"; when none was and the
// command failed, nothing (the error says why).
std::string RenderReopened(const proto::Json& result, bool ok);

// The journalctl command line that shows what `logs` asked for, from the
// daemon's answer for a program with log = "journal" ({"log": "journal",
// "identifier", "pid"?}) and the request's arguments:
//
//   journalctl -t web [_PID=1234] [-n N] [-f]
//
// Without -n, journalctl's own default applies: everything (paged), or
// with -f the last 10 lines. The identifier falls back to the target's
// program when the answer has none.
std::vector<std::string> JournalctlCommand(const proto::Json& result,
                                           const proto::Json& request_args);

// `argv` as a command a person can paste into a shell: a word with a
// character a shell would interpret is single-quoted.
std::string ShellCommand(const std::vector<std::string>& argv);

// workerctl's own version and, when known, the daemon's `version` result:
//
//   workerctl 0.1.0 (protocol 1)
//   workerd   0.1.0 (protocol 1)
std::string RenderVersion(const std::optional<proto::Json>& daemon_result);

// The JSON `workerctl version --json` prints: {"workerctl": {"version",
// "protocol"}, "workerd": the daemon's result or null}.
proto::Json VersionJson(const std::optional<proto::Json>& daemon_result);

}  // namespace workerd::ctl
