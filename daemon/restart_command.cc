// `restart`: rolling by default, at once with `at_once` (PROTOCOL.md).
#include <fmt/format.h>

#include <algorithm>
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
  if (Refused(at_once, request, reply)) return;
  auto resolved = ResolveTargets(supervisor_, request.args);
  if (Refused(resolved, request, reply)) return;
  auto wait = WaitArgument(request.args);
  if (Refused(wait, request, reply)) return;
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
    ActOnTargets(
        request, reply, [](Program& program) { program.Restart(); },
        [](Program& program, int instance) {
          program.FindWorker(instance)->Restart();
        },
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

}  // namespace workerd
