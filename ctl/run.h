// Carrying out one workerctl invocation: connect, send, wait for the final
// answer, print it, and choose the exit status (proto/exit_codes.h).
#pragma once

#include <iosfwd>
#include <string>

#include "ctl/invocation.h"

namespace workerd::ctl {

// Runs `invocation` against the daemon at `socket_path`, printing results to
// `out` and errors to `err` ("workerctl: ..."). With `invocation.json`, what
// follows a successful parse of the command line is JSON on `out`: the
// result, or {"error": {"code", "message"}, "result"?} when there is none
// or the command failed. Interim progress responses are not shown.
// Returns the exit status.
int Run(const Invocation& invocation, const std::string& socket_path,
        std::ostream& out, std::ostream& err);

}  // namespace workerd::ctl
