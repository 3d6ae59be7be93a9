// Owns where every program's output goes: one ProgramLog per program, the
// log files (opened, and their directories made, before any worker
// starts), and the writers of workerd's own stdout and stderr for programs
// with log = "inherit".
//
// A reload applies a new Config in two steps, so that the caller can still
// give up after the first: Stage does everything that can fail (makes the
// directories and opens the new files), Commit cannot fail. A program's
// ProgramLog outlives a reload that changes its log: workers hold it. One
// the new Config removed stays until Forget, because the captures of its
// last workers may still deliver output.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/event_loop.h"
#include "daemon/log_writer.h"
#include "daemon/loop_mailbox.h"
#include "daemon/program_log.h"

namespace workerd {

// Development mode on a terminal (ColourWanted): the prefix of lines that
// programs with log = "inherit" write to workerd's stdout or stderr is
// coloured, one colour per program.
struct LogColours {
  bool stdout_lines = false;
  bool stderr_lines = false;
};

class LogRouter {
 public:
  // An error names the program and the file or directory that cannot be
  // opened or made: `program "web": cannot create the log directory ...`.
  static std::variant<std::unique_ptr<LogRouter>, std::string> Open(
      EventLoop& loop, const Config& config, LogColours colours = {});
  ~LogRouter();
  LogRouter(const LogRouter&) = delete;
  LogRouter& operator=(const LogRouter&) = delete;

  // What Stage prepared for Commit. Dropped instead, it leaves nothing
  // behind but the directories made and the (possibly new, empty) files
  // opened. It must not outlive the router that made it.
  class Staged {
   public:
    Staged(Staged&&) = default;
    Staged& operator=(Staged&&) = default;

   private:
    friend class LogRouter;
    Staged() = default;

    std::unique_ptr<LogWriter> stdout_writer;
    std::unique_ptr<LogWriter> stderr_writer;
    // Per program whose file is new: added, switched to `file`, or moved
    // by a changed log_dir.
    std::vector<std::pair<std::string, std::unique_ptr<LogWriter>>> files;
  };
  // Prepares the logs of `next`; an error is as Open's, and changes
  // nothing.
  std::variant<Staged, std::string> Stage(const Config& next);
  // Applies `next`, which `staged` was made for by the last Stage; cannot
  // fail. Added programs get a log. A changed program keeps its ProgramLog,
  // reconfigured in place (ProgramLog::Reconfigure): from now on, whatever
  // its workers write, old ones included, goes to the new destination;
  // followers keep following. Rotation changed on the same file is applied
  // by its writer, which keeps the file open. A removed program keeps its
  // log, and its destination, until Forget.
  void Commit(Staged staged, const Config& next);
  // Drops the log of a program the config no longer has, once none of its
  // workers is left (their captures refer to it). Does nothing for a
  // program of the current config (one added back by a later reload).
  void Forget(std::string_view program);

  // Colours from now on (development mode switched by a reload).
  void SetColours(LogColours colours);

  // Null for a program that is neither in the config nor removed from it
  // and not forgotten yet.
  ProgramLog* Find(std::string_view program) const;

  // The paths of the current config's log files, in program order.
  std::vector<std::string> FilePaths() const;

  struct Reopened {
    std::string path;
    std::string error;  // empty when reopened
  };
  // Reopens every log file by its path (logrotate moved them), those of
  // removed programs not forgotten yet included; `done` runs once all
  // have been reopened, with one entry per file.
  void ReopenFiles(std::function<void(std::vector<Reopened>)> done);

 private:
  LogRouter(EventLoop& loop, LogColours colours);

  // Takes the log of `program` out of programs_ or removed_; null if none.
  std::unique_ptr<ProgramLog> Take(std::string_view program);
  void ApplyColours(ProgramLog& log);

  EventLoop& loop_;
  LoopMailbox mailbox_;
  LogColours colours_;
  // The palette index of each program, in the order they first appeared.
  std::map<std::string, std::size_t, std::less<>> colour_index_;
  std::size_t next_colour_ = 0;
  // Declared before the programs' logs, which write to them.
  std::unique_ptr<LogWriter> stdout_writer_;
  std::unique_ptr<LogWriter> stderr_writer_;
  std::vector<std::unique_ptr<ProgramLog>> programs_;  // the config's order
  std::vector<std::unique_ptr<ProgramLog>> removed_;   // until Forget
};

}  // namespace workerd
