// A program of workers.toml at runtime: its spec and its slots, numbered
// from 0. Scaling adds slots at the top and retires the highest ones,
// which are forgotten once their process is gone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/worker.h"

namespace workerd {

class Program {
 public:
  Program(WorkerContext context, ProgramSpec spec);
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  const std::string& name() const { return spec_.name; }
  const ProgramSpec& spec() const { return spec_; }
  // How many workers are wanted; slots being retired are not counted.
  int wanted() const { return wanted_; }
  // Every slot, in instance order, retiring ones included.
  const std::vector<std::unique_ptr<Worker>>& workers() const {
    return workers_;
  }
  Worker* FindWorker(int instance) const;

  void Start();
  void Stop();
  void Restart();
  void Kill();
  void Scale(int wanted);

  // No worker has a process (all stopped, exited, fatal or backing off).
  bool Idle() const;

 private:
  void AddSlot();
  void OnWorkerChange(const Worker& worker);
  void ForgetRetiredSlots();

  WorkerContext context_;
  ProgramSpec spec_;
  int wanted_ = 0;
  // Started by request or autostart and not stopped since: new slots from
  // a scale up start too.
  bool active_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace workerd
