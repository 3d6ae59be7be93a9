#include "daemon/exit_status.h"

#include <fmt/format.h>

#include <utility>

#include "daemon/signals.h"

namespace workerd {

ExitStatus ExitStatus::FromSiginfo(const siginfo_t& info) {
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.kind = Kind::kExited;
    status.code = info.si_status;
  } else {
    status.kind = Kind::kKilled;
    status.signal = info.si_status;
    status.core_dumped = info.si_code == CLD_DUMPED;
  }
  return status;
}

ExitStatus ExitStatus::SpawnFailed(std::string error) {
  ExitStatus status;
  status.kind = Kind::kSpawnFailed;
  status.spawn_error = std::move(error);
  return status;
}

std::string ExitStatus::Describe() const {
  switch (kind) {
    case Kind::kExited:
      return code == 0 ? "exited successfully"
                       : fmt::format("exited with status {}", code);
    case Kind::kKilled:
      return fmt::format("killed by {}{}{}", SignalName(signal),
                         core_dumped ? " (core dumped)" : "",
                         cause.empty() ? "" : " because it " + cause);
    case Kind::kSpawnFailed:
      return spawn_error;
  }
  return "ended";
}

}  // namespace workerd
