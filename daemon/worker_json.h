// How workers and rollout steps are written in control answers: the
// WORKER object and the progress of a rolling restart (PROTOCOL.md).
#pragma once

#include <optional>
#include <string>

#include "daemon/event_loop.h"
#include "daemon/program.h"
#include "daemon/rollout.h"
#include "daemon/worker.h"
#include "proto/message.h"

namespace workerd {

// Workers are named in answers as they are in targets: "web:2".
std::string TargetName(const Worker& worker);

// "web:2 is fatal: gave up after 5 restarts within 60s; ..."
std::string FailureSentence(const Worker& worker);

// The WORKER object. `handover`: during a rollout, "old" for the slot's
// serving worker and "new" for the candidate started beside it.
proto::Json WorkerJson(const Worker& worker, TimePoint now,
                       const char* handover = nullptr);

// Appends the instances of `program` (only instance `only` when given) to
// `instances`, a candidate right after its slot's worker.
void AddInstancesJson(const Program& program, std::optional<int> only,
                      TimePoint now, proto::Json& instances);

// One step of a rollout, as sent in an interim response.
proto::Json ProgressJson(const RolloutProgress& progress);

}  // namespace workerd
