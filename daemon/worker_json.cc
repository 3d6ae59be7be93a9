#include "daemon/worker_json.h"

#include <fmt/format.h>

#include <chrono>

namespace workerd {
namespace {

using proto::Json;

std::int64_t MillisecondsSince(TimePoint then, TimePoint now) {
  return std::chrono::duration_cast<Duration>(now - then).count();
}

Json ExitJson(const std::optional<ExitStatus>& exit) {
  if (!exit) return nullptr;
  Json json = {{"code", nullptr}, {"signal", nullptr}, {"text", exit->Describe()}};
  if (exit->kind == ExitStatus::Kind::kExited) json["code"] = exit->code;
  if (exit->kind == ExitStatus::Kind::kKilled) json["signal"] = exit->signal;
  return json;
}

Json PidJson(pid_t pid) { return pid > 0 ? Json(pid) : Json(nullptr); }

}  // namespace

std::string TargetName(const Worker& worker) {
  return fmt::format("{}:{}", worker.spec().name, worker.instance());
}

std::string FailureSentence(const Worker& worker) {
  return fmt::format("{} is {}: {}", TargetName(worker),
                     WorkerStateName(worker.state()), worker.message());
}

Json WorkerJson(const Worker& worker, TimePoint now, const char* handover) {
  Json json = {
      {"program", worker.spec().name},
      {"instance", worker.instance()},
      {"state", std::string(WorkerStateName(worker.state()))},
      {"pid", nullptr},
      {"uptime_ms", nullptr},
      {"state_ms", MillisecondsSince(worker.state_since(), now)},
      {"restarts", worker.restarts()},
      {"last_exit", ExitJson(worker.last_exit())},
      {"message", worker.message()},
      {"notify_status", worker.notify_status()},
      {"handover", handover ? Json(handover) : Json(nullptr)},
  };
  if (worker.HasProcess()) {
    json["pid"] = worker.pid();
    json["uptime_ms"] = MillisecondsSince(*worker.process_started(), now);
  }
  return json;
}

void AddInstancesJson(const Program& program, std::optional<int> only,
                      TimePoint now, Json& instances) {
  for (const auto& worker : program.workers()) {
    if (only && worker->instance() != *only) continue;
    const Worker* candidate = program.FindCandidate(worker->instance());
    instances.push_back(WorkerJson(*worker, now, candidate ? "old" : nullptr));
    if (candidate) instances.push_back(WorkerJson(*candidate, now, "new"));
  }
}

Json ProgressJson(const RolloutProgress& progress) {
  return {{"program", progress.program},
          {"instance", progress.instance},
          {"step", RolloutStepName(progress.step)},
          {"old_pid", PidJson(progress.old_pid)},
          {"new_pid", PidJson(progress.new_pid)},
          {"done", progress.done},
          {"total", progress.total}};
}

}  // namespace workerd
