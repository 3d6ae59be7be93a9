// Carrying out one workerctl invocation: connect, send, wait for the final
// answer, print it, and choose the exit status (proto/exit_codes.h).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "ctl/invocation.h"

namespace workerd::ctl {

// Replaces workerctl by the program `argv` (argv[0] looked up in PATH).
// Returns only when that could not be done.
using Exec = std::function<void(const std::vector<std::string>& argv)>;

// The real Exec: execvp, after flushing C's stdio.
void ExecInPlace(const std::vector<std::string>& argv);

// Runs `invocation` against the daemon at `socket_path`, printing results to
// `out` and errors to `err` ("workerctl: ..."). With `invocation.json`, what
// follows a successful parse of the command line is JSON on `out`: the
// result, or {"error": {"code", "message"}, "result"?} when there is none
// or the command failed. Interim progress responses are not shown.
//
// A `reload` refused with `config_invalid` prints each error on `err` as
// workerd wrote it ("workers.toml:3:11: ..."), without the "workerctl: "
// prefix, then that workerd keeps its configuration.
//
// `logs` prints each batch of lines as it arrives, flushing `out` after it,
// and with --json each line as one compact JSON object on a line of its
// own; its errors and its other answers are then compact JSON too, so that
// every line of `out` is an object. When the program logs to the journal,
// `logs` flushes `out` and hands over to journalctl through `exec` (with
// --json it prints the answer instead). Returns the exit status.
int Run(const Invocation& invocation, const std::string& socket_path,
        std::ostream& out, std::ostream& err, const Exec& exec = ExecInPlace);

}  // namespace workerd::ctl
