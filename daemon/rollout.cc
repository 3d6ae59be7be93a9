#include "daemon/rollout.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "daemon/worker.h"

namespace workerd {

const char* RolloutStepName(RolloutProgress::Step step) {
  switch (step) {
    case RolloutProgress::Step::kStarting:
      return "starting";
    case RolloutProgress::Step::kReady:
      return "ready";
    case RolloutProgress::Step::kReplaced:
      return "replaced";
  }
  return "unknown";
}

Rollout::Rollout(std::string program, std::vector<int> instances,
                 RolloutSlots& slots, RolloutObserver observer)
    : program_(std::move(program)),
      instances_(std::move(instances)),
      slots_(slots),
      observer_(std::move(observer)) {}

int Rollout::current_instance() const {
  if (phase_ == Phase::kFinished || index_ >= instances_.size()) return -1;
  return instances_[index_];
}

bool Rollout::Advance() {
  while (phase_ != Phase::kFinished) {
    if (index_ == instances_.size()) {
      Finish(true, "");
      break;
    }
    const int instance = instances_[index_];
    Worker* old = slots_.SlotWorker(instance);
    if (old == nullptr) {
      // Scaled away while waiting: nothing left to replace.
      if (slots_.Candidate(instance) != nullptr) {
        slots_.DiscardCandidate(instance);
      }
      phase_ = Phase::kNextSlot;
      ++index_;
      continue;
    }
    switch (phase_) {
      case Phase::kNextSlot:
        old_pid_ = old->pid();
        if (old->state() == WorkerState::kReady) {
          Worker* candidate = slots_.StartCandidate(instance);
          phase_ = Phase::kCandidateStarting;
          Report(instance, RolloutProgress::Step::kStarting, old_pid_,
                 candidate->pid());
        } else {
          // Nothing serving to hand over from: restart it where it is. A
          // process still stopping is replaced after its exit: new pid 0.
          old->Restart();
          phase_ = Phase::kRestartingInPlace;
          Report(instance, RolloutProgress::Step::kStarting, old_pid_,
                 old->pid() == old_pid_ ? 0 : old->pid());
        }
        continue;
      case Phase::kRestartingInPlace:
        if (!old->Settled()) return false;
        // A oneshot restarted in place has succeeded once it completed.
        if (!old->Succeeded()) {
          Finish(false, fmt::format("{}:{} did not become ready: {}",
                                    program_, instance, old->message()));
          break;
        }
        SlotDone();
        continue;
      case Phase::kCandidateStarting: {
        Worker* candidate = slots_.Candidate(instance);
        if (candidate == nullptr) {
          // Discarded under us (the slot was scaled away and back): the
          // slot starts over.
          phase_ = Phase::kNextSlot;
          continue;
        }
        if (candidate->state() == WorkerState::kReady) {
          const pid_t old_pid = old->pid();
          old->Stop();
          phase_ = Phase::kOldStopping;
          Report(instance, RolloutProgress::Step::kReady, old_pid,
                 candidate->pid());
          continue;
        }
        if (!candidate->Settled()) return false;
        std::string why = candidate->message();
        slots_.DiscardCandidate(instance);
        Finish(false,
               fmt::format("the new worker for {}:{} failed: {}; the old "
                           "worker (pid {}) keeps serving",
                           program_, instance, why, old->pid()));
        break;
      }
      case Phase::kOldStopping: {
        if (old->HasProcess() && old->state() != WorkerState::kStopping) {
          // Started again meanwhile (`workerctl start`): it is still the
          // one being replaced.
          old->Stop();
        }
        if (old->HasProcess() || old->state() == WorkerState::kStopping) {
          return false;
        }
        slots_.PromoteCandidate(instance);
        Worker* promoted = slots_.SlotWorker(instance);
        if (promoted == nullptr || promoted->state() != WorkerState::kReady) {
          // It was ready once, then ended while the old one drained: the
          // slots not reached yet keep their old workers.
          Finish(false,
                 fmt::format("the new worker for {}:{} failed after it was "
                             "ready: {}",
                             program_, instance,
                             promoted ? promoted->message() : "it is gone"));
          break;
        }
        SlotDone();
        continue;
      }
      case Phase::kFinished:
        break;
    }
  }
  return true;
}

void Rollout::SlotDone() {
  const int instance = instances_[index_];
  ++done_;
  ++index_;
  phase_ = Phase::kNextSlot;
  Worker* now_serving = slots_.SlotWorker(instance);
  Report(instance, RolloutProgress::Step::kReplaced, old_pid_,
         now_serving ? now_serving->pid() : 0);
}

void Rollout::Cancel(const std::string& reason) {
  if (phase_ == Phase::kFinished) return;
  const int instance = current_instance();
  if (instance >= 0 && slots_.Candidate(instance) != nullptr) {
    slots_.DiscardCandidate(instance);
  }
  Finish(false, reason);
}

void Rollout::Report(int instance, RolloutProgress::Step step, pid_t old_pid,
                     pid_t new_pid) {
  RolloutProgress progress;
  progress.program = program_;
  progress.instance = instance;
  progress.step = step;
  progress.old_pid = old_pid;
  progress.new_pid = new_pid;
  progress.done = done_;
  progress.total = total();
  if (observer_.on_progress) observer_.on_progress(progress);
}

void Rollout::Finish(bool ok, std::string message) {
  phase_ = Phase::kFinished;
  if (ok) {
    spdlog::info("{}: rolling restart done ({} of {} workers replaced)",
                 program_, done_, total());
  } else {
    spdlog::error("{}: rolling restart stopped after {} of {} workers: {}",
                  program_, done_, total(), message);
  }
  RolloutResult result{program_, ok, done_, total(), std::move(message)};
  if (observer_.on_finished) observer_.on_finished(result);
}

}  // namespace workerd
