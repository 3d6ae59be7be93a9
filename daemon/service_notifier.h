// What workerd tells the service manager that started it (systemd with
// Type=notify, through the NOTIFY_SOCKET of workerd's own environment):
// READY=1, STATUS=, RELOADING=1, STOPPING=1, as sd_notify(3) describes.
// WATCHDOG=1 is not sent from here: the event loop sends it itself
// (sd_event_set_watchdog), so that a stuck loop stops feeding it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/program.h"

namespace workerd {

// The one-line STATUS= summary of the programs, in their order:
// "web 4/4 ready, jobs 2/2 running". Per program: workers counted up /
// wanted, then "ready" (`ready = "notify"`), "running" (`ready = "exec"`)
// or "done" (a oneshot); the other states of its slots in parentheses
// ("web 3/4 ready (1 fatal)"), and "rolling" during a rollout. A program
// that is not started reads "jobs stopped". Longer than `max_length`, it
// ends with "+N more" instead of the programs that do not fit.
std::string StatusSummary(const std::vector<std::unique_ptr<Program>>& programs,
                          std::size_t max_length = 400);

// Each autostart program's start has had its first outcome: every slot is
// ready (completed, for a oneshot), or failed and backing off, fatal, or
// blocked by a failed dependency. What READY=1 waits for at start: systemd
// should not wait on a crash loop, which STATUS= shows instead.
bool StartSettled(const std::vector<std::unique_ptr<Program>>& programs);

class ServiceNotifier {
 public:
  // Delivers one sd_notify(3) datagram's text, "KEY=VALUE\n...".
  using Send = std::function<void(const std::string& message)>;

  // Null when workerd's environment has no NOTIFY_SOCKET: nobody listens.
  static std::unique_ptr<ServiceNotifier> FromEnvironment();
  explicit ServiceNotifier(Send send) : send_(std::move(send)) {}

  // READY=1 with the current status: started, or a reload is done.
  void Ready(std::string_view status);
  // RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC now), as systemd
  // wants it to tell this reload from an earlier one.
  void Reloading(std::string_view status);
  void Stopping(std::string_view status);
  // STATUS= alone, and only when it differs from the last one sent.
  void Status(std::string_view status);

 private:
  void Deliver(std::string message, std::string_view status);

  Send send_;
  std::string last_status_;
};

}  // namespace workerd
