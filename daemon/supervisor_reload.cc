// Supervisor::Reload: a new workers.toml applied to the running daemon.
// Everything that can fail (reading the file, binding new sockets, opening
// new log files) happens before the first change; what follows cannot
// fail, so a reload is applied whole or not at all.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include "daemon/dependency_graph.h"
#include "daemon/logging.h"
#include "daemon/supervisor.h"

namespace workerd {

std::variant<ReloadPlan, ReloadError> Supervisor::Reload(
    bool dry_run, const RolloutObserverFactory& observe) {
  const bool tell_service = service_ != nullptr && !dry_run;
  if (tell_service) service_->Reloading("reloading " + config_.path);
  auto result = TryReload(dry_run, observe);
  if (tell_service) {
    const int reload = ++reloads_;
    if (auto* plan = std::get_if<ReloadPlan>(&result)) {
      WhenSettled(
          [this, plan = *plan] {
            return shutting_down_ || ReloadSettled(plan);
          },
          [this, reload] {
            // A later reload, or the shutdown, has the last word.
            if (shutting_down_ || reload != reloads_) return;
            service_->Ready(CurrentStatus());
          });
    } else {
      // Nothing changed: still running the configuration it had.
      service_->Ready(CurrentStatus());
    }
  }
  if (auto* error = std::get_if<ReloadError>(&result)) {
    for (const std::string& message : error->messages) {
      spdlog::error("reload: {}", message);
    }
    if (error->config_invalid) {
      spdlog::error("reload: {} is not valid; nothing was changed",
                    config_.path);
    }
  }
  return result;
}

std::variant<ReloadPlan, ReloadError> Supervisor::TryReload(
    bool dry_run, const RolloutObserverFactory& observe) {
  ConfigLoad load = LoadConfigFile(config_.path);
  if (!load.config) {
    ReloadError error{.config_invalid = true, .messages = {}};
    for (const ConfigError& problem : load.errors) {
      error.messages.push_back(problem.ToString());
    }
    return error;
  }
  Config next = std::move(*load.config);
  // Development mode stays as workerd started: it decided where output
  // goes and how it looks, so the programs' log default must not move.
  const bool dev_in_file = next.daemon.dev;
  next.daemon.dev = config_.daemon.dev;
  ApplyRunOptions(next, options_);
  ReloadPlan plan = PlanReload(config_, next);
  if (dev_in_file != config_.daemon.dev && !options_.dev) {
    plan.warnings.push_back(
        "[daemon] dev changed; it takes effect when workerd restarts");
  }
  if (dry_run) return plan;

  std::optional<LogRouter::Staged> staged_logs;
  if (logs_ != nullptr) {
    auto staged = logs_->Stage(next);
    if (auto* error = std::get_if<std::string>(&staged)) {
      return ReloadError{.config_invalid = false,
                         .messages = {*error + "; nothing was changed"}};
    }
    staged_logs.emplace(std::move(std::get<LogRouter::Staged>(staged)));
  }
  if (auto error = listeners_.Reload(next, plan.diff)) {
    return ReloadError{.config_invalid = false,
                       .messages = {*error + "; nothing was changed"}};
  }
  if (logs_ != nullptr) logs_->Commit(std::move(*staged_logs), next);
  ApplyReload(std::move(next), plan, observe);
  return plan;
}

void Supervisor::ApplyReload(Config next, ReloadPlan& plan,
                             const RolloutObserverFactory& observe) {
  spdlog::info("reloading {}", config_.path);
  // Ordered by the graph they were part of: dependents stop first.
  std::vector<Program*> removed;
  for (const ProgramReload& entry : plan.programs) {
    if (entry.action != ReloadAction::kStopped) continue;
    if (Program* program = FindProgram(entry.name)) removed.push_back(program);
  }
  std::optional<OrderedStop> removed_stop;
  if (!removed.empty()) removed_stop.emplace(dependencies_.StopInOrder(removed));

  SetLogLevel(next.daemon.log_level);
  config_ = std::move(next);
  std::vector<std::unique_ptr<Program>> ordered;
  for (const ProgramSpec& spec : config_.programs) {
    auto kept = std::find_if(programs_.begin(), programs_.end(),
                             [&](const std::unique_ptr<Program>& program) {
                               return program && program->name() == spec.name;
                             });
    if (kept == programs_.end()) {
      ordered.push_back(MakeProgram(spec));
      continue;
    }
    ordered.push_back(std::move(*kept));
    ordered.back()->Redefine(spec);
  }
  for (auto& program : programs_) {
    if (program) retired_programs_.push_back(std::move(program));
  }
  programs_ = std::move(ordered);
  if (removed_stop) {
    pending_stops_.push_back(
        {std::move(*removed_stop), [this] { ForgetRetiredPrograms(); }});
  }

  for (ProgramReload& entry : plan.programs) {
    Program* program = FindProgram(entry.name);
    if (program == nullptr) continue;  // removed
    switch (entry.action) {
      case ReloadAction::kStarted:
      case ReloadAction::kAdded:
      case ReloadAction::kStopped:
      case ReloadAction::kUnchanged:
        break;
      case ReloadAction::kScaled:
        program->Scale(entry.to);
        break;
      case ReloadAction::kUpdated:
        if (entry.from != entry.to) program->Scale(entry.to);
        // Asked to run from now on, and not running: as at workerd's start.
        if (program->spec().autostart && !program->active() &&
            std::find(entry.changes.begin(), entry.changes.end(),
                      "autostart") != entry.changes.end()) {
          entry.action = ReloadAction::kStarted;
        }
        break;
      case ReloadAction::kRolled:
      case ReloadAction::kRestarted: {
        // Every slot running now, `workerctl scale` included; fewer when
        // the file scales down, and new slots start with the new
        // definition anyway when it scales up.
        const int running_slots = program->wanted();
        if (entry.from != entry.to) program->Scale(entry.to);
        if (!program->active()) {
          entry.message = "not running; its next start uses the new definition";
          break;
        }
        program->CancelRollout(program->name() +
                               "'s rolling restart was replaced by a reload");
        if (entry.action == ReloadAction::kRestarted) {
          program->Restart();
          break;
        }
        std::vector<int> instances(
            static_cast<std::size_t>(std::min(running_slots, program->wanted())));
        std::iota(instances.begin(), instances.end(), 0);
        if (instances.empty()) break;
        program->Roll(std::move(instances),
                      observe ? observe(program->name()) : RolloutObserver{});
        break;
      }
    }
  }
  // New programs in dependency order, what they need first.
  for (std::size_t index : StartOrder(config_.programs)) {
    const ProgramReload* entry = nullptr;
    for (const ProgramReload& candidate : plan.programs) {
      if (candidate.name == config_.programs[index].name) entry = &candidate;
    }
    if (entry != nullptr && entry->action == ReloadAction::kStarted) {
      StartProgram(*programs_[index]);
    }
  }

  for (const ProgramReload& entry : plan.programs) {
    if (entry.action == ReloadAction::kUnchanged) continue;
    spdlog::info("reload: {}", DescribeProgramReload(entry));
  }
  for (const SocketDiff& socket : plan.diff.sockets) {
    if (socket.kind == SocketChangeKind::kUnchanged) continue;
    spdlog::info("reload: {}", DescribeSocketDiff(socket));
  }
  for (const std::string& warning : plan.warnings) {
    spdlog::warn("reload: {}", warning);
  }
  if (!plan.diff.HasChanges()) spdlog::info("reload: nothing changed");
  WatchPrograms(&plan);
  OnWorkerChange();
}

bool Supervisor::Retiring(std::string_view name) const {
  return std::any_of(retired_programs_.begin(), retired_programs_.end(),
                     [&](const std::unique_ptr<Program>& program) {
                       return program->name() == name;
                     });
}

bool Supervisor::ReloadSettled(const ReloadPlan& plan) const {
  for (const ProgramReload& entry : plan.programs) {
    if (entry.action == ReloadAction::kStopped) {
      if (Retiring(entry.name)) return false;
      continue;
    }
    const Program* program = FindProgram(entry.name);
    if (program != nullptr && !program->Settled()) return false;
  }
  return true;
}

void Supervisor::ForgetRetiredPrograms() {
  const std::size_t before = retired_programs_.size();
  std::erase_if(retired_programs_, [this](std::unique_ptr<Program>& program) {
    if (!program->Idle()) return false;
    const std::string name = program->name();
    spdlog::info("{}: removed by the reload; its workers are gone", name);
    program.reset();
    // A program of that name added back meanwhile keeps its own.
    if (config_.FindProgram(name) == nullptr) {
      listeners_.ReleaseSlots(name, 0);
      if (logs_ != nullptr) logs_->Forget(name);
    }
    return true;
  });
  // Waiters for their end (a reload's answer) are judged again.
  if (retired_programs_.size() != before) OnWorkerChange();
}

void Supervisor::OnReloadSignal() {
  if (shutting_down_) return;
  spdlog::info("received SIGHUP");
  Reload(/*dry_run=*/false);
}

}  // namespace workerd
