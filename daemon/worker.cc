#include "daemon/worker.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "daemon/duration.h"
#include "daemon/listeners.h"
#include "daemon/output_capture.h"
#include "daemon/program_log.h"
#include "daemon/signals.h"
#include "daemon/worker_launch.h"

namespace workerd {

namespace {

std::string LabelOf(const ProgramSpec& spec, int instance, WorkerRole role) {
  return role == WorkerRole::kCandidate
             ? fmt::format("{}[{}] new", spec.name, instance)
             : fmt::format("{}[{}]", spec.name, instance);
}

}  // namespace

Worker::Worker(WorkerContext context, const ProgramSpec* spec, int instance,
               WorkerRole role)
    : context_(std::move(context)),
      spec_(spec),
      instance_(instance),
      role_(role),
      label_(LabelOf(*spec, instance, role)),
      state_since_(context_.loop->Now()) {}

Worker::~Worker() {
  // Nothing is left running unsupervised: whatever remains is killed, and
  // the subreaper collects the zombie once this object no longer tracks it.
  if (process_) {
    KillProcessGroup();
    ReportProcess(false);
  }
}

void Worker::ReportProcess(bool running) {
  if (context_.on_process) context_.on_process(*this, process_->pid, running);
}

std::optional<TimePoint> Worker::process_started() const {
  if (!process_) return std::nullopt;
  return process_->started;
}

bool Worker::Settled() const {
  switch (state_) {
    case WorkerState::kReady:
    case WorkerState::kCompleted:
    case WorkerState::kStopped:
    case WorkerState::kExited:
    case WorkerState::kFatal:
    case WorkerState::kBlocked:
    case WorkerState::kWaitingForChange:
      return true;
    default:
      return false;
  }
}

bool Worker::Succeeded() const {
  return state_ == (spec_->type == ProgramType::kOneshot
                        ? WorkerState::kCompleted
                        : WorkerState::kReady);
}

bool Worker::Held() const {
  return state_ == WorkerState::kWaiting || state_ == WorkerState::kBlocked;
}

void Worker::Start() {
  switch (state_) {
    case WorkerState::kFatal:
      history_ = {};
      restarts_ = 0;
      [[fallthrough]];
    case WorkerState::kStopped:
    case WorkerState::kExited:
    case WorkerState::kCompleted:
    case WorkerState::kWaiting:
    case WorkerState::kBlocked:
    case WorkerState::kWaitingForChange:
      deadline_.Reset();
      if (MayStart()) Spawn();
      return;
    case WorkerState::kBackoff:
      // Started before: a retry is supervision, not a new start.
      deadline_.Reset();
      Spawn();
      return;
    case WorkerState::kStopping:
      if (after_stop_ == AfterStop::kNothing) after_stop_ = AfterStop::kStart;
      return;
    case WorkerState::kStarting:
    case WorkerState::kReady:
    case WorkerState::kRunning:
      return;
  }
}

bool Worker::MayStart() {
  // A candidate replaces a worker that started under the same gate.
  if (role_ == WorkerRole::kCandidate || !context_.gate) return true;
  const GateVerdict verdict = context_.gate();
  if (verdict.kind == GateVerdict::Kind::kOpen) return true;
  Hold(verdict);
  return false;
}

void Worker::Hold(const GateVerdict& verdict) {
  const WorkerState held = verdict.kind == GateVerdict::Kind::kWaiting
                               ? WorkerState::kWaiting
                               : WorkerState::kBlocked;
  // Judged again after every change elsewhere: said only when it differs.
  if (state_ != held || message_ != verdict.reason) {
    EnterState(held, verdict.reason);
  }
}

void Worker::Release(const GateVerdict& verdict) {
  if (!Held()) return;
  if (verdict.kind != GateVerdict::Kind::kOpen) {
    Hold(verdict);
    return;
  }
  deadline_.Reset();
  Spawn();
}

void Worker::Stop() {
  after_stop_ = AfterStop::kNothing;
  switch (state_) {
    case WorkerState::kStarting:
    case WorkerState::kReady:
      SendStop();
      return;
    case WorkerState::kRunning:
      SendStop();
      return;
    case WorkerState::kBackoff:
    case WorkerState::kExited:
    case WorkerState::kCompleted:
    case WorkerState::kFatal:
    case WorkerState::kWaiting:
    case WorkerState::kBlocked:
    case WorkerState::kWaitingForChange:
      deadline_.Reset();
      EnterState(WorkerState::kStopped, "stopped on request");
      return;
    case WorkerState::kStopping:
    case WorkerState::kStopped:
      return;
  }
}

void Worker::Restart() {
  if (state_ == WorkerState::kStarting || state_ == WorkerState::kReady ||
      state_ == WorkerState::kRunning) {
    SendStop();
    after_stop_ = AfterStop::kRestart;
  } else if (state_ == WorkerState::kStopping) {
    after_stop_ = AfterStop::kRestart;
  } else {
    Start();
  }
}

void Worker::Kill() {
  if (!process_) return;
  spdlog::warn("{}: killing pid {} and its process group with SIGKILL", label_,
               process_->pid);
  KillProcessGroup();
}

void Worker::KillProcessGroup() {
  // The worker leads its own group (setpgid in the spawner). Its pid
  // cannot be reused while we hold it unreaped, so this never hits a
  // stranger.
  if (::kill(-process_->pid, SIGKILL) < 0 && errno == ESRCH) {
    ::kill(process_->pid, SIGKILL);
  }
}

void Worker::Spawn() {
  WorkerSockets sockets;
  if (context_.listeners != nullptr) {
    auto found = context_.listeners->ForWorker(*spec_, instance_);
    if (auto* error = std::get_if<std::string>(&found)) {
      AfterUnplannedEnd(ExitStatus::SpawnFailed(*error), /*was_up=*/false,
                        *error);
      return;
    }
    sockets = std::move(std::get<WorkerSockets>(found));
  }
  std::string no_notify_socket;
  SpawnRequest request = MakeSpawnRequest(
      *spec_, instance_, *context_.inherited_env,
      context_.notify_socket ? *context_.notify_socket : no_notify_socket,
      sockets);
  WorkerOutput output;
  if (context_.log != nullptr) {
    auto prepared = context_.log->PrepareOutput(instance_, &request);
    if (auto* error = std::get_if<std::string>(&prepared)) {
      AfterUnplannedEnd(ExitStatus::SpawnFailed(*error), /*was_up=*/false,
                        *error);
      return;
    }
    output = std::move(std::get<WorkerOutput>(prepared));
  }
  SpawnResult result = context_.spawner->Spawn(request);
  // Only the worker may hold the pipes' write ends: once it and its
  // children are gone, the capture sees the end of the output.
  output.stdout_write.Reset();
  output.stderr_write.Reset();
  if (auto* error = std::get_if<SpawnError>(&result)) {
    std::string text = error->ToString();
    AfterUnplannedEnd(ExitStatus::SpawnFailed(text), /*was_up=*/false, text);
    return;
  }
  auto& spawned = std::get<SpawnedProcess>(result);
  EventSource exit_source;
  try {
    exit_source = context_.loop->AddChildPidfd(
        spawned.pidfd.Get(), [this](const siginfo_t& info) { OnExit(info); });
  } catch (const std::exception& error) {
    // Unsupervised it must not run: killed and reaped here, a failed start.
    ::kill(-spawned.pid, SIGKILL);
    ::kill(spawned.pid, SIGKILL);
    siginfo_t ignored;
    ::waitid(P_PIDFD, static_cast<id_t>(spawned.pidfd.Get()), &ignored,
             WEXITED);
    std::string text =
        fmt::format("cannot watch pid {}: {}", spawned.pid, error.what());
    AfterUnplannedEnd(ExitStatus::SpawnFailed(text), /*was_up=*/false, text);
    return;
  }
  process_.emplace();
  process_->pid = spawned.pid;
  process_->pidfd = std::move(spawned.pidfd);
  process_->started = context_.loop->Now();
  process_->capture = std::move(output.capture);
  process_->socket_holds = std::move(sockets.holds);
  process_->exit_source = std::move(exit_source);
  ReportProcess(true);
  kill_reason_.clear();
  notify_status_.clear();

  if (spec_->type == ProgramType::kOneshot) {
    // Done when it exits 0, however long that takes.
    EnterState(WorkerState::kRunning, fmt::format("started pid {}", pid()));
    return;
  }
  if (spec_->ready == Readiness::kNotify) {
    ArmDeadline(spec_->ready_timeout);
    EnterState(WorkerState::kStarting,
               fmt::format("started pid {}; waiting for READY=1", pid()));
    return;
  }
  if (spec_->start_period.count() == 0) {
    BecomeReady(fmt::format("started pid {}", pid()));
    return;
  }
  ArmDeadline(spec_->start_period);
  EnterState(WorkerState::kStarting, fmt::format("started pid {}", pid()));
}

void Worker::BecomeReady(std::string message) {
  deadline_.Reset();
  ArmWatchdog();
  EnterState(WorkerState::kReady, std::move(message));
}

void Worker::OnNotify(const NotifyMessage& message, pid_t sender) {
  if (!process_) return;
  if (message.status) notify_status_ = *message.status;
  if (message.watchdog_trigger) {
    OnWatchdogExpired("sent WATCHDOG=trigger");
    return;
  }
  if (message.watchdog && watchdog_) ArmWatchdog();
  if (message.ready && state_ == WorkerState::kStarting &&
      spec_->ready == Readiness::kNotify) {
    BecomeReady(fmt::format("pid {} sent READY=1", sender));
  }
  if (message.stopping && state_ != WorkerState::kStopping) {
    // The worker is on its way out by itself; its exit is handled as any
    // other. Said once, in the log and in status.
    message_ = fmt::format("pid {} sent STOPPING=1", sender);
    spdlog::info("{}: {}", label_, message_);
  }
}

void Worker::ArmWatchdog() {
  if (spec_->watchdog.count() == 0) return;
  const TimePoint due = context_.loop->Now() + spec_->watchdog;
  // Every WATCHDOG=1 moves the deadline: the same timer, not a new one.
  if (watchdog_) {
    context_.loop->Reschedule(watchdog_, due);
    return;
  }
  watchdog_ = context_.loop->AddTimer(due, [this] {
    OnWatchdogExpired(fmt::format("sent no WATCHDOG=1 for {}",
                                  FormatDuration(spec_->watchdog)));
  });
}

void Worker::OnWatchdogExpired(std::string reason) {
  watchdog_.Reset();
  if (!process_ || state_ == WorkerState::kStopping) return;
  KillForFailure(std::move(reason));
}

void Worker::KillForFailure(std::string reason) {
  spdlog::warn("{}: pid {} {}; killing its process group with SIGKILL", label_,
               pid(), reason);
  kill_reason_ = std::move(reason);
  deadline_.Reset();
  KillProcessGroup();
}

void Worker::Promote(const Worker& replaced) {
  role_ = WorkerRole::kServing;
  label_ = LabelOf(*spec_, instance_, role_);
  restarts_ = replaced.restarts_;
}

void Worker::SendStop() {
  watchdog_.Reset();
  int signal = spec_->stop_signal;
  if (::kill(process_->pid, signal) < 0 && errno != ESRCH) {
    spdlog::error("{}: cannot send {} to pid {}: {}", label_,
                  SignalName(signal), process_->pid, std::strerror(errno));
  }
  ArmDeadline(spec_->stop_timeout);
  EnterState(WorkerState::kStopping,
             fmt::format("sent {} to pid {}", SignalName(signal), pid()));
}

void Worker::OnExit(const siginfo_t& info) {
  ExitStatus exit = ExitStatus::FromSiginfo(info);
  // Its last words come before the news of its death.
  if (process_->capture) process_->capture->ProcessExited();
  // Anything the worker left in its group goes with it: no orphans.
  KillProcessGroup();
  pid_t pid = process_->pid;
  ReportProcess(false);
  bool was_up = state_ == WorkerState::kReady;
  bool was_stopping = state_ == WorkerState::kStopping;
  // sd-event reaps the child through its pidfd after this callback
  // returns: keep the pidfd and source alive until then.
  context_.loop->RunSoon(
      [finished = std::make_shared<Process>(std::move(*process_))] {});
  process_.reset();
  deadline_.Reset();
  watchdog_.Reset();
  notify_status_.clear();
  last_exit_ = exit;

  // Killed by us for the worker's own failure: the exit says why.
  if (exit.kind == ExitStatus::Kind::kKilled) exit.cause = kill_reason_;
  kill_reason_.clear();
  std::string what_happened = fmt::format("pid {} {}", pid, exit.Describe());
  if (was_stopping) {
    switch (std::exchange(after_stop_, AfterStop::kNothing)) {
      case AfterStop::kRestart:
        spdlog::info("{}: {}; starting it again", label_, what_happened);
        Spawn();
        return;
      case AfterStop::kStart:
        // Stopped, then started anew: dependencies are judged as for any
        // start, and a closed gate leaves it waiting or blocked.
        if (!MayStart()) return;
        spdlog::info("{}: {}; starting it again", label_, what_happened);
        Spawn();
        return;
      case AfterStop::kNothing:
        EnterState(WorkerState::kStopped, what_happened);
        return;
    }
    return;
  }
  if (spec_->type == ProgramType::kOneshot && exit.Success()) {
    history_.failed_starts_in_a_row = 0;
    EnterState(WorkerState::kCompleted, what_happened);
    return;
  }
  AfterUnplannedEnd(exit, was_up, std::move(what_happened));
}

void Worker::AfterUnplannedEnd(const ExitStatus& exit, bool was_up,
                               std::string what_happened) {
  using Action = RestartDecision::Action;
  last_exit_ = exit;
  if (role_ == WorkerRole::kCandidate && state_ != WorkerState::kReady) {
    // A new worker that never became ready is a failed rollout, not a
    // crash to retry: the old worker of the slot keeps serving.
    if (exit.kind != ExitStatus::Kind::kSpawnFailed) {
      what_happened += " before it was ready";
    }
    EnterState(WorkerState::kExited, std::move(what_happened));
    return;
  }
  if (context_.watched && context_.watched() && !exit.Success()) {
    // A save with a syntax error is the normal case while developing:
    // restarting it until fatal helps nobody; the fix will come as a save.
    EnterState(WorkerState::kWaitingForChange,
               what_happened + "; starts again when a watched file changes");
    return;
  }
  TimePoint now = context_.loop->Now();
  RestartDecision decision = DecideRestart(*spec_, history_, exit, was_up, now);
  RecordRestart(*spec_, history_, decision, now);
  std::string message = what_happened + "; " + decision.reason;
  switch (decision.action) {
    case Action::kRestartNow:
      ++restarts_;
      spdlog::warn("{}: {}", label_, message);
      Spawn();
      return;
    case Action::kRestartLater:
      ++restarts_;
      ArmDeadline(decision.delay);
      EnterState(WorkerState::kBackoff, std::move(message));
      return;
    case Action::kLeaveExited:
      EnterState(WorkerState::kExited, std::move(message));
      return;
    case Action::kGiveUp:
      EnterState(WorkerState::kFatal, std::move(message));
      return;
  }
}

void Worker::OnDeadline() {
  deadline_.Reset();
  switch (state_) {
    case WorkerState::kStarting:
      if (spec_->ready == Readiness::kNotify) {
        KillForFailure(fmt::format("sent no READY=1 within {}",
                                   FormatDuration(spec_->ready_timeout)));
        return;
      }
      BecomeReady(fmt::format("pid {} stayed up {}", pid(),
                              FormatDuration(spec_->start_period)));
      return;
    case WorkerState::kBackoff:
      Spawn();
      return;
    case WorkerState::kStopping:
      spdlog::warn(
          "{}: pid {} did not stop within {}; killing its process "
          "group with SIGKILL",
          label_, pid(), FormatDuration(spec_->stop_timeout));
      message_ = fmt::format("did not stop within {}; sent SIGKILL",
                             FormatDuration(spec_->stop_timeout));
      KillProcessGroup();
      return;
    default:
      return;
  }
}

void Worker::ArmDeadline(Duration after) {
  deadline_ = context_.loop->AddTimer(context_.loop->Now() + after,
                                      [this] { OnDeadline(); });
}

void Worker::EnterState(WorkerState state, std::string message) {
  bool trouble =
      state == WorkerState::kBackoff || state == WorkerState::kFatal ||
      state == WorkerState::kBlocked ||
      state == WorkerState::kWaitingForChange ||
      (state == WorkerState::kExited && last_exit_ && !last_exit_->Success());
  spdlog::log(state == WorkerState::kFatal ? spdlog::level::err
              : trouble                    ? spdlog::level::warn
                                           : spdlog::level::info,
              "{}: {} [{}]", label_, message, WorkerStateName(state));
  state_ = state;
  state_since_ = context_.loop->Now();
  message_ = std::move(message);
  if (context_.on_change) context_.on_change(*this);
}

}  // namespace workerd
