#include "daemon/service_notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <fmt/format.h>

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
  std::string summary;
  for (std::size_t i = 0; i < programs.size(); ++i) {
    std::string part = ProgramSummary(*programs[i]);
    const std::size_t left = programs.size() - i - 1;
    const std::string more =
        left == 0 ? "" : fmt::format(", +{} more", left);
    const std::size_t needed =
        summary.size() + (summary.empty() ? 0 : 2) + part.size();
    if (!summary.empty() && needed + more.size() > max_length) {
      summary += fmt::format(", +{} more", programs.size() - i);
      break;
    }
    summary += (summary.empty() ? "" : ", ") + part;
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
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                    static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
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
