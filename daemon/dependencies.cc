#include "daemon/dependencies.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "daemon/dependency_graph.h"

namespace workerd {

Program* Dependencies::Find(std::string_view name) const {
  for (const auto& program : programs_) {
    if (program->name() == name) return program.get();
  }
  return nullptr;
}

ProgramView Dependencies::ViewOf(const Program& program) const {
  ProgramView view;
  view.name = program.name();
  view.active = program.active();
  for (int i = 0; i < program.wanted(); ++i) {
    const Worker& worker = *program.workers()[i];
    view.slots.push_back({i, worker.state(), worker.message()});
  }
  return view;
}

GateVerdict Dependencies::Gate(std::string_view name) const {
  const Program* program = Find(name);
  if (program == nullptr || program->spec().depends_on.empty()) return {};
  std::vector<ProgramView> views;
  views.reserve(program->spec().depends_on.size());
  std::vector<std::pair<const Dependency*, const ProgramView*>> judged;
  for (const Dependency& dependency : program->spec().depends_on) {
    const Program* target = Find(dependency.program);
    if (target == nullptr) {
      judged.emplace_back(&dependency, nullptr);
      continue;
    }
    views.push_back(ViewOf(*target));
    judged.emplace_back(&dependency, &views.back());
  }
  return JudgeDependencies(judged);
}

void Dependencies::StartNeeds(const Program& program) {
  for (const std::string& name : AllDependencies(specs_, program.name())) {
    Program* needed = Find(name);
    if (needed == nullptr) continue;
    bool needs_start = !needed->active();
    for (int i = 0; i < needed->wanted(); ++i) {
      const WorkerState state = needed->workers()[i]->state();
      needs_start |= state == WorkerState::kStopped ||
                     state == WorkerState::kExited ||
                     state == WorkerState::kFatal ||
                     state == WorkerState::kWaitingForChange ||
                     state == WorkerState::kBlocked;
    }
    if (!needs_start) continue;
    spdlog::info("{}: starting it, as {} needs it", name, program.name());
    needed->Start();
  }
}

void Dependencies::Check() {
  for (const auto& program : programs_) {
    if (program->spec().depends_on.empty()) continue;
    if (program->Held()) {
      // Judged once for all its workers: a program of many workers held
      // behind one of many would otherwise cost workers x slots per check.
      const GateVerdict verdict = Gate(program->name());
      for (int i = 0; i < program->wanted(); ++i) {
        program->workers()[i]->Release(verdict);
      }
    }
    if (program->spec().restart_with_dependency) {
      FollowRestartedDependencies(*program);
    }
  }
}

std::map<std::string, int> Dependencies::DependencyGenerations(
    const Program& program) const {
  std::map<std::string, int> generations;
  for (const Dependency& dependency : program.spec().depends_on) {
    if (const Program* target = Find(dependency.program)) {
      generations[dependency.program] = target->generation();
    }
  }
  return generations;
}

void Dependencies::FollowRestartedDependencies(Program& program) {
  Seen& seen = seen_[program.name()];
  if (seen.own != program.generation() || !program.active() ||
      program.Held()) {
    // (Re)started by request, not running, or not started yet: it will
    // start after whatever its dependencies are doing now.
    seen.own = program.generation();
    seen.dependencies = DependencyGenerations(program);
    return;
  }
  const Dependency* restarted = nullptr;
  for (const Dependency& dependency : program.spec().depends_on) {
    const Program* target = Find(dependency.program);
    if (target == nullptr ||
        seen.dependencies[dependency.program] == target->generation()) {
      continue;
    }
    if (target->rollout() != nullptr ||
        CheckCondition(dependency.condition, ViewOf(*target)).kind !=
            ConditionCheck::Kind::kMet) {
      return;  // once it is back
    }
    restarted = &dependency;
  }
  // A rollout in progress ends first; the next check rolls again.
  if (restarted == nullptr || program.rollout() != nullptr) return;
  spdlog::info("{}: restarting it, as {} was restarted "
               "(restart_with_dependency = true)",
               program.name(), restarted->program);
  if (program.spec().type == ProgramType::kOneshot) {
    program.Restart();
  } else {
    RolloutObserver observer;
    observer.on_finished = [name = program.name()](const RolloutResult& result) {
      if (!result.ok) spdlog::warn("{}: {}", name, result.message);
    };
    program.Roll({}, std::move(observer));
  }
  seen.own = program.generation();
  seen.dependencies = DependencyGenerations(program);
}

std::vector<Program*> Dependencies::Dependents(const Program& program) const {
  std::vector<Program*> dependents;
  for (const std::string& name : AllDependents(specs_, program.name())) {
    if (Program* dependent = Find(name)) dependents.push_back(dependent);
  }
  return dependents;
}

OrderedStop Dependencies::StopInOrder(std::vector<Program*> programs) const {
  // Dependents first: the reverse of the start order.
  std::vector<Program*> order;
  const std::vector<std::size_t> start = StartOrder(specs_);
  for (auto it = start.rbegin(); it != start.rend(); ++it) {
    Program* program = Find(specs_[*it].name);
    if (std::find(programs.begin(), programs.end(), program) !=
        programs.end()) {
      order.push_back(program);
    }
  }
  std::vector<OrderedStop::Step> steps;
  for (Program* program : order) {
    OrderedStop::Step step{program, {}};
    for (const Program* dependent : Dependents(*program)) {
      auto at = std::find(order.begin(), order.end(), dependent);
      if (at != order.end()) {
        step.dependents.push_back(static_cast<std::size_t>(at - order.begin()));
      }
    }
    steps.push_back(std::move(step));
  }
  return OrderedStop(std::move(steps));
}

}  // namespace workerd
