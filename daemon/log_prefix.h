// The start of each line of captured output in a log file or on workerd's
// own stdout and stderr: "TIME web:2 stdout: " (README, "Output"). In
// development mode, on a terminal, the part that names the program is
// coloured, one colour per program, as foreman and honcho do.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/output_stream.h"

namespace workerd {

// `time` is left out when empty (log_timestamps = false). `colour` is an
// SGR escape sequence from ProgramColour, or empty for none; it covers
// "web:2 stdout" and is reset before ": ", so the rest of the line is
// untouched. The second-to-last byte is always the ':' after the stream,
// which a record cut short replaces by '+'.
std::string LogPrefix(std::string_view time, std::string_view program,
                      int instance, OutputStream stream,
                      std::string_view colour);

// The colour of the n-th program (in the order they first appeared): a
// small palette without red, which reads as an error, used in turn.
std::string_view ProgramColour(std::size_t n);

}  // namespace workerd
