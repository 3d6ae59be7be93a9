// Owns the programs and drives the daemon's life: autostart, signals,
// orphan reaping, and shutdown. The control protocol reaches it through
// ControlCommands; sockets, logs and the control server have their owners.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/dependencies.h"
#include "daemon/event_loop.h"
#include "daemon/listeners.h"
#include "daemon/log_router.h"
#include "daemon/notify_server.h"
#include "daemon/orphan_reaper.h"
#include "daemon/ordered_stop.h"
#include "daemon/program.h"
#include "daemon/reload_plan.h"
#include "daemon/service_notifier.h"
#include "daemon/spawner.h"
#include "daemon/watcher.h"

namespace workerd {

// How workerd was started, beyond workers.toml: applied to the file each
// time it is read, at start and at every reload.
struct RunOptions {
  // The `log` of programs whose file does not set one (DefaultLogMode).
  LogMode log_default = LogMode::kInherit;
  // `workerd --dev`: development mode whatever [daemon] dev says.
  bool dev = false;
};

// Applies `options` to a config just read.
void ApplyRunOptions(Config& config, const RunOptions& options);

// Why a reload changed nothing.
struct ReloadError {
  // The file does not load; `messages` holds every error,
  // "workers.toml:3:11: ...". Otherwise one sentence (a socket that cannot
  // be bound, a log file that cannot be opened).
  bool config_invalid = false;
  std::vector<std::string> messages;
};

class Supervisor {
 public:
  // SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGUSR1 must be blocked
  // (BlockSignals). `listeners` are the config's sockets, already bound;
  // `logs` where the programs' output goes, opened for this config, and it
  // must outlive the supervisor (null: workers write to workerd's own
  // stdout and stderr, uncaptured).
  // `config` has `options` applied already.
  Supervisor(EventLoop& loop, Spawner& spawner, Config config,
             std::vector<std::string> inherited_env,
             Listeners listeners = {}, LogRouter* logs = nullptr,
             RunOptions options = {});
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Keeps the service manager informed from now on (service_notifier.h):
  // READY=1 once the autostart programs' start has settled, STATUS= as
  // workers change, RELOADING=1 and READY=1 around a reload, STOPPING=1.
  // Before Begin; `notifier` must outlive the supervisor.
  void ReportTo(ServiceNotifier* notifier) { service_ = notifier; }

  // Opens the notify socket, starts the autostart programs and begins
  // handling signals. An error (a sentence) means nothing was started.
  std::optional<std::string> Begin();

  // Stops every worker, dependents before what they depend on (SIGKILL
  // to whatever is left after shutdown_timeout), runs `done`, then ends
  // the loop with status 0.
  void Shutdown(std::function<void()> done = {});
  bool shutting_down() const { return shutting_down_; }

  // Reads config().path again and applies the difference (reload_plan.h):
  // new sockets and log files first, so that a failure there leaves
  // everything as it was; then removed programs stop (dependents first),
  // changed ones roll, scaled ones scale, new ones start in dependency
  // order. Returns the plan as carried out, its `ok`s not yet known: the
  // caller follows rollouts through `observe` (one observer per rolled
  // program) and the rest through WhenSettled. With `dry_run` nothing is
  // done. The log tells what happened either way.
  using RolloutObserverFactory =
      std::function<RolloutObserver(const std::string& program)>;
  std::variant<ReloadPlan, ReloadError> Reload(
      bool dry_run, const RolloutObserverFactory& observe = {});
  // A program removed by a reload whose workers are not all gone yet.
  bool Retiring(std::string_view name) const;
  // What `plan` set in motion has come to rest: removed programs are gone,
  // and the others' rollouts ended and their workers settled.
  bool ReloadSettled(const ReloadPlan& plan) const;

  const Config& config() const { return config_; }
  const std::vector<std::unique_ptr<Program>>& programs() const {
    return programs_;
  }
  Program* FindProgram(std::string_view name) const;
  const Dependencies& dependencies() const { return dependencies_; }

  // Starts what `program` needs that is not running, then the program.
  void StartProgram(Program& program);
  // Starts what `program` needs that is not running, then one worker.
  void StartWorker(Program& program, int instance);
  // Stops everything that depends on `program`, in order, then `program`
  // itself; `done` runs once all of them have no process left.
  void StopWithDependents(Program& program, std::function<void()> done);
  // Workers with a process, candidates and departing ones included.
  int RunningWorkers() const;
  const Listeners& listeners() const { return listeners_; }
  // Null when output is not captured.
  LogRouter* logs() const { return logs_; }
  EventLoop& loop() { return loop_; }

  // Runs `done` once `settled()` holds, checking after each state change
  // (and once soon, in case it already holds). The wait is dropped instead
  // once `abandoned()` holds (the client that asked has gone).
  void WhenSettled(std::function<bool()> settled, std::function<void()> done,
                   std::function<bool()> abandoned = {});
  // Checks the WhenSettled waiters soon, as after a worker change: for
  // conditions that change without one (a rollout's end).
  void CheckSoon() { OnWorkerChange(); }

 private:
  struct PendingStop {
    OrderedStop stop;
    std::function<void()> done;
  };

  struct Waiter {
    std::function<bool()> settled;
    std::function<void()> done;
    std::function<bool()> abandoned;
  };

  std::unique_ptr<Program> MakeProgram(const ProgramSpec& spec);
  // Reload without the logging of its failure.
  std::variant<ReloadPlan, ReloadError> TryReload(
      bool dry_run, const RolloutObserverFactory& observe);
  // Swaps in `next` and sets the plan's changes in motion; cannot fail.
  void ApplyReload(Config next, ReloadPlan& plan,
                   const RolloutObserverFactory& observe);
  // Destroys the removed programs that have no process left.
  void ForgetRetiredPrograms();
  void OnReloadSignal();
  // Development mode: (re)starts the watchers of the programs with `watch`
  // whose watch settings are new (all of them without a plan: at start),
  // and drops those of programs that no longer watch.
  void WatchPrograms(const ReloadPlan* plan);
  void OnWatchedChange(const std::string& program, const WatchTrigger& trigger);
  void OnWorkerChange();
  // STATUS= for the service manager, when there is one.
  void ReportStatus();
  std::string CurrentStatus() const;
  void CheckWaiters();
  void AdvanceStops();
  void CheckShutdownDone();
  // Stop, then SIGKILL, every worker: nothing restarts what was killed.
  void KillEverything();
  void OnTerminationSignal(int signal);
  bool IsWorkerPid(pid_t pid) const;
  Worker* FindWorkerByPid(pid_t pid) const;
  // False when the sender is no worker's process or in no worker's group.
  bool OnNotify(pid_t sender, const NotifyMessage& message);
  void ReopenLogFiles();

  EventLoop& loop_;
  Config config_;
  RunOptions options_;
  std::vector<std::string> inherited_env_;
  // Declared before the programs: their workers use both.
  Listeners listeners_;
  LogRouter* logs_;
  std::string notify_address_;
  // What every program's workers get; `log` and `gate` are set per program.
  WorkerContext worker_context_;
  // In the order of config_.programs.
  std::vector<std::unique_ptr<Program>> programs_;
  // Removed by a reload and stopping; destroyed once they have no process.
  std::vector<std::unique_ptr<Program>> retired_programs_;
  Dependencies dependencies_{config_.programs, programs_};
  std::vector<PendingStop> pending_stops_;
  // Every worker process by pid: notify messages and orphan reaping look
  // up senders and children here, not by walking every worker.
  std::unordered_map<pid_t, Worker*> workers_by_pid_;
  std::vector<Waiter> waiters_;
  bool check_scheduled_ = false;
  // Cleared by the destructor: checks queued on the loop are skipped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  bool shutting_down_ = false;
  std::vector<std::function<void()>> on_shutdown_done_;
  std::optional<OrderedStop> shutdown_stop_;
  EventSource shutdown_deadline_;

  // Development mode: a watcher per program with `watch`, by name.
  std::map<std::string, std::unique_ptr<Watcher>> watchers_;

  ServiceNotifier* service_ = nullptr;
  // Counts reloads: READY=1 is sent for the latest one only.
  int reloads_ = 0;

  std::vector<EventSource> signal_sources_;
  std::unique_ptr<OrphanReaper> reaper_;
  std::unique_ptr<NotifyServer> notify_server_;
};

}  // namespace workerd
