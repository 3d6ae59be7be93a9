// One slot of a program: instance N of `web`, kept across restarts. An
// explicit state machine driven by requests (Start/Stop/Restart), by its
// process's exit, by sd_notify messages and by its deadline timer (plus a
// watchdog timer when the program has one). It owns its process's pidfd
// and exit source; destroying it kills what is left.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"
#include "daemon/dependency_gate.h"
#include "daemon/event_loop.h"
#include "daemon/exit_status.h"
#include "daemon/notify_message.h"
#include "daemon/restart_policy.h"
#include "daemon/spawner.h"
#include "daemon/unique_fd.h"
#include "daemon/worker_state.h"

namespace workerd {


// A slot's worker serves; during a rolling restart a candidate is started
// beside it. A candidate that ends before it is ready is not restarted: it
// goes to `exited` and the rollout stops there.
enum class WorkerRole { kServing, kCandidate };

class Listeners;
class OutputCapture;
class ProgramLog;

// What a worker needs from the daemon around it.
struct WorkerContext {
  EventLoop* loop = nullptr;
  Spawner* spawner = nullptr;
  const std::vector<std::string>* inherited_env = nullptr;
  // Null: the worker gets no sockets (tests).
  Listeners* listeners = nullptr;
  // NOTIFY_SOCKET for workers; empty: none.
  const std::string* notify_socket = nullptr;
  // Where the program's output goes. Null: workers write to workerd's own
  // stdout and stderr, uncaptured (tests).
  ProgramLog* log = nullptr;
  // Whether a worker of this program may start now, judged by its
  // dependencies. Unset: always.
  std::function<GateVerdict()> gate;
  // Whether the program's files are watched (development mode): a failed
  // process then waits for a change instead of restarting. Unset: never.
  std::function<bool()> watched;
  // Called after every state change (the worker is in a consistent state).
  std::function<void(const class Worker&)> on_change;
  // Called when the worker's process starts (`running`) and when the worker
  // lets go of it: an index of pids can follow.
  std::function<void(class Worker&, pid_t pid, bool running)> on_process;
};

class Worker {
 public:
  Worker(WorkerContext context, const ProgramSpec* spec, int instance,
         WorkerRole role = WorkerRole::kServing);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts a stopped, exited, completed or fatal worker (a fatal one
  // forgets its crash history), retries a backing-off one now, or starts
  // again after a stop in progress. A running worker is left alone. A
  // serving worker whose program's dependencies are not met goes to
  // `waiting` (or `blocked`) instead; calling Start again judges again.
  void Start();
  // Sends the stop signal, and SIGKILL to the process group after
  // stop_timeout; cancels a pending retry.
  void Stop();
  // Stop, then start once the process has exited.
  void Restart();
  // SIGKILL to the whole process group now.
  void Kill();

  // A held (waiting or blocked) worker judged again by its program's
  // dependencies: it starts when `verdict` is open, else takes it as its
  // state and reason. Other workers are left alone.
  void Release(const GateVerdict& verdict);

  // An sd_notify message from the worker's process or its process group
  // (`sender` is the process that sent it): READY=1 ends `starting`
  // (ready = "notify"), WATCHDOG=1 feeds the watchdog, STATUS= is kept for
  // status while the process runs.
  void OnNotify(const NotifyMessage& message, pid_t sender);

  // A candidate that replaced the slot's worker serves from now on, and
  // carries on the slot's restart count.
  void Promote(const Worker& replaced);

  const ProgramSpec& spec() const { return *spec_; }
  int instance() const { return instance_; }
  WorkerState state() const { return state_; }
  // "web[2]"
  const std::string& label() const { return label_; }
  // 0 when there is no process.
  pid_t pid() const { return process_ ? process_->pid : 0; }
  bool HasProcess() const { return process_.has_value(); }
  std::optional<TimePoint> process_started() const;
  TimePoint state_since() const { return state_since_; }
  int restarts() const { return restarts_; }
  const std::optional<ExitStatus>& last_exit() const { return last_exit_; }
  const std::string& message() const { return message_; }
  WorkerRole role() const { return role_; }
  // The last STATUS= the process sent; empty when none.
  const std::string& notify_status() const { return notify_status_; }
  // Ready, completed, stopped, exited, fatal or blocked: nothing more
  // happens by itself.
  bool Settled() const;
  // What a start aims for: ready (a service) or completed (a oneshot).
  bool Succeeded() const;
  // Waiting or blocked: kept from starting by the program's dependencies.
  bool Held() const;

 private:
  struct Process {
    pid_t pid = 0;
    UniqueFd pidfd;
    TimePoint started;
    std::shared_ptr<OutputCapture> capture;  // null when not captured
    // The sockets it was given: one a reload removed stays open until the
    // last process that has it is gone.
    std::vector<std::shared_ptr<const void>> socket_holds;
    EventSource exit_source;  // declared after pidfd: released before it
  };

  // False after entering `waiting` or `blocked` as the gate says.
  bool MayStart();
  // Enters `waiting` or `blocked` for a closed `verdict`, unless already
  // there for the same reason.
  void Hold(const GateVerdict& verdict);
  void Spawn();
  void SendStop();
  void OnExit(const siginfo_t& info);
  void AfterUnplannedEnd(const ExitStatus& exit, bool was_up,
                         std::string what_happened);
  void OnDeadline();
  void EnterState(WorkerState state, std::string message);
  void ArmDeadline(Duration after);
  void ArmWatchdog();
  void OnWatchdogExpired(std::string reason);
  void KillProcessGroup();
  // Kills the process for a reason of ours; its exit is then reported
  // with that reason.
  void KillForFailure(std::string reason);
  void BecomeReady(std::string message);
  void ReportProcess(bool running);

  WorkerContext context_;
  const ProgramSpec* spec_;
  int instance_;
  WorkerRole role_;
  std::string label_;
  WorkerState state_ = WorkerState::kStopped;
  TimePoint state_since_;
  std::string message_;
  std::optional<Process> process_;
  EventSource deadline_;
  // Armed while ready when the program has a `watchdog`.
  EventSource watchdog_;
  std::string kill_reason_;
  std::string notify_status_;
  // What follows the exit of a process being stopped: nothing, a start
  // that asks the gate like any other, or a restart, which does not.
  enum class AfterStop { kNothing, kStart, kRestart };
  AfterStop after_stop_ = AfterStop::kNothing;
  RestartHistory history_;
  int restarts_ = 0;
  std::optional<ExitStatus> last_exit_;
};

}  // namespace workerd
