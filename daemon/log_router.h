// Owns where every program's output goes: one ProgramLog per program, the
// log files (opened, and their directories made, before any worker
// starts), and the writers of workerd's own stdout and stderr for programs
// with log = "inherit".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/event_loop.h"
#include "daemon/log_writer.h"
#include "daemon/loop_mailbox.h"
#include "daemon/program_log.h"

namespace workerd {

class LogRouter {
 public:
  // An error names the file or directory that cannot be opened or made.
  static std::variant<std::unique_ptr<LogRouter>, std::string> Open(
      EventLoop& loop, const Config& config);
  ~LogRouter();
  LogRouter(const LogRouter&) = delete;
  LogRouter& operator=(const LogRouter&) = delete;

  // Null for a program the config did not have.
  ProgramLog* Find(std::string_view program) const;

  // The paths of the log files, in program order.
  std::vector<std::string> FilePaths() const;

  struct Reopened {
    std::string path;
    std::string error;  // empty when reopened
  };
  // Reopens every log file by its path (logrotate moved them); `done` runs
  // once all have been reopened, with one entry per file.
  void ReopenFiles(std::function<void(std::vector<Reopened>)> done);

 private:
  explicit LogRouter(EventLoop& loop);

  EventLoop& loop_;
  LoopMailbox mailbox_;
  // Declared before the programs' logs, which write to them.
  std::unique_ptr<LogWriter> stdout_writer_;
  std::unique_ptr<LogWriter> stderr_writer_;
  std::vector<std::unique_ptr<ProgramLog>> programs_;
};

}  // namespace workerd
