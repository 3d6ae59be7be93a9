// A program of workers.toml at runtime: its spec and its slots, numbered
// from 0. Scaling adds slots at the top and retires the highest ones,
// which are forgotten once their process is gone. A rolling restart
// (rollout.h) starts candidates beside the slots' workers, one at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/rollout.h"
#include "daemon/worker.h"

namespace workerd {

class Program : private RolloutSlots {
 public:
  Program(WorkerContext context, ProgramSpec spec);
  ~Program() override;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  const std::string& name() const { return spec_.name; }
  const ProgramSpec& spec() const { return spec_; }
  // How many workers are wanted; slots being retired are not counted.
  int wanted() const { return wanted_; }
  // Started (autostart or a request) and not stopped since.
  bool active() const { return active_; }
  // Every slot's worker, in instance order, retiring ones included.
  const std::vector<std::unique_ptr<Worker>>& workers() const {
    return workers_;
  }
  Worker* FindWorker(int instance) const;
  // The new worker being started beside the slot's during a rollout.
  const Worker* FindCandidate(int instance) const;
  // Every worker object: slots, candidates, and replaced ones winding down.
  void ForEachWorker(const std::function<void(const Worker&)>& visit) const;

  void Start();
  // Stops every worker and cancels a rollout in progress.
  void Stop();
  // Restarts every slot at once.
  void Restart();
  void Kill();
  void Scale(int wanted);

  // Replaces the workers of `instances` (all slots when empty) one at a
  // time. False when a rollout is already in progress.
  bool Roll(std::vector<int> instances, RolloutObserver observer);
  // The rollout in progress; null when none.
  const Rollout* rollout() const { return rollout_.get(); }
  // Ends the rollout in progress, if any, as failed with `reason`; the
  // slots keep the workers they have.
  void CancelRollout(const std::string& reason);

  // A reload's new definition (same name). Every worker reads its spec from
  // here, so what needs no new process (restart policy, timeouts, ...)
  // applies at once and the rest from each worker's next start; replacing
  // the running processes is the caller's business (Roll, Restart).
  void Redefine(ProgramSpec spec);

  // Development mode watches the program's files: a failed worker waits
  // for a change (`waiting for change`) instead of restarting.
  void SetWatched(bool watched) { watched_ = watched; }
  bool watched() const { return watched_; }

  // No worker has a process (all stopped, exited, fatal or backing off).
  bool Idle() const;
  // Every slot wanted exists and its worker has settled (Worker::Settled),
  // slots being retired are gone, and no rollout is in progress.
  bool Settled() const;
  // Some slot waits for, or is blocked by, the program's dependencies.
  bool Held() const;
  // Counts starts and restarts by request (Start of something not
  // running, Restart, Roll), not restarts by policy: dependents with
  // restart_with_dependency follow it.
  int generation() const { return generation_; }

 private:
  // RolloutSlots
  Worker* SlotWorker(int instance) override;
  Worker* StartCandidate(int instance) override;
  Worker* Candidate(int instance) override;
  void PromoteCandidate(int instance) override;
  void DiscardCandidate(int instance) override;

  void AddSlot();
  WorkerContext ContextForWorkers();
  void OnWorkerChange(const Worker& worker);
  // After the current dispatch: forget what is gone, move the rollout on.
  void ScheduleHousekeeping();
  void Housekeeping();
  void ForgetRetiredSlots();

  WorkerContext context_;
  ProgramSpec spec_;
  int wanted_ = 0;
  int generation_ = 0;
  // Started by request or autostart and not stopped since: new slots from
  // a scale up start too.
  bool active_ = false;
  bool watched_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<int, std::unique_ptr<Worker>> candidates_;
  // Replaced or discarded workers, kept until their process is gone.
  std::vector<std::unique_ptr<Worker>> departing_;
  std::unique_ptr<Rollout> rollout_;
  bool housekeeping_scheduled_ = false;
  // Cleared by the destructor: housekeeping queued on the loop is skipped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace workerd
