#include "daemon/control_commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <variant>

#include "daemon/control_arguments.h"
#include "daemon/suggest.h"
#include "daemon/worker_json.h"
#include "proto/version.h"

namespace workerd {

using proto::Json;
namespace error_code = proto::error_code;

void ControlCommands::Handle(const proto::Request& request, Reply reply) {
  using Method = void (ControlCommands::*)(const proto::Request&, Reply&);
  static const std::pair<const char*, Method> kCommands[] = {
      {"version", &ControlCommands::Version},
      {"status", &ControlCommands::Status},
      {"start", &ControlCommands::Start},
      {"stop", &ControlCommands::Stop},
      {"restart", &ControlCommands::Restart},
      {"scale", &ControlCommands::Scale},
      {"reload", &ControlCommands::Reload},
      {"shutdown", &ControlCommands::Shutdown},
      {"logs", &ControlCommands::Logs},
      {"reopen_logs", &ControlCommands::ReopenLogs},
  };
  for (const auto& [name, method] : kCommands) {
    if (request.command != name) continue;
    // Reading output (and reopening files) is fine to the end: a
    // shutdown's last lines are worth following.
    bool read_only = request.command == "version" ||
                     request.command == "status" ||
                     request.command == "logs" ||
                     request.command == "reopen_logs";
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

void ControlCommands::Version(const proto::Request& request, Reply& reply) {
  reply(proto::Response::Success(
      request.id, {{"version", proto::Version()},
                   {"protocol", proto::kProtocolVersion}}));
}

void ControlCommands::Status(const proto::Request& request, Reply& reply) {
  auto resolved = ResolveTargets(supervisor_, request.args);
  if (Refused(resolved, request, reply)) return;
  TimePoint now = supervisor_.loop().Now();
  Json programs = Json::array();
  for (const ResolvedTarget& target :
       std::get<std::vector<ResolvedTarget>>(resolved)) {
    Json instances = Json::array();
    AddInstancesJson(*target.program, target.instance, now, instances);
    const ProgramSpec& spec = target.program->spec();
    Json depends_on = Json::array();
    for (const Dependency& dependency : spec.depends_on) {
      depends_on.push_back(
          {{"program", dependency.program},
           {"condition",
            std::string(DependencyConditionName(dependency.condition))}});
    }
    programs.push_back({{"name", target.program->name()},
                        {"type", std::string(ProgramTypeName(spec.type))},
                        {"workers", target.program->wanted()},
                        {"depends_on", std::move(depends_on)},
                        {"instances", std::move(instances)}});
  }
  reply(proto::Response::Success(request.id, {{"programs", programs}}));
}

void ControlCommands::Start(const proto::Request& request, Reply& reply) {
  // What a program needs starts first (Supervisor::StartProgram).
  ActOnTargets(
      request, reply,
      [this](Program& program) { supervisor_.StartProgram(program); },
      [this](Program& program, int instance) {
        supervisor_.StartWorker(program, instance);
      },
      /*must_be_ready=*/true);
}

void ControlCommands::Stop(const proto::Request& request, Reply& reply) {
  auto with_dependents = BoolArgument(request.args, "with_dependents", false);
  if (Refused(with_dependents, request, reply)) return;
  if (std::get<bool>(with_dependents)) {
    StopWithDependents(request, reply);
    return;
  }
  auto resolved = ResolveTargets(supervisor_, request.args);
  Json extra = Json::object();
  if (auto* targets = std::get_if<std::vector<ResolvedTarget>>(&resolved)) {
    Json warnings = DependentsWarnings(*targets);
    if (!warnings.empty()) extra["warnings"] = std::move(warnings);
  }
  // Stopping a whole program cancels its rollout; one slot stopped under a
  // rollout would be started again by it, so that is refused.
  ActOnTargets(
      request, reply, [](Program& program) { program.Stop(); },
      [](Program& program, int instance) {
        program.FindWorker(instance)->Stop();
      },
      /*must_be_ready=*/false, /*instances_busy_while_rolling=*/true,
      std::move(extra));
}

Json ControlCommands::DependentsWarnings(
    const std::vector<ResolvedTarget>& targets) {
  auto stopped = [&](const Program* program) {
    return std::any_of(targets.begin(), targets.end(),
                       [&](const ResolvedTarget& target) {
                         return target.program == program && !target.instance;
                       });
  };
  Json warnings = Json::array();
  for (const ResolvedTarget& target : targets) {
    if (target.instance) continue;
    std::vector<std::string> running;
    for (const Program* dependent :
         supervisor_.dependencies().Dependents(*target.program)) {
      if (!dependent->Idle() && !stopped(dependent)) {
        running.push_back(dependent->name());
      }
    }
    if (running.empty()) continue;
    std::string names = running.front();
    for (std::size_t i = 1; i < running.size(); ++i) {
      names += (i + 1 == running.size() ? " and " : ", ") + running[i];
    }
    std::string warning = fmt::format(
        "{} {} on {} and {} running; `workerctl stop --with-dependents {}` "
        "stops {} too",
        names, running.size() == 1 ? "depends" : "depend",
        target.program->name(), running.size() == 1 ? "keeps" : "keep",
        target.program->name(), running.size() == 1 ? "it" : "them");
    spdlog::warn("{}", warning);
    warnings.push_back(std::move(warning));
  }
  return warnings;
}

void ControlCommands::StopWithDependents(const proto::Request& request,
                                         Reply& reply) {
  auto resolved = ResolveTargets(supervisor_, request.args);
  if (Refused(resolved, request, reply)) return;
  auto wait = WaitArgument(request.args);
  if (Refused(wait, request, reply)) return;
  const auto& targets = std::get<std::vector<ResolvedTarget>>(resolved);
  for (const ResolvedTarget& target : targets) {
    if (!target.instance) continue;
    reply(proto::Response::Failure(
        request.id,
        {error_code::kInvalidArgument,
         fmt::format("with_dependents stops whole programs; name {}, not "
                     "{}:{}",
                     target.program->name(), target.program->name(),
                     *target.instance)}));
    return;
  }
  // Every program stopped, the targets and what depends on them, once.
  std::vector<Program*> programs;
  auto add = [&](Program* program) {
    if (std::find(programs.begin(), programs.end(), program) ==
        programs.end()) {
      programs.push_back(program);
    }
  };
  for (const ResolvedTarget& target : targets) {
    for (Program* dependent :
         supervisor_.dependencies().Dependents(*target.program)) {
      add(dependent);
    }
    add(target.program);
  }
  std::vector<WorkerRef> refs;
  for (const Program* program : programs) {
    for (int i = 0; i < program->wanted(); ++i) {
      refs.push_back({program->name(), i});
    }
  }
  auto pending = std::make_shared<int>(static_cast<int>(targets.size()));
  auto answer = [this, id = request.id, reply, refs] {
    std::vector<std::string> failures;
    for (const WorkerRef& ref : refs) {
      const Worker* worker = Find(ref);
      if (worker != nullptr && worker->HasProcess()) {
        failures.push_back(FailureSentence(*worker));
      }
    }
    Json result = {{"workers", WorkersJson(refs)}};
    if (failures.empty()) {
      reply(proto::Response::Success(id, std::move(result)));
    } else {
      reply(proto::Response::Failure(id, {error_code::kFailed, failures.front()},
                                     std::move(result)));
    }
  };
  const bool waits = std::get<bool>(wait);
  for (const ResolvedTarget& target : targets) {
    supervisor_.StopWithDependents(
        *target.program, [pending, answer, waits, reply] {
          if (--*pending == 0 && waits && reply.Connected()) answer();
        });
  }
  if (!waits) {
    reply(proto::Response::Success(request.id,
                                   {{"workers", WorkersJson(refs)}}));
  }
}

void ControlCommands::ActOnTargets(const proto::Request& request, Reply& reply,
                                   const ProgramAction& program_action,
                                   const WorkerAction& worker_action,
                                   bool must_be_ready,
                                   bool instances_busy_while_rolling,
                                   Json extra) {
  auto resolved = ResolveTargets(supervisor_, request.args);
  if (Refused(resolved, request, reply)) return;
  for (const ResolvedTarget& target :
       std::get<std::vector<ResolvedTarget>>(resolved)) {
    if (!instances_busy_while_rolling || !target.instance) continue;
    if (auto busy = BusyError(*target.program)) {
      reply(proto::Response::Failure(request.id, *busy));
      return;
    }
  }
  auto wait = WaitArgument(request.args);
  if (Refused(wait, request, reply)) return;
  std::vector<WorkerRef> refs;
  for (const ResolvedTarget& target :
       std::get<std::vector<ResolvedTarget>>(resolved)) {
    if (target.instance) {
      worker_action(*target.program, *target.instance);
      refs.push_back({target.program->name(), *target.instance});
      continue;
    }
    program_action(*target.program);
    for (int i = 0; i < target.program->wanted(); ++i) {
      refs.push_back({target.program->name(), i});
    }
  }
  AnswerWhenSettled(request, std::move(reply), std::move(refs), must_be_ready,
                    std::move(extra));
}

void ControlCommands::AnswerWhenSettled(const proto::Request& request,
                                        Reply reply,
                                        std::vector<WorkerRef> refs,
                                        bool must_be_ready, Json extra) {
  auto answer = [this, id = request.id, reply, refs, must_be_ready, extra] {
    std::vector<std::string> failures;
    for (const WorkerRef& ref : refs) {
      const Worker* worker = Find(ref);
      if (worker == nullptr) continue;
      // A stop fails when the worker runs again (started meanwhile).
      bool failed =
          must_be_ready ? !worker->Succeeded() : worker->HasProcess();
      if (failed) failures.push_back(FailureSentence(*worker));
    }
    Json result = {{"workers", WorkersJson(refs)}};
    result.update(extra);
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
    Json result = {{"workers", WorkersJson(refs)}};
    result.update(extra);
    reply(proto::Response::Success(request.id, std::move(result)));
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
  if (Refused(wait, request, reply)) return;
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
            if (!worker.Succeeded()) {
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
