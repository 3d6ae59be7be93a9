// workerd's own log: to the journal when systemd started us with one, to
// stderr otherwise. Plain, except in development mode on a terminal
// (UseColourLogs), where the level is coloured.
#pragma once

#include "daemon/config.h"

namespace workerd {

void SetUpLogging();
void SetLogLevel(LogLevel level);

// Whether output written to `fd` may be coloured: it is a terminal, and
// the environment has neither NO_COLOR (set and not empty; no-color.org)
// nor TERM=dumb. The caller asks only in development mode.
bool ColourWanted(int fd, const char* const* environ);
// Colours the level of workerd's own lines on stderr, or stops; nothing
// changes for the journal.
void UseColourLogs(bool colour);

}  // namespace workerd
