// Development mode's watching (README, "Development mode"): a Watcher per
// program with `watch`, and what a change of its files does.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "daemon/supervisor.h"

namespace workerd {
namespace {

// The keys a program's watcher is built from.
bool WatchSettingsChanged(const ProgramReload& entry) {
  return std::any_of(entry.changes.begin(), entry.changes.end(),
                     [](const std::string& key) {
                       return key == "watch" || key == "ignore" ||
                              key == "watch_debounce" || key == "directory";
                     });
}

}  // namespace

void Supervisor::WatchPrograms(const ReloadPlan* plan) {
  std::erase_if(watchers_, [this](const auto& entry) {
    const ProgramSpec* spec = config_.FindProgram(entry.first);
    return spec == nullptr || spec->watch.empty() || !config_.daemon.dev;
  });
  for (auto& program : programs_) {
    const ProgramSpec& spec = program->spec();
    if (spec.watch.empty()) {
      program->SetWatched(false);
      continue;
    }
    if (!config_.daemon.dev) {
      if (plan == nullptr) {
        spdlog::info("{}: not watching its files: `watch` acts in "
                     "development mode only (workerd --dev, or [daemon] dev "
                     "= true)",
                     spec.name);
      }
      program->SetWatched(false);
      continue;
    }
    if (plan != nullptr && watchers_.contains(spec.name)) {
      auto entry = std::find_if(
          plan->programs.begin(), plan->programs.end(),
          [&](const ProgramReload& p) { return p.name == spec.name; });
      if (entry == plan->programs.end() || !WatchSettingsChanged(*entry)) {
        continue;
      }
    }
    watchers_.erase(spec.name);
    auto started = Watcher::Start(
        loop_, spec,
        [this, name = spec.name](const WatchTrigger& trigger) {
          OnWatchedChange(name, trigger);
        },
        [name = spec.name](const std::string& error) {
          spdlog::warn("{}: {}", name, error);
        });
    if (auto* error = std::get_if<std::string>(&started)) {
      spdlog::error("{}: not watching its files: {}", spec.name, *error);
      program->SetWatched(false);
      continue;
    }
    auto& watcher = std::get<std::unique_ptr<Watcher>>(started);
    spdlog::info("{}: watching {} ({} directories)", spec.name,
                 spec.watch_directory, watcher->WatchedDirectories());
    watchers_[spec.name] = std::move(watcher);
    program->SetWatched(true);
  }
}

void Supervisor::OnWatchedChange(const std::string& name,
                                 const WatchTrigger& trigger) {
  Program* program = FindProgram(name);
  if (program == nullptr || shutting_down_) return;
  if (!program->active()) {
    spdlog::info("{}: {}; not running, so not restarted", name,
                 trigger.Describe());
    return;
  }
  spdlog::info("{}: {}; restarting", name, trigger.Describe());
  program->CancelRollout(name + "'s rolling restart gave way to a newer "
                         "change of its files");
  // Serving programs that say when they are ready keep serving; the rest
  // restart at once, which is what a developer waits for.
  if (program->spec().ready == Readiness::kNotify &&
      program->spec().type == ProgramType::kService) {
    program->Roll({}, {});
  } else {
    program->Restart();
  }
}

}  // namespace workerd
