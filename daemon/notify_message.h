// The sd_notify(3) datagrams a worker sends to NOTIFY_SOCKET, as values.
// Pure parsing: who sent a message is decided by NotifyServer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace workerd {

struct NotifyMessage {
  bool ready = false;                 // READY=1
  bool stopping = false;              // STOPPING=1
  bool reloading = false;             // RELOADING=1
  bool watchdog = false;              // WATCHDOG=1
  bool watchdog_trigger = false;      // WATCHDOG=trigger: fail now
  std::optional<std::string> status;  // STATUS=..., may be empty
  std::optional<int> error_number;    // ERRNO=..., as sent

  bool operator==(const NotifyMessage&) const = default;
  // True when the message carries nothing workerd acts on.
  bool Empty() const;
};

// Newline-separated KEY=VALUE assignments; later assignments win. Unknown
// keys (MAINPID=, FDSTORE=, EXTEND_TIMEOUT_USEC=, ...) and malformed lines
// are ignored, as systemd ignores them; so are READY=, STOPPING=,
// RELOADING= and WATCHDOG= with any other value than "1" (or "trigger"),
// and an ERRNO= that is not a non-negative decimal int.
// A STATUS is made one printable line of valid UTF-8: control characters
// (C0, DEL, C1, U+2028, U+2029) become spaces, ill-formed UTF-8 bytes
// become U+FFFD, and the result is cut to kMaxNotifyStatus bytes at a
// character boundary.
NotifyMessage ParseNotifyMessage(std::string_view datagram);

inline constexpr std::size_t kMaxNotifyStatus = 200;

}  // namespace workerd
