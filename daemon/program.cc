#include "daemon/program.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>
#include <utility>

#include "daemon/listeners.h"

namespace workerd {

Program::Program(WorkerContext context, ProgramSpec spec)
    : context_(std::move(context)), spec_(std::move(spec)) {
  Scale(spec_.workers);
}

Program::~Program() {
  *alive_ = false;
  // A rollout's observer must not hear of workers destroyed with us.
  rollout_.reset();
}

Worker* Program::FindWorker(int instance) const {
  if (instance < 0 || instance >= static_cast<int>(workers_.size())) {
    return nullptr;
  }
  return workers_[instance].get();
}

const Worker* Program::FindCandidate(int instance) const {
  auto it = candidates_.find(instance);
  return it == candidates_.end() ? nullptr : it->second.get();
}

void Program::ForEachWorker(
    const std::function<void(const Worker&)>& visit) const {
  for (const auto& worker : workers_) visit(*worker);
  for (const auto& [instance, candidate] : candidates_) visit(*candidate);
  for (const auto& worker : departing_) visit(*worker);
}

void Program::Start() {
  bool starts_something = !active_;
  for (int i = 0; i < wanted_; ++i) {
    const WorkerState state = workers_[i]->state();
    starts_something |= state == WorkerState::kStopped ||
                        state == WorkerState::kExited ||
                        state == WorkerState::kCompleted ||
                        state == WorkerState::kFatal ||
                        state == WorkerState::kWaitingForChange;
  }
  if (starts_something) ++generation_;
  active_ = true;
  for (int i = 0; i < wanted_; ++i) workers_[i]->Start();
}

void Program::CancelRollout(const std::string& reason) {
  if (!rollout_) return;
  rollout_->Cancel(reason);
  // Not destroyed here: this may run inside the rollout's own Advance
  // (its observer stopped the program).
  context_.loop->RunSoon(
      [finished = std::shared_ptr<Rollout>(std::move(rollout_))] {});
}

void Program::Redefine(ProgramSpec spec) {
  // Assigned in place: the workers point at spec_.
  spec_ = std::move(spec);
}

void Program::Stop() {
  active_ = false;
  CancelRollout(spec_.name + " was stopped");
  for (auto& worker : workers_) worker->Stop();
  while (!candidates_.empty()) DiscardCandidate(candidates_.begin()->first);
  for (auto& worker : departing_) worker->Stop();
}

void Program::Restart() {
  ++generation_;
  active_ = true;
  for (int i = 0; i < wanted_; ++i) workers_[i]->Restart();
}

void Program::Kill() {
  for (auto& worker : workers_) worker->Kill();
  for (auto& [instance, candidate] : candidates_) candidate->Kill();
  for (auto& worker : departing_) worker->Kill();
}

bool Program::Held() const {
  return std::any_of(
      workers_.begin(), workers_.begin() + std::min<std::size_t>(wanted_, workers_.size()),
      [](const std::unique_ptr<Worker>& worker) { return worker->Held(); });
}

bool Program::Settled() const {
  if (rollout_ || static_cast<int>(workers_.size()) != wanted_) return false;
  for (const auto& worker : workers_) {
    if (!worker->Settled()) return false;
  }
  return true;
}

bool Program::Idle() const {
  bool idle = true;
  ForEachWorker([&](const Worker& worker) {
    if (worker.HasProcess()) idle = false;
  });
  return idle;
}

void Program::Scale(int wanted) {
  int from = wanted_;
  wanted_ = wanted;
  if (from != wanted && from != 0) {
    spdlog::info("{}: scaling from {} to {} workers", spec_.name, from,
                 wanted);
  }
  // Slots still winding down from an earlier scale-down come back first.
  for (int i = from; i < wanted && i < static_cast<int>(workers_.size());
       ++i) {
    if (active_) workers_[i]->Start();
  }
  while (static_cast<int>(workers_.size()) < wanted) {
    AddSlot();
    if (active_) workers_.back()->Start();
  }
  for (int i = wanted; i < static_cast<int>(workers_.size()); ++i) {
    workers_[i]->Stop();
    if (candidates_.count(i) != 0) DiscardCandidate(i);
  }
  ForgetRetiredSlots();
  if (rollout_) ScheduleHousekeeping();
}

bool Program::Roll(std::vector<int> instances, RolloutObserver observer) {
  if (rollout_) return false;
  if (instances.empty()) {
    instances.resize(wanted_);
    std::iota(instances.begin(), instances.end(), 0);
  }
  active_ = true;
  ++generation_;
  spdlog::info("{}: rolling restart of {} workers", spec_.name,
               instances.size());
  RolloutSlots& slots = *this;
  rollout_ = std::make_unique<Rollout>(spec_.name, std::move(instances),
                                       slots, std::move(observer));
  if (rollout_->Advance()) rollout_.reset();
  return true;
}

WorkerContext Program::ContextForWorkers() {
  WorkerContext context = context_;
  context.on_change = [this](const Worker& worker) { OnWorkerChange(worker); };
  context.watched = [this] { return watched_; };
  return context;
}

void Program::AddSlot() {
  workers_.push_back(std::make_unique<Worker>(
      ContextForWorkers(), &spec_, static_cast<int>(workers_.size())));
}

Worker* Program::SlotWorker(int instance) {
  return instance < wanted_ ? FindWorker(instance) : nullptr;
}

Worker* Program::StartCandidate(int instance) {
  auto candidate = std::make_unique<Worker>(ContextForWorkers(), &spec_,
                                            instance, WorkerRole::kCandidate);
  Worker* started = candidate.get();
  candidates_[instance] = std::move(candidate);
  started->Start();
  return started;
}

Worker* Program::Candidate(int instance) {
  return const_cast<Worker*>(FindCandidate(instance));
}

void Program::PromoteCandidate(int instance) {
  auto it = candidates_.find(instance);
  if (it == candidates_.end()) return;
  std::unique_ptr<Worker> candidate = std::move(it->second);
  candidates_.erase(it);
  candidate->Promote(*workers_[instance]);
  departing_.push_back(std::move(workers_[instance]));
  workers_[instance] = std::move(candidate);
  ScheduleHousekeeping();
  if (context_.on_change) context_.on_change(*workers_[instance]);
}

void Program::DiscardCandidate(int instance) {
  auto it = candidates_.find(instance);
  if (it == candidates_.end()) return;
  it->second->Stop();
  departing_.push_back(std::move(it->second));
  candidates_.erase(it);
  ScheduleHousekeeping();
}

void Program::OnWorkerChange(const Worker& worker) {
  const WorkerState state = worker.state();
  if (context_.listeners != nullptr && FindWorker(worker.instance()) == &worker &&
      !worker.HasProcess() && candidates_.count(worker.instance()) == 0 &&
      (state == WorkerState::kStopped || state == WorkerState::kExited ||
       state == WorkerState::kFatal || state == WorkerState::kCompleted ||
       state == WorkerState::kWaitingForChange ||
       worker.Held())) {
    // Nobody will accept on this slot's reuseport listeners: closed, they
    // get no share of new connections. A start binds them again.
    context_.listeners->ReleaseSlot(spec_.name, worker.instance());
  }
  if ((worker.instance() >= wanted_ && !worker.HasProcess()) || rollout_ ||
      !departing_.empty()) {
    // Not from inside the worker's own callback: it is still on the stack.
    ScheduleHousekeeping();
  }
  if (context_.on_change) context_.on_change(worker);
}

void Program::ScheduleHousekeeping() {
  if (housekeeping_scheduled_) return;
  housekeeping_scheduled_ = true;
  context_.loop->RunSoon([this, alive = alive_] {
    if (!*alive) return;
    housekeeping_scheduled_ = false;
    Housekeeping();
  });
}

void Program::Housekeeping() {
  ForgetRetiredSlots();
  std::erase_if(departing_, [](const std::unique_ptr<Worker>& worker) {
    return !worker->HasProcess() &&
           worker->state() != WorkerState::kStopping;
  });
  // A step that promotes or discards a worker schedules another round.
  if (rollout_ && rollout_->Advance()) rollout_.reset();
}

void Program::ForgetRetiredSlots() {
  bool forgot = false;
  while (static_cast<int>(workers_.size()) > wanted_ &&
         !workers_.back()->HasProcess() &&
         workers_.back()->state() != WorkerState::kStopping &&
         candidates_.count(static_cast<int>(workers_.size()) - 1) == 0) {
    spdlog::debug("{}: slot removed", workers_.back()->label());
    workers_.pop_back();
    forgot = true;
  }
  // A reuseport listener lives as long as its slot: connections queued on
  // it wait for the slot's next worker, but not for a slot that is gone.
  if (forgot && context_.listeners != nullptr) {
    context_.listeners->ReleaseSlots(spec_.name,
                                     static_cast<int>(workers_.size()));
  }
}

}  // namespace workerd
