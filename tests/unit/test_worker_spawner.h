// A Spawner for unit tests: records each request and runs the test worker
// (tests/support/test_worker) in place of the requested command, or fails
// with a chosen SpawnError.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/spawner.h"

namespace workerd {

class TestWorkerSpawner : public Spawner {
 public:
  SpawnResult Spawn(const SpawnRequest& request) override {
    requests.push_back(request);
    if (fail_with) return *fail_with;
    SpawnRequest real = request;
    real.argv = worker_argv;
    // The test worker writes its pidfile once its signal handlers are in
    // place: the proof a test waits for before it signals the worker.
    real.argv.push_back("--pidfile");
    real.argv.push_back(UpFile(requests.size() - 1));
    SpawnResult result = real_.Spawn(real);
    if (auto* process = std::get_if<SpawnedProcess>(&result)) {
      pids.insert(process->pid);
    }
    return result;
  }

  std::string UpFile(std::size_t spawn) const {
    return dir + "/up-" + std::to_string(spawn);
  }

  std::string dir;
  std::vector<SpawnRequest> requests;
  std::optional<SpawnError> fail_with;
  std::vector<std::string> worker_argv = {TEST_WORKER_PATH};
  std::set<pid_t> pids;

 private:
  ProcessSpawner real_;
};

}  // namespace workerd
