#include "daemon/journal_stream.h"

#include <syslog.h>

#include <fmt/format.h>

namespace workerd {

JournalStreams JournalStreamsFor(std::string_view program) {
  // identifier, unit id (none), priority, level prefix on, and no
  // forwarding to syslog, kmsg or the console: journald's own settings
  // decide that.
  const std::string header =
      fmt::format("{}\n\n{}\n1\n0\n0\n0\n", program, LOG_INFO);
  JournalStreams streams;
  streams.stdout_header = header;
  streams.stderr_header = header;
  return streams;
}

}  // namespace workerd
