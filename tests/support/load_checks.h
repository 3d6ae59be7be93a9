// Small helpers for the end-to-end tests that put HTTP load on workers while
// workerd replaces them (rolling restarts, real servers): waiting for the
// load loop to make progress, reading the pids out of answer bodies, and
// reporting the numbers.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

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

}  // namespace workerd::e2e
