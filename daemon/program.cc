#include "daemon/program.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace workerd {

Program::Program(WorkerContext context, ProgramSpec spec)
    : context_(std::move(context)), spec_(std::move(spec)) {
  Scale(spec_.workers);
}

Worker* Program::FindWorker(int instance) const {
  if (instance < 0 || instance >= static_cast<int>(workers_.size())) {
    return nullptr;
  }
  return workers_[instance].get();
}

void Program::Start() {
  active_ = true;
  for (int i = 0; i < wanted_; ++i) workers_[i]->Start();
}

void Program::Stop() {
  active_ = false;
  for (auto& worker : workers_) worker->Stop();
}

void Program::Restart() {
  active_ = true;
  for (int i = 0; i < wanted_; ++i) workers_[i]->Restart();
}

void Program::Kill() {
  for (auto& worker : workers_) worker->Kill();
}

bool Program::Idle() const {
  for (const auto& worker : workers_) {
    if (worker->HasProcess()) return false;
  }
  return true;
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
  }
  ForgetRetiredSlots();
}

void Program::AddSlot() {
  WorkerContext context = context_;
  context.on_change = [this](const Worker& worker) { OnWorkerChange(worker); };
  workers_.push_back(std::make_unique<Worker>(
      std::move(context), &spec_, static_cast<int>(workers_.size())));
}

void Program::OnWorkerChange(const Worker& worker) {
  if (worker.instance() >= wanted_ && !worker.HasProcess()) {
    // Not from inside the worker's own callback: it is still on the stack.
    context_.loop->RunSoon([this] { ForgetRetiredSlots(); });
  }
  if (context_.on_change) context_.on_change(worker);
}

void Program::ForgetRetiredSlots() {
  while (static_cast<int>(workers_.size()) > wanted_ &&
         !workers_.back()->HasProcess() &&
         workers_.back()->state() != WorkerState::kStopping) {
    spdlog::debug("{}: slot removed", workers_.back()->label());
    workers_.pop_back();
  }
}

}  // namespace workerd
