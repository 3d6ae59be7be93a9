#include "daemon/supervisor.h"

#include <signal.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "daemon/dependency_graph.h"
#include "daemon/duration.h"
#include "daemon/signals.h"

namespace workerd {

void ApplyRunOptions(Config& config, const RunOptions& options) {
  if (options.dev) config.daemon.dev = true;
  // Development mode shows every program's output on the terminal.
  ApplyLogDefault(config, config.daemon.dev ? LogMode::kInherit
                                            : options.log_default);
}

Supervisor::Supervisor(EventLoop& loop, Spawner& spawner, Config config,
                       std::vector<std::string> inherited_env,
                       Listeners listeners, LogRouter* logs,
                       RunOptions options)
    : loop_(loop),
      config_(std::move(config)),
      options_(options),
      inherited_env_(std::move(inherited_env)),
      listeners_(std::move(listeners)),
      logs_(logs) {
  worker_context_.loop = &loop_;
  worker_context_.spawner = &spawner;
  worker_context_.inherited_env = &inherited_env_;
  worker_context_.listeners = &listeners_;
  worker_context_.notify_socket = &notify_address_;
  worker_context_.on_change = [this](const Worker&) { OnWorkerChange(); };
  worker_context_.on_process = [this](Worker& worker, pid_t pid,
                                      bool running) {
    if (running) {
      workers_by_pid_[pid] = &worker;
    } else {
      workers_by_pid_.erase(pid);
    }
  };
  for (const ProgramSpec& spec : config_.programs) {
    programs_.push_back(MakeProgram(spec));
  }
}

std::unique_ptr<Program> Supervisor::MakeProgram(const ProgramSpec& spec) {
  WorkerContext context = worker_context_;
  context.log = logs_ != nullptr ? logs_->Find(spec.name) : nullptr;
  context.gate = [this, name = spec.name] { return dependencies_.Gate(name); };
  return std::make_unique<Program>(std::move(context), spec);
}

Supervisor::~Supervisor() {
  *alive_ = false;
  // Workers kill what is left of their process groups as they go.
  programs_.clear();
  retired_programs_.clear();
}

std::optional<std::string> Supervisor::Begin() {
  auto notify = NotifyServer::Open(
      loop_, [this](pid_t sender, const NotifyMessage& message) {
        return OnNotify(sender, message);
      });
  if (auto* error = std::get_if<std::string>(&notify)) return *error;
  notify_server_ = std::move(std::get<std::unique_ptr<NotifyServer>>(notify));
  notify_address_ = notify_server_->address();

  for (int signal : {SIGTERM, SIGINT}) {
    signal_sources_.push_back(loop_.AddSignal(
        signal, [this](const signalfd_siginfo& info) {
          OnTerminationSignal(static_cast<int>(info.ssi_signo));
        }));
  }
  signal_sources_.push_back(loop_.AddSignal(
      SIGHUP, [this](const signalfd_siginfo&) { OnReloadSignal(); }));
  // logrotate's way to say "the files were moved": open them again.
  signal_sources_.push_back(loop_.AddSignal(
      SIGUSR1, [this](const signalfd_siginfo&) { ReopenLogFiles(); }));
  reaper_ = std::make_unique<OrphanReaper>(
      loop_, [this](pid_t pid) { return IsWorkerPid(pid); });
  WatchPrograms(nullptr);

  // Dependencies first: a dependent would only wait for them anyway, and
  // the log then reads in the order things happen.
  for (std::size_t index : StartOrder(config_.programs)) {
    Program& program = *programs_[index];
    if (program.spec().autostart) StartProgram(program);
  }
  int workers = 0;
  int started = 0;
  for (auto& program : programs_) {
    if (program->active()) {
      workers += program->wanted();
      ++started;
      continue;
    }
    // Its reuseport listeners would get connections nobody accepts; a
    // start binds them again.
    listeners_.ReleaseSlots(program->name(), 0);
    spdlog::info("{}: not started (autostart = false)", program->name());
  }
  spdlog::info("started {} workers of {} programs", workers, started);
  if (service_ != nullptr) {
    WhenSettled([this] { return shutting_down_ || StartSettled(programs_); },
                [this] {
                  if (shutting_down_) return;
                  service_->Ready(CurrentStatus());
                  spdlog::debug("told the service manager: ready");
                });
  }
  return std::nullopt;
}

Program* Supervisor::FindProgram(std::string_view name) const {
  for (const auto& program : programs_) {
    if (program->name() == name) return program.get();
  }
  return nullptr;
}

void Supervisor::StartProgram(Program& program) {
  dependencies_.StartNeeds(program);
  program.Start();
}

void Supervisor::StartWorker(Program& program, int instance) {
  dependencies_.StartNeeds(program);
  program.FindWorker(instance)->Start();
}

void Supervisor::StopWithDependents(Program& program,
                                    std::function<void()> done) {
  std::vector<Program*> programs = dependencies_.Dependents(program);
  programs.push_back(&program);
  pending_stops_.push_back(
      {dependencies_.StopInOrder(std::move(programs)), std::move(done)});
  AdvanceStops();
}

void Supervisor::AdvanceStops() {
  std::vector<std::function<void()>> finished;
  std::erase_if(pending_stops_, [&](PendingStop& pending) {
    if (!pending.stop.Advance()) return false;
    finished.push_back(std::move(pending.done));
    return true;
  });
  for (auto& done : finished) {
    if (done) done();
  }
}

int Supervisor::RunningWorkers() const {
  int running = 0;
  for (const auto* programs : {&programs_, &retired_programs_}) {
    for (const auto& program : *programs) {
      program->ForEachWorker([&](const Worker& worker) {
        if (worker.HasProcess()) ++running;
      });
    }
  }
  return running;
}

bool Supervisor::IsWorkerPid(pid_t pid) const {
  return FindWorkerByPid(pid) != nullptr;
}

Worker* Supervisor::FindWorkerByPid(pid_t pid) const {
  auto found = workers_by_pid_.find(pid);
  return found == workers_by_pid_.end() ? nullptr : found->second;
}

void Supervisor::ReopenLogFiles() {
  if (logs_ == nullptr || logs_->FilePaths().empty()) {
    spdlog::info("SIGUSR1: no log files to reopen");
    return;
  }
  logs_->ReopenFiles([](std::vector<LogRouter::Reopened> files) {
    for (const LogRouter::Reopened& file : files) {
      if (file.error.empty()) {
        spdlog::info("SIGUSR1: reopened {}", file.path);
      } else {
        spdlog::error("SIGUSR1: {}", file.error);
      }
    }
  });
}

bool Supervisor::OnNotify(pid_t sender, const NotifyMessage& message) {
  Worker* worker = FindWorkerByPid(sender);
  if (worker == nullptr) {
    // A child of the worker (a `sh -c` wrapper's command, a pre-fork
    // master's worker) stays in the worker's process group.
    worker = FindWorkerByPid(ProcessGroupOf(sender));
  }
  if (worker == nullptr) return false;
  worker->OnNotify(message, sender);
  return true;
}

void Supervisor::WhenSettled(std::function<bool()> settled,
                             std::function<void()> done,
                             std::function<bool()> abandoned) {
  waiters_.push_back(
      {std::move(settled), std::move(done), std::move(abandoned)});
  OnWorkerChange();
}

void Supervisor::OnWorkerChange() {
  // Checked once after the current dispatch: a command that changes many
  // workers is judged when it has finished, not halfway through.
  if (check_scheduled_) return;
  check_scheduled_ = true;
  loop_.RunSoon([this, alive = alive_] {
    if (!*alive) return;
    check_scheduled_ = false;
    CheckWaiters();
    if (!shutting_down_) dependencies_.Check();
    AdvanceStops();
    CheckShutdownDone();
    ReportStatus();
  });
}

std::string Supervisor::CurrentStatus() const {
  if (!shutting_down_) return StatusSummary(programs_);
  const int left = RunningWorkers();
  return fmt::format("stopping: {} worker{} left", left, left == 1 ? "" : "s");
}

void Supervisor::ReportStatus() {
  if (service_ != nullptr) service_->Status(CurrentStatus());
}

void Supervisor::CheckWaiters() {
  std::vector<Waiter> pending;
  std::vector<Waiter> ready;
  for (Waiter& waiter : waiters_) {
    if (waiter.abandoned && waiter.abandoned()) continue;
    (waiter.settled() ? ready : pending).push_back(std::move(waiter));
  }
  waiters_ = std::move(pending);
  for (Waiter& waiter : ready) waiter.done();
}

void Supervisor::Shutdown(std::function<void()> done) {
  if (done) on_shutdown_done_.push_back(std::move(done));
  if (shutting_down_) return;
  shutting_down_ = true;
  // A save now must not start what is being stopped.
  watchers_.clear();
  spdlog::info("shutting down: stopping {} workers", RunningWorkers());
  if (service_ != nullptr) service_->Stopping(CurrentStatus());
  std::vector<Program*> everything;
  for (auto& program : programs_) everything.push_back(program.get());
  shutdown_stop_.emplace(dependencies_.StopInOrder(std::move(everything)));
  shutdown_stop_->Advance();
  shutdown_deadline_ = loop_.AddTimer(
      loop_.Now() + config_.daemon.shutdown_timeout, [this] {
        spdlog::warn("workers still running after shutdown_timeout ({}); "
                     "killing them",
                     FormatDuration(config_.daemon.shutdown_timeout));
        KillEverything();
      });
  OnWorkerChange();
}

void Supervisor::KillEverything() {
  for (auto* programs : {&programs_, &retired_programs_}) {
    for (auto& program : *programs) {
      program->Stop();
      program->Kill();
    }
  }
}

void Supervisor::CheckShutdownDone() {
  if (!shutting_down_ || !shutdown_stop_->Advance()) return;
  // Programs removed by a reload were stopped then; they are waited for too.
  for (const auto& program : retired_programs_) {
    if (!program->Idle()) return;
  }
  shutdown_deadline_.Reset();
  auto callbacks = std::move(on_shutdown_done_);
  on_shutdown_done_.clear();
  for (auto& callback : callbacks) callback();
  // Whatever is left (a group member still dying, a process that escaped
  // into its own session) goes with us rather than to PID 1.
  if (reaper_) reaper_->KillAndReapAll();
  spdlog::info("all workers stopped; exiting");
  loop_.Exit(0);
}

void Supervisor::OnTerminationSignal(int signal) {
  if (!shutting_down_) {
    spdlog::info("received {}", SignalName(signal));
    Shutdown();
    return;
  }
  spdlog::warn("received {} again: killing every worker now",
               SignalName(signal));
  KillEverything();
}

}  // namespace workerd
