#include "daemon/service_notifier.h"

#include <systemd/sd-daemon.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <map>

namespace workerd {

namespace {

std::string_view SuccessWord(const ProgramSpec& spec) {
  if (spec.type == ProgramType::kOneshot) return "done";
  return spec.ready == Readiness::kNotify ? "ready" : "running";
}

// Slots past `wanted` are being retired by a scale down: not counted.
template <typename Visit>
void ForEachWantedSlot(const Program& program, Visit visit) {
  const auto& workers = program.workers();
  for (std::size_t i = 0;
       i < workers.size() && i < static_cast<std::size_t>(program.wanted());
       ++i) {
    visit(*workers[i]);
  }
}

std::string ProgramSummary(const Program& program) {
  if (!program.active()) return program.name() + " stopped";
  int up = 0;
  // Ordered by state, so that the text only changes when the counts do.
  std::map<WorkerState, int> others;
  ForEachWantedSlot(program, [&](const Worker& worker) {
    if (worker.Succeeded()) {
      ++up;
    } else {
      ++others[worker.state()];
    }
  });
  std::string text = fmt::format("{} {}/{} {}", program.name(), up,
                                 program.wanted(),
                                 SuccessWord(program.spec()));
  std::string details;
  for (const auto& [state, count] : others) {
    details += fmt::format("{}{} {}", details.empty() ? "" : ", ", count,
                           WorkerStateName(state));
  }
  if (program.rollout() != nullptr) {
    details += details.empty() ? "rolling" : ", rolling";
  }
  if (!details.empty()) text += " (" + details + ")";
  return text;
}

}  // namespace

std::string StatusSummary(const std::vector<std::unique_ptr<Program>>& programs,
                          std::size_t max_length) {
  if (programs.empty()) return "no programs";
  auto more = [](std::size_t count) {
    return count == 0 ? std::string() : fmt::format(", +{} more", count);
  };
  // The first program always shows; each next one only if it and the
  // "+N more" for those after it still fit.
  std::string summary = ProgramSummary(*programs.front());
  for (std::size_t i = 1; i < programs.size(); ++i) {
    const std::string part = ", " + ProgramSummary(*programs[i]);
    if (summary.size() + part.size() + more(programs.size() - i - 1).size() >
        max_length) {
      return summary + more(programs.size() - i);
    }
    summary += part;
  }
  return summary;
}

bool StartSettled(const std::vector<std::unique_ptr<Program>>& programs) {
  for (const auto& program : programs) {
    if (!program->spec().autostart || !program->active()) continue;
    if (static_cast<int>(program->workers().size()) < program->wanted()) {
      return false;
    }
    bool settled = true;
    ForEachWantedSlot(*program, [&](const Worker& worker) {
      if (!worker.Settled() && worker.state() != WorkerState::kBackoff) {
        settled = false;
      }
    });
    if (!settled) return false;
  }
  return true;
}

std::unique_ptr<ServiceNotifier> ServiceNotifier::FromEnvironment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || socket[0] == '\0') return nullptr;
  return std::make_unique<ServiceNotifier>([](const std::string& message) {
    // Keeps NOTIFY_SOCKET set (0): the loop's watchdog pings read it too.
    // A failure here is systemd's to notice (a start timeout), not ours.
    (void)sd_notify(0, message.c_str());
  });
}

void ServiceNotifier::Ready(std::string_view status) {
  Deliver("READY=1\n", status);
}

void ServiceNotifier::Reloading(std::string_view status) {
  // steady_clock is CLOCK_MONOTONIC on Linux, the clock systemd reads.
  const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
  Deliver(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\n", usec), status);
}

void ServiceNotifier::Stopping(std::string_view status) {
  Deliver("STOPPING=1\n", status);
}

void ServiceNotifier::Status(std::string_view status) {
  if (status == last_status_) return;
  Deliver("", status);
}

void ServiceNotifier::Deliver(std::string message, std::string_view status) {
  // One line: a newline would end the STATUS= assignment early.
  std::string line(status);
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  message += "STATUS=" + line;
  last_status_ = std::move(line);
  send_(message);
}

}  // namespace workerd
