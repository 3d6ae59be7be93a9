// How a worker's process ended, and the sentence that says so.
#pragma once

#include <signal.h>

#include <string>

namespace workerd {

struct ExitStatus {
  enum class Kind { kExited, kKilled, kSpawnFailed };
  Kind kind = Kind::kExited;
  int code = 0;    // kExited: the exit status
  int signal = 0;  // kKilled: the signal
  bool core_dumped = false;
  std::string spawn_error;  // kSpawnFailed: SpawnError::ToString()
  // Why workerd killed it, when it did so for a failure of the worker's
  // ("it sent no READY=1 within 60s"); empty otherwise.
  std::string cause;

  static ExitStatus FromSiginfo(const siginfo_t& info);
  static ExitStatus SpawnFailed(std::string error);

  // A clean exit in the sense of `restart = "on-failure"`.
  bool Success() const { return kind == Kind::kExited && code == 0; }

  // "exited with status 1", "killed by SIGKILL", "killed by SIGSEGV (core
  // dumped)", "killed by SIGKILL because it sent no WATCHDOG=1 for 30s",
  // or the spawn error.
  std::string Describe() const;
};

}  // namespace workerd
