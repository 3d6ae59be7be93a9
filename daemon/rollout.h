// A rolling restart of one program: its slots are replaced one at a time.
// For a slot whose worker is ready, a candidate is started beside it on
// the same sockets; once the candidate is ready the old worker is stopped
// gracefully, and once that is gone the candidate takes the slot. A slot
// with no ready worker (nothing serving) is simply restarted. The first
// candidate that fails to become ready stops the rollout: that slot's old
// worker keeps serving, and the slots not reached yet keep theirs. So does
// a candidate that was ready but ended before it took over its slot.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace workerd {

class Worker;

// What a rollout needs of its program (implemented by Program).
class RolloutSlots {
 public:
  virtual ~RolloutSlots() = default;
  // The slot's serving worker; null when the slot is gone (scaled down).
  virtual Worker* SlotWorker(int instance) = 0;
  // Starts a candidate for the slot and returns it.
  virtual Worker* StartCandidate(int instance) = 0;
  virtual Worker* Candidate(int instance) = 0;
  // The candidate becomes the slot's worker; the old one is dropped.
  virtual void PromoteCandidate(int instance) = 0;
  // Stops the candidate (if it runs) and drops it once it is gone.
  virtual void DiscardCandidate(int instance) = 0;
};

struct RolloutProgress {
  enum class Step {
    kStarting,  // a new worker was started for the slot
    kReady,     // it is ready; the old one is being stopped
    kReplaced,  // the old one is gone: the slot is done
  };
  std::string program;
  int instance = 0;
  Step step = Step::kStarting;
  pid_t old_pid = 0;  // 0 when the slot had no process
  pid_t new_pid = 0;
  int done = 0;  // slots finished so far
  int total = 0;
};

struct RolloutResult {
  std::string program;
  bool ok = true;
  int done = 0;
  int total = 0;
  std::string message;  // why it stopped, when not ok
};

struct RolloutObserver {
  std::function<void(const RolloutProgress&)> on_progress;
  std::function<void(const RolloutResult&)> on_finished;
};

const char* RolloutStepName(RolloutProgress::Step step);  // "ready"

class Rollout {
 public:
  Rollout(std::string program, std::vector<int> instances,
          RolloutSlots& slots, RolloutObserver observer);

  // Moves on as far as the slots' workers allow; call after any change of
  // the program's workers, never from inside a worker's own callback.
  // Returns true once the rollout has finished (done, failed or cancelled).
  bool Advance();
  // Ends the rollout as failed, leaving the slots' workers as they are;
  // the candidate of the slot being replaced, if any, is discarded.
  void Cancel(const std::string& reason);

  bool finished() const { return phase_ == Phase::kFinished; }
  int done() const { return done_; }
  int total() const { return static_cast<int>(instances_.size()); }
  // The slot being replaced now; -1 when finished.
  int current_instance() const;

 private:
  enum class Phase {
    kNextSlot,
    kRestartingInPlace,   // nothing was serving: the slot is restarted
    kCandidateStarting,   // waiting for the candidate to become ready
    kOldStopping,         // waiting for the old worker to be gone
    kFinished,
  };

  // Last in each step: the observer may cancel the rollout (stop the
  // program), which Advance then sees as finished.
  void Report(int instance, RolloutProgress::Step step, pid_t old_pid,
              pid_t new_pid);
  void SlotDone();
  void Finish(bool ok, std::string message);

  std::string program_;
  std::vector<int> instances_;
  RolloutSlots& slots_;
  RolloutObserver observer_;
  Phase phase_ = Phase::kNextSlot;
  std::size_t index_ = 0;
  int done_ = 0;
  pid_t old_pid_ = 0;
};

}  // namespace workerd
