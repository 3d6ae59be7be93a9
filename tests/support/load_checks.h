// Small helpers for the end-to-end tests that put HTTP load on workers while
// workerd replaces them (rolling restarts, real servers): the slots of the
// program `web` those tests run, a `workerctl` command run under load,
// reading the pids out of answer bodies, and reporting the numbers.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/harness.h"
#include "tests/support/harness_http.h"

namespace workerd::e2e {

inline HttpTarget TcpTarget(int port) {
  HttpTarget target;
  target.port = port;
  return target;
}

// Polls until `load` has `count` more answers than `from`; adds a failure
// after `deadline`.
inline bool WaitForRequests(const LoadLoop& load, int from, int count,
                            Millis deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (load.requests() < from + count) {
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "the load loop got only " << load.requests() - from
                    << " of " << count << " answers within " << deadline.count()
                    << " ms";
      return false;
    }
    std::this_thread::sleep_for(Millis(5));  // polling, not a proof
  }
  return true;
}

// The pids of web:0 .. web:`workers - 1` (0 for a slot without a process).
inline std::vector<pid_t> SlotPids(const Json& status, int workers) {
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) pids.push_back(PidOf(status, "web", i));
  return pids;
}

// Whether `status` shows exactly `workers` rows for web, all ready and none
// in a hand-over.
inline bool SettledReady(const Json& status, int workers) {
  if (!AllInState(status, "web", workers, "ready")) return false;
  std::vector<Json> rows = Workers(status, "web");
  if (static_cast<int>(rows.size()) != workers) return false;
  for (const Json& row : rows) {
    if (!row["handover"].is_null()) return false;
  }
  return true;
}

// The pids named in answer bodies that start "instance=N pid=P".
inline std::set<pid_t> AnsweringPids(const LoadResult& result) {
  std::set<pid_t> pids;
  for (const auto& [body, count] : result.bodies) {
    int instance = 0;
    int pid = 0;
    if (std::sscanf(body.c_str(), "instance=%d pid=%d", &instance, &pid) == 2) {
      pids.insert(pid);
    }
  }
  return pids;
}

// "ok=N failed=N retried=N" and the first errors, one a line.
inline std::string DescribeLoad(const LoadResult& result) {
  std::ostringstream text;
  text << "ok=" << result.ok << " failed=" << result.failed
       << " retried=" << result.retried;
  for (const std::string& error : result.errors) text << "\n  " << error;
  return text.str();
}

// The numbers go into the test's output and its XML properties.
inline void ReportLoad(const LoadResult& result) {
  std::cout << "[   LOAD   ] " << DescribeLoad(result) << std::endl;
  ::testing::Test::RecordProperty("ok", result.ok);
  ::testing::Test::RecordProperty("failed", result.failed);
  ::testing::Test::RecordProperty("retried", result.retried);
}

// Expects answers from one of `old_pids` and from one of `new_pids`:
// clients were served before and after the replacement. `what` names the
// processes in the failures ("no answer from an old worker").
inline void ExpectOldAndNewAnswered(const LoadResult& result,
                                    const std::vector<pid_t>& old_pids,
                                    const std::vector<pid_t>& new_pids,
                                    std::string_view what) {
  const std::set<pid_t> answered = AnsweringPids(result);
  bool old_answered = false;
  bool new_answered = false;
  for (pid_t pid : old_pids) old_answered |= answered.count(pid) > 0;
  for (pid_t pid : new_pids) new_answered |= answered.count(pid) > 0;
  EXPECT_TRUE(old_answered) << "no answer from an old " << what;
  EXPECT_TRUE(new_answered) << "no answer from a new " << what;
}

// A workerctl command run while clients kept sending requests.
struct LoadedCommand {
  CommandResult result;
  LoadResult load;
  int during = 0;  // answers while the command ran
  Millis took{0};  // how long the command ran
};

// Starts four clients sending GET / to `target` (reusing connections with
// `keep_alive`), waits for `answers` answers, runs workerctl with `args`,
// waits for `answers` more (from whatever serves after the command), then
// stops the clients and reports the totals. nullopt, with a failure, when
// the answers do not come within `deadline`, which also bounds workerctl.
inline std::optional<LoadedCommand> RunCtlUnderLoad(
    Daemon& daemon, const std::vector<std::string>& args,
    const HttpTarget& target, bool keep_alive, int answers,
    Millis deadline = kDeadline) {
  LoadLoop load(target, 4, keep_alive);
  if (!WaitForRequests(load, 0, answers, deadline)) return std::nullopt;
  LoadedCommand command;
  const int before = load.requests();
  const auto started = std::chrono::steady_clock::now();
  command.result = daemon.RunCtl(args, deadline);
  command.took = std::chrono::duration_cast<Millis>(
      std::chrono::steady_clock::now() - started);
  command.during = load.requests() - before;
  const bool more = WaitForRequests(load, load.requests(), answers, deadline);
  command.load = load.Stop();
  ReportLoad(command.load);
  if (!more) return std::nullopt;
  return command;
}

}  // namespace workerd::e2e
