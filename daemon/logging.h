// workerd's own log: to the journal when systemd started us with one, to
// stderr otherwise.
#pragma once

#include "daemon/config.h"

namespace workerd {

void SetUpLogging();
void SetLogLevel(LogLevel level);

}  // namespace workerd
