// `log = "journal"`: a worker's stdout and stderr are stream connections to
// systemd-journald, as sd_journal_stream_fd(3) makes them, but opened by
// the worker's own process before it execs (daemon/spawner.h) so that the
// journal records the worker's pid, not workerd's. workerd copies nothing.
#pragma once

#include <string>
#include <string_view>

namespace workerd {

// journald's socket for stream connections.
inline constexpr const char* kJournalStreamSocket =
    "/run/systemd/journal/stdout";

struct JournalStreams {
  std::string socket_path = kJournalStreamSocket;
  // What is written first on each connection (journald's stream protocol:
  // identifier, unit, priority, level prefix, and three forwarding flags).
  std::string stdout_header;
  std::string stderr_header;

  bool operator==(const JournalStreams&) const = default;
};

// Entries get SYSLOG_IDENTIFIER=`program` (so `journalctl -t web` finds
// them) and priority info, unless a line starts with a "<N>" prefix of
// sd-daemon(3).
JournalStreams JournalStreamsFor(std::string_view program);

}  // namespace workerd
