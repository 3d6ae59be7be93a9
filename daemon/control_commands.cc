#include "daemon/control_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <variant>

#include "daemon/suggest.h"
#include "proto/target.h"
#include "proto/version.h"

namespace workerd {
namespace {

using proto::Json;
namespace error_code = proto::error_code;

int64_t Milliseconds(Duration d) { return d.count(); }

// Workers are named in answers as they are in targets: "web:2".
std::string TargetName(const Worker& worker) {
  return fmt::format("{}:{}", worker.spec().name, worker.instance());
}

// "web:2 is fatal: gave up after 5 restarts within 60s; ..."
std::string FailureSentence(const Worker& worker) {
  return fmt::format("{} is {}: {}", TargetName(worker),
                     WorkerStateName(worker.state()), worker.message());
}

// `no program named "wbe" (did you mean "web"?)`
proto::Error UnknownProgramError(const Supervisor& supervisor,
                                 const std::string& name) {
  std::vector<std::string> names;
  for (const auto& program : supervisor.programs()) {
    names.push_back(program->name());
  }
  std::string message = fmt::format("no program named \"{}\"", name);
  if (auto guess = Suggest(name, names)) {
    message += fmt::format(" (did you mean \"{}\"?)", *guess);
  }
  return {error_code::kUnknownTarget, message};
}

Json ExitJson(const std::optional<ExitStatus>& exit) {
  if (!exit) return nullptr;
  Json json = {{"code", nullptr}, {"signal", nullptr}, {"text", exit->Describe()}};
  if (exit->kind == ExitStatus::Kind::kExited) json["code"] = exit->code;
  if (exit->kind == ExitStatus::Kind::kKilled) json["signal"] = exit->signal;
  return json;
}

// `handover`: during a rollout, "old" for the slot's serving worker and
// "new" for the candidate started beside it.
Json WorkerJson(const Worker& worker, TimePoint now,
                const char* handover = nullptr) {
  auto since = [&](TimePoint t) {
    return Milliseconds(std::chrono::duration_cast<Duration>(now - t));
  };
  Json json = {
      {"program", worker.spec().name},
      {"instance", worker.instance()},
      {"state", std::string(WorkerStateName(worker.state()))},
      {"pid", nullptr},
      {"uptime_ms", nullptr},
      {"state_ms", since(worker.state_since())},
      {"restarts", worker.restarts()},
      {"last_exit", ExitJson(worker.last_exit())},
      {"message", worker.message()},
      {"notify_status", worker.notify_status()},
      {"handover", handover ? Json(handover) : Json(nullptr)},
  };
  if (worker.HasProcess()) {
    json["pid"] = worker.pid();
    json["uptime_ms"] = since(*worker.process_started());
  }
  return json;
}

// An optional boolean argument; anything but a boolean is refused.
std::variant<bool, proto::Error> BoolArgument(const Json& args,
                                              const char* name,
                                              bool absent) {
  // Null counts as absent (PROTOCOL.md).
  if (!args.contains(name) || args[name].is_null()) return absent;
  if (!args[name].is_boolean()) {
    return proto::Error{error_code::kInvalidArgument,
                        fmt::format("\"{}\" must be true or false", name)};
  }
  return args[name].get<bool>();
}

std::variant<bool, proto::Error> WaitArgument(const Json& args) {
  return BoolArgument(args, "wait", true);
}

// The instances of `program`, a candidate right after the slot's worker.
void AddInstancesJson(const Program& program, std::optional<int> only,
                      TimePoint now, Json& instances) {
  for (const auto& worker : program.workers()) {
    if (only && worker->instance() != *only) continue;
    const Worker* candidate = program.FindCandidate(worker->instance());
    instances.push_back(
        WorkerJson(*worker, now, candidate ? "old" : nullptr));
    if (candidate) instances.push_back(WorkerJson(*candidate, now, "new"));
  }
}

Json PidJson(pid_t pid) { return pid > 0 ? Json(pid) : Json(nullptr); }

Json ProgressJson(const RolloutProgress& progress) {
  return {{"program", progress.program},
          {"instance", progress.instance},
          {"step", RolloutStepName(progress.step)},
          {"old_pid", PidJson(progress.old_pid)},
          {"new_pid", PidJson(progress.new_pid)},
          {"done", progress.done},
          {"total", progress.total}};
}

// A program in the middle of a rolling restart takes no other restart.
std::optional<proto::Error> BusyError(const Program& program) {
  const Rollout* rollout = program.rollout();
  if (rollout == nullptr) return std::nullopt;
  return proto::Error{
      error_code::kBusy,
      fmt::format("{} is in the middle of a rolling restart ({} of {} "
                  "workers replaced); wait for it to finish, or stop {}",
                  program.name(), rollout->done(), rollout->total(),
                  program.name())};
}

}  // namespace

void ControlCommands::Handle(const proto::Request& request, Reply reply) {
  using Method = void (ControlCommands::*)(const proto::Request&, Reply&);
  static const std::pair<const char*, Method> kCommands[] = {
      {"version", &ControlCommands::Version},
      {"status", &ControlCommands::Status},
      {"start", &ControlCommands::Start},
      {"stop", &ControlCommands::Stop},
      {"restart", &ControlCommands::Restart},
      {"scale", &ControlCommands::Scale},
      {"shutdown", &ControlCommands::Shutdown},
  };
  for (const auto& [name, method] : kCommands) {
    if (request.command != name) continue;
    bool read_only = request.command == "version" ||
                     request.command == "status";
    if (supervisor_.shutting_down() && !read_only) {
      reply(proto::Response::Failure(
          request.id, {error_code::kShuttingDown,
                       "workerd is shutting down and takes no new work"}));
      return;
    }
    (this->*method)(request, reply);
    return;
  }
  std::vector<std::string> names;
  for (const auto& [name, method] : kCommands) names.emplace_back(name);
  std::string message = fmt::format("unknown command \"{}\"", request.command);
  if (auto guess = Suggest(request.command, names)) {
    message += fmt::format(" (did you mean \"{}\"?)", *guess);
  }
  reply(proto::Response::Failure(request.id,
                                 {error_code::kUnknownCommand, message}));
}

const Worker* ControlCommands::Find(const WorkerRef& ref) const {
  Program* program = supervisor_.FindProgram(ref.program);
  return program ? program->FindWorker(ref.instance) : nullptr;
}

Json ControlCommands::WorkersJson(const std::vector<WorkerRef>& refs) const {
  Json workers = Json::array();
  TimePoint now = supervisor_.loop().Now();
  for (const WorkerRef& ref : refs) {
    if (const Worker* worker = Find(ref)) {
      workers.push_back(WorkerJson(*worker, now));
    }
  }
  return workers;
}

namespace {

struct ResolvedTarget {
  Program* program;
  std::optional<int> instance;
};

std::variant<std::vector<ResolvedTarget>, proto::Error> ResolveTargets(
    const Supervisor& supervisor, const Json& args) {
  std::vector<ResolvedTarget> resolved;
  if (!args.contains("targets") || args["targets"].empty()) {
    for (const auto& program : supervisor.programs()) {
      resolved.push_back({program.get(), std::nullopt});
    }
    return resolved;
  }
  const Json& targets = args["targets"];
  if (!targets.is_array()) {
    return proto::Error{error_code::kInvalidArgument,
                        "\"targets\" must be a list of strings"};
  }
  for (const Json& item : targets) {
    if (!item.is_string()) {
      return proto::Error{error_code::kInvalidArgument,
                          "\"targets\" must be a list of strings"};
    }
    auto parsed = proto::ParseTarget(item.get<std::string>());
    if (auto* error = std::get_if<std::string>(&parsed)) {
      return proto::Error{error_code::kInvalidArgument, *error};
    }
    auto& target = std::get<proto::Target>(parsed);
    Program* program = supervisor.FindProgram(target.program);
    if (program == nullptr) {
      return UnknownProgramError(supervisor, target.program);
    }
    if (target.instance && *target.instance >= program->wanted()) {
      return proto::Error{
          error_code::kUnknownTarget,
          fmt::format("{} has {} workers, numbered from 0: there is no {}",
                      program->name(), program->wanted(),
                      proto::FormatTarget(target))};
    }
    resolved.push_back({program, target.instance});
  }
  return resolved;
}

}  // namespace

void ControlCommands::Version(const proto::Request& request, Reply& reply) {
  reply(proto::Response::Success(
      request.id, {{"version", proto::Version()},
                   {"protocol", proto::kProtocolVersion}}));
}

void ControlCommands::Status(const proto::Request& request, Reply& reply) {
  auto resolved = ResolveTargets(supervisor_, request.args);
  if (auto* error = std::get_if<proto::Error>(&resolved)) {
    reply(proto::Response::Failure(request.id, *error));
    return;
  }
  TimePoint now = supervisor_.loop().Now();
  Json programs = Json::array();
  for (const ResolvedTarget& target :
       std::get<std::vector<ResolvedTarget>>(resolved)) {
    Json instances = Json::array();
    AddInstancesJson(*target.program, target.instance, now, instances);
    programs.push_back({{"name", target.program->name()},
                        {"workers", target.program->wanted()},
                        {"instances", std::move(instances)}});
  }
  reply(proto::Response::Success(request.id, {{"programs", programs}}));
}

void ControlCommands::Start(const proto::Request& request, Reply& reply) {
  ActOnTargets(request, reply, &Program::Start, &Worker::Start,
               /*must_be_ready=*/true);
}

void ControlCommands::Stop(const proto::Request& request, Reply& reply) {
  // Stopping a whole program cancels its rollout; one slot stopped under a
  // rollout would be started again by it, so that is refused.
  ActOnTargets(request, reply, &Program::Stop, &Worker::Stop,
               /*must_be_ready=*/false, /*instances_busy_while_rolling=*/true);
}

namespace {

// What one rolling `restart` request is waiting for.
struct RollingRestart {
  Json id;
  Reply reply;
  bool wait = true;
  int pending = 0;
  std::vector<RolloutResult> results;
  std::vector<Program*> programs;
};

Json RolloutResultsJson(const RollingRestart& restart, TimePoint now) {
  Json programs = Json::array();
  Json workers = Json::array();
  for (const RolloutResult& result : restart.results) {
    programs.push_back({{"name", result.program},
                        {"ok", result.ok},
                        {"replaced", result.done},
                        {"total", result.total},
                        {"message", result.message}});
  }
  for (const Program* program : restart.programs) {
    AddInstancesJson(*program, std::nullopt, now, workers);
  }
  return {{"programs", std::move(programs)}, {"workers", std::move(workers)}};
}

}  // namespace

void ControlCommands::Restart(const proto::Request& request, Reply& reply) {
  auto at_once = BoolArgument(request.args, "at_once", false);
  if (auto* error = std::get_if<proto::Error>(&at_once)) {
    reply(proto::Response::Failure(request.id, *error));
    return;
  }
  auto resolved = ResolveTargets(supervisor_, request.args);
  if (auto* error = std::get_if<proto::Error>(&resolved)) {
    reply(proto::Response::Failure(request.id, *error));
    return;
  }
  auto wait = WaitArgument(request.args);
  if (auto* error = std::get_if<proto::Error>(&wait)) {
    reply(proto::Response::Failure(request.id, *error));
    return;
  }
  // Per program, the slots to replace; empty means all of them.
  std::vector<std::pair<Program*, std::vector<int>>> plans;
  for (const ResolvedTarget& target :
       std::get<std::vector<ResolvedTarget>>(resolved)) {
    auto plan = std::find_if(plans.begin(), plans.end(), [&](auto& p) {
      return p.first == target.program;
    });
    if (plan == plans.end()) {
      plans.emplace_back(target.program, std::vector<int>{});
      plan = plans.end() - 1;
      if (target.instance) plan->second.push_back(*target.instance);
    } else if (!target.instance) {
      plan->second.clear();
    } else if (!plan->second.empty() &&
               std::find(plan->second.begin(), plan->second.end(),
                         *target.instance) == plan->second.end()) {
      plan->second.push_back(*target.instance);
    }
    if (auto busy = BusyError(*target.program)) {
      reply(proto::Response::Failure(request.id, *busy));
      return;
    }
  }
  if (std::get<bool>(at_once)) {
    ActOnTargets(request, reply, &Program::Restart, &Worker::Restart,
                 /*must_be_ready=*/true);
    return;
  }

  auto restart = std::make_shared<RollingRestart>();
  restart->id = request.id;
  restart->reply = reply;
  restart->wait = std::get<bool>(wait);
  restart->pending = static_cast<int>(plans.size());
  auto finish = [this, restart] {
    Json result = RolloutResultsJson(*restart, supervisor_.loop().Now());
    for (const RolloutResult& done : restart->results) {
      if (done.ok) continue;
      restart->reply(proto::Response::Failure(
          restart->id, {error_code::kFailed, done.message}, std::move(result)));
      return;
    }
    restart->reply(proto::Response::Success(restart->id, std::move(result)));
  };
  for (auto& [program, instances] : plans) {
    std::sort(instances.begin(), instances.end());
    restart->programs.push_back(program);
    RolloutObserver observer;
    observer.on_progress = [restart](const RolloutProgress& progress) {
      if (!restart->wait) return;
      restart->reply(proto::Response::Interim(
          restart->id, {{"progress", ProgressJson(progress)}}));
    };
    observer.on_finished = [restart, finish](const RolloutResult& result) {
      restart->results.push_back(result);
      if (--restart->pending == 0 && restart->wait) finish();
    };
    program->Roll(std::move(instances), std::move(observer));
  }
  if (!restart->wait) {
    Json programs = Json::array();
    for (const Program* program : restart->programs) {
      programs.push_back({{"name", program->name()}});
    }
    reply(proto::Response::Success(request.id, {{"programs", programs}}));
  } else if (plans.empty()) {
    finish();
  }
}

void ControlCommands::ActOnTargets(const proto::Request& request, Reply& reply,
                                   void (Program::*program_action)(),
                                   void (Worker::*worker_action)(),
                                   bool must_be_ready,
                                   bool instances_busy_while_rolling) {
  auto resolved = ResolveTargets(supervisor_, request.args);
  if (auto* error = std::get_if<proto::Error>(&resolved)) {
    reply(proto::Response::Failure(request.id, *error));
    return;
  }
  for (const ResolvedTarget& target :
       std::get<std::vector<ResolvedTarget>>(resolved)) {
    if (!instances_busy_while_rolling || !target.instance) continue;
    if (auto busy = BusyError(*target.program)) {
      reply(proto::Response::Failure(request.id, *busy));
      return;
    }
  }
  auto wait = WaitArgument(request.args);
  if (auto* error = std::get_if<proto::Error>(&wait)) {
    reply(proto::Response::Failure(request.id, *error));
    return;
  }
  std::vector<WorkerRef> refs;
  for (const ResolvedTarget& target :
       std::get<std::vector<ResolvedTarget>>(resolved)) {
    if (target.instance) {
      (target.program->FindWorker(*target.instance)->*worker_action)();
      refs.push_back({target.program->name(), *target.instance});
      continue;
    }
    (target.program->*program_action)();
    for (int i = 0; i < target.program->wanted(); ++i) {
      refs.push_back({target.program->name(), i});
    }
  }
  AnswerWhenSettled(request, std::move(reply), std::move(refs),
                    must_be_ready);
}

void ControlCommands::AnswerWhenSettled(const proto::Request& request,
                                        Reply reply,
                                        std::vector<WorkerRef> refs,
                                        bool must_be_ready) {
  auto answer = [this, id = request.id, reply, refs, must_be_ready] {
    std::vector<std::string> failures;
    for (const WorkerRef& ref : refs) {
      const Worker* worker = Find(ref);
      if (worker == nullptr) continue;
      // A stop fails when the worker runs again (started meanwhile).
      bool failed = must_be_ready ? worker->state() != WorkerState::kReady
                                  : worker->HasProcess();
      if (failed) failures.push_back(FailureSentence(*worker));
    }
    Json result = {{"workers", WorkersJson(refs)}};
    if (failures.empty()) {
      reply(proto::Response::Success(id, std::move(result)));
      return;
    }
    std::string message = failures.front();
    if (failures.size() > 1) {
      message += fmt::format(" (and {} more)", failures.size() - 1);
    }
    reply(proto::Response::Failure(id, {error_code::kFailed, message},
                                   std::move(result)));
  };
  auto wait = WaitArgument(request.args);
  if (!std::get<bool>(wait)) {
    reply(proto::Response::Success(request.id,
                                   {{"workers", WorkersJson(refs)}}));
    return;
  }
  supervisor_.WhenSettled(
      [this, refs] {
        for (const WorkerRef& ref : refs) {
          const Worker* worker = Find(ref);
          if (worker != nullptr && !worker->Settled()) return false;
        }
        return true;
      },
      std::move(answer), [reply] { return !reply.Connected(); });
}

void ControlCommands::Scale(const proto::Request& request, Reply& reply) {
  const Json& wanted = request.args.contains("workers")
                           ? request.args["workers"]
                           : Json(nullptr);
  auto invalid = [&](std::string message) {
    reply(proto::Response::Failure(
        request.id, {error_code::kInvalidArgument, std::move(message)}));
  };
  if (!wanted.is_object() || wanted.empty()) {
    return invalid(
        "\"workers\" must be an object from program name to a number of "
        "workers, e.g. {\"web\": 8}");
  }
  auto wait = WaitArgument(request.args);
  if (auto* error = std::get_if<proto::Error>(&wait)) {
    reply(proto::Response::Failure(request.id, *error));
    return;
  }
  std::vector<std::pair<Program*, int>> changes;
  for (const auto& [name, count] : wanted.items()) {
    Program* program = supervisor_.FindProgram(name);
    if (program == nullptr) {
      reply(proto::Response::Failure(request.id,
                                     UnknownProgramError(supervisor_, name)));
      return;
    }
    if (!count.is_number_integer() || count.get<int64_t>() < 0 ||
        count.get<int64_t>() > kMaxWorkersPerProgram) {
      return invalid(fmt::format(
          "the number of workers for {} must be an integer from 0 to {}",
          name, kMaxWorkersPerProgram));
    }
    changes.emplace_back(program, count.get<int>());
  }

  Json programs = Json::array();
  // Per program, the instances added: only those must end ready.
  std::vector<std::pair<Program*, int>> added_from;
  for (auto [program, count] : changes) {
    programs.push_back(
        {{"name", program->name()}, {"from", program->wanted()}, {"to", count}});
    added_from.emplace_back(program, program->wanted());
    program->Scale(count);
  }
  if (!std::get<bool>(wait)) {
    reply(proto::Response::Success(request.id, {{"programs", programs}}));
    return;
  }
  supervisor_.WhenSettled(
      [this, changes] {
        for (auto [program, count] : changes) {
          if (static_cast<int>(program->workers().size()) != program->wanted())
            return false;
          for (const auto& worker : program->workers()) {
            if (!worker->Settled()) return false;
          }
        }
        return true;
      },
      [id = request.id, reply, added_from, programs] {
        std::vector<std::string> failures;
        for (auto [program, from] : added_from) {
          // A stopped program's new slots stay stopped, as its others are.
          if (!program->active()) continue;
          for (int i = from; i < program->wanted(); ++i) {
            const Worker& worker = *program->workers()[i];
            if (worker.state() != WorkerState::kReady) {
              failures.push_back(FailureSentence(worker));
            }
          }
        }
        Json result = {{"programs", programs}};
        if (failures.empty()) {
          reply(proto::Response::Success(id, std::move(result)));
        } else {
          reply(proto::Response::Failure(
              id, {error_code::kFailed, failures.front()}, std::move(result)));
        }
      },
      [reply] { return !reply.Connected(); });
}

void ControlCommands::Shutdown(const proto::Request& request, Reply& reply) {
  const int running = supervisor_.RunningWorkers();
  supervisor_.Shutdown([id = request.id, reply, running] {
    reply(proto::Response::Success(id, {{"stopped", running}}));
  });
}

}  // namespace workerd
