#include "daemon/control_commands.h"

#include <fmt/format.h>

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
