// `reload` (PROTOCOL.md): workers.toml read again and applied by the
// supervisor; this follows what it set in motion and answers per program.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "daemon/control_arguments.h"
#include "daemon/control_commands.h"
#include "daemon/worker_json.h"

namespace workerd {

using proto::Json;
namespace error_code = proto::error_code;

namespace {

// What one `reload` request is waiting for.
struct PendingReload {
  Json id;
  Reply reply;
  bool wait = true;
  ReloadPlan plan;
  int rollouts_running = 0;
  std::map<std::string, RolloutResult> rollouts;
};

Json ReloadJson(const ReloadPlan& plan, bool dry_run,
                const std::string& config_path) {
  Json programs = Json::array();
  for (const ProgramReload& program : plan.programs) {
    programs.push_back({{"name", program.name},
                        {"action", std::string(ReloadActionName(program.action))},
                        {"changes", program.changes},
                        {"from", program.from},
                        {"to", program.to},
                        {"ok", program.ok},
                        {"message", program.message}});
  }
  Json sockets = Json::array();
  for (const SocketDiff& socket : plan.diff.sockets) {
    sockets.push_back(
        {{"name", socket.name},
         {"action", std::string(SocketChangeKindName(socket.kind))},
         {"changes", socket.changed_keys}});
  }
  return {{"dry_run", dry_run},
          {"config", config_path},
          {"programs", std::move(programs)},
          {"sockets", std::move(sockets)},
          {"warnings", plan.warnings}};
}

// The first worker of a running program that did not reach its aim.
std::optional<std::string> ProgramFailure(const Program& program) {
  if (!program.active()) return std::nullopt;
  for (const auto& worker : program.workers()) {
    if (!worker->Succeeded()) return FailureSentence(*worker);
  }
  return std::nullopt;
}

}  // namespace

void ControlCommands::Reload(const proto::Request& request, Reply& reply) {
  auto dry_run = BoolArgument(request.args, "dry_run", false);
  if (Refused(dry_run, request, reply)) return;
  auto wait = WaitArgument(request.args);
  if (Refused(wait, request, reply)) return;

  auto pending = std::make_shared<PendingReload>();
  pending->id = request.id;
  pending->reply = reply;
  pending->wait = std::get<bool>(wait);
  auto observe = [this, pending](const std::string&) {
    ++pending->rollouts_running;
    RolloutObserver observer;
    observer.on_progress = [pending](const RolloutProgress& progress) {
      if (!pending->wait) return;
      pending->reply(proto::Response::Interim(
          pending->id, {{"progress", ProgressJson(progress)}}));
    };
    observer.on_finished = [this, pending](const RolloutResult& result) {
      --pending->rollouts_running;
      pending->rollouts[result.program] = result;
      supervisor_.CheckSoon();
    };
    return observer;
  };
  const std::string path = supervisor_.config().path;
  auto outcome = supervisor_.Reload(std::get<bool>(dry_run), observe);
  if (auto* error = std::get_if<ReloadError>(&outcome)) {
    std::string message;
    for (const std::string& line : error->messages) {
      message += (message.empty() ? "" : "\n") + line;
    }
    if (error->config_invalid) {
      reply(proto::Response::Failure(request.id,
                                     {error_code::kConfigInvalid, message},
                                     Json{{"errors", error->messages}}));
    } else {
      reply(proto::Response::Failure(request.id,
                                     {error_code::kFailed, message}));
    }
    return;
  }
  pending->plan = std::move(std::get<ReloadPlan>(outcome));
  if (std::get<bool>(dry_run) || !pending->wait) {
    reply(proto::Response::Success(
        request.id, ReloadJson(pending->plan, std::get<bool>(dry_run), path)));
    return;
  }

  auto settled = [this, pending] {
    return pending->rollouts_running == 0 &&
           supervisor_.ReloadSettled(pending->plan);
  };
  auto answer = [this, pending, path] {
    std::string first_failure;
    for (ProgramReload& entry : pending->plan.programs) {
      const Program* program = supervisor_.FindProgram(entry.name);
      if (auto rollout = pending->rollouts.find(entry.name);
          rollout != pending->rollouts.end()) {
        entry.ok = rollout->second.ok;
        if (!entry.ok) entry.message = rollout->second.message;
      } else if (program != nullptr &&
                 (entry.action == ReloadAction::kStarted ||
                  entry.action == ReloadAction::kRestarted ||
                  entry.action == ReloadAction::kScaled)) {
        if (auto failure = ProgramFailure(*program)) {
          entry.ok = false;
          entry.message = *failure;
        }
      }
      if (!entry.ok && first_failure.empty()) {
        first_failure = fmt::format("{}: {}", entry.name, entry.message);
      }
    }
    Json result = ReloadJson(pending->plan, false, path);
    if (first_failure.empty()) {
      pending->reply(proto::Response::Success(pending->id, std::move(result)));
    } else {
      pending->reply(proto::Response::Failure(
          pending->id, {error_code::kFailed, first_failure}, std::move(result)));
    }
  };
  supervisor_.WhenSettled(std::move(settled), std::move(answer),
                          [reply] { return !reply.Connected(); });
}

}  // namespace workerd
