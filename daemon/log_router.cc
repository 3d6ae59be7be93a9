#include "daemon/log_router.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "daemon/log_prefix.h"

namespace workerd {
namespace {

// Makes `directory` and its parents (0755), like mkdir -p.
std::string MakeDirectory(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return "cannot create the log directory " + directory + ": " +
           error.message();
  }
  struct stat info;
  if (::stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return "the log directory " + directory + " is not a directory";
  }
  return {};
}

std::string LogFilePath(const ProgramSpec& program) {
  return program.log_dir + "/" + program.name + ".log";
}

std::string ForProgram(const ProgramSpec& program, const std::string& error) {
  return "program \"" + program.name + "\": " + error;
}

}  // namespace

LogRouter::LogRouter(EventLoop& loop, LogColours colours)
    : loop_(loop), mailbox_(loop), colours_(colours) {}

LogRouter::~LogRouter() {
  // Each program's captures are read one last time, then every writer
  // writes what it holds before its thread ends.
  programs_.clear();
  removed_.clear();
  stdout_writer_.reset();
  stderr_writer_.reset();
}

std::variant<std::unique_ptr<LogRouter>, std::string> LogRouter::Open(
    EventLoop& loop, const Config& config, LogColours colours) {
  std::unique_ptr<LogRouter> router(new LogRouter(loop, colours));
  auto staged = router->Stage(config);
  if (auto* error = std::get_if<std::string>(&staged)) return *error;
  router->Commit(std::move(std::get<Staged>(staged)), config);
  return router;
}

std::variant<LogRouter::Staged, std::string> LogRouter::Stage(
    const Config& next) {
  Staged staged;
  const bool inherit = std::any_of(
      next.programs.begin(), next.programs.end(),
      [](const ProgramSpec& p) { return p.log == LogMode::kInherit; });
  if (inherit && !stdout_writer_) {
    staged.stdout_writer =
        LogWriter::ForStream(STDOUT_FILENO, "stdout", mailbox_);
    staged.stderr_writer =
        LogWriter::ForStream(STDERR_FILENO, "stderr", mailbox_);
  }
  for (const ProgramSpec& program : next.programs) {
    if (program.log != LogMode::kFile) continue;
    const std::string path = LogFilePath(program);
    // The same file stays open in its writer: never opened twice at once.
    if (const ProgramLog* log = Find(program.name);
        log != nullptr && log->open_file() != nullptr &&
        log->open_file()->name() == path) {
      continue;
    }
    if (std::string error = MakeDirectory(program.log_dir); !error.empty()) {
      return ForProgram(program, error);
    }
    auto opened = LogWriter::ForFile(
        path, Rotation{program.log_max_size, program.log_keep}, mailbox_);
    if (auto* error = std::get_if<std::string>(&opened)) {
      return ForProgram(program, *error);
    }
    staged.files.emplace_back(
        program.name, std::move(std::get<std::unique_ptr<LogWriter>>(opened)));
  }
  return staged;
}

void LogRouter::Commit(Staged staged, const Config& next) {
  if (staged.stdout_writer) {
    stdout_writer_ = std::move(staged.stdout_writer);
    stderr_writer_ = std::move(staged.stderr_writer);
  }
  std::vector<std::unique_ptr<ProgramLog>> current;
  current.reserve(next.programs.size());
  for (const ProgramSpec& spec : next.programs) {
    std::unique_ptr<LogWriter> file;
    auto staged_file = std::find_if(
        staged.files.begin(), staged.files.end(),
        [&](const auto& entry) { return entry.first == spec.name; });
    if (staged_file != staged.files.end())
      file = std::move(staged_file->second);
    const bool inherit = spec.log == LogMode::kInherit;
    LogWriter* out = inherit ? stdout_writer_.get() : nullptr;
    LogWriter* err = inherit ? stderr_writer_.get() : nullptr;
    std::unique_ptr<ProgramLog> log = Take(spec.name);
    if (log) {
      log->Reconfigure(spec, std::move(file), out, err);
    } else {
      log =
          std::make_unique<ProgramLog>(loop_, spec, std::move(file), out, err);
    }
    if (colour_index_.find(spec.name) == colour_index_.end()) {
      colour_index_.emplace(spec.name, next_colour_++);
    }
    ApplyColours(*log);
    current.push_back(std::move(log));
  }
  // What is left was removed: kept, as it was, until Forget.
  for (auto& log : programs_) {
    if (log) removed_.push_back(std::move(log));
  }
  programs_ = std::move(current);
}

std::unique_ptr<ProgramLog> LogRouter::Take(std::string_view program) {
  for (auto* logs : {&programs_, &removed_}) {
    auto found = std::find_if(logs->begin(), logs->end(), [&](const auto& log) {
      return log && log->program() == program;
    });
    if (found == logs->end()) continue;
    std::unique_ptr<ProgramLog> log = std::move(*found);
    logs->erase(found);
    return log;
  }
  return nullptr;
}

void LogRouter::Forget(std::string_view program) {
  const auto forgotten = std::erase_if(
      removed_, [&](const auto& log) { return log->program() == program; });
  if (forgotten == 0) return;  // unknown, or in the config again
  if (auto index = colour_index_.find(program); index != colour_index_.end()) {
    colour_index_.erase(index);
  }
}

void LogRouter::SetColours(LogColours colours) {
  colours_ = colours;
  for (auto* logs : {&programs_, &removed_}) {
    for (auto& log : *logs) ApplyColours(*log);
  }
}

void LogRouter::ApplyColours(ProgramLog& log) {
  auto index = colour_index_.find(log.program());
  const std::string_view code = index == colour_index_.end()
                                    ? std::string_view()
                                    : ProgramColour(index->second);
  log.SetPrefixColours(colours_.stdout_lines ? code : std::string_view(),
                       colours_.stderr_lines ? code : std::string_view());
}

ProgramLog* LogRouter::Find(std::string_view program) const {
  for (const auto* logs : {&programs_, &removed_}) {
    for (const auto& log : *logs) {
      if (log->program() == program) return log.get();
    }
  }
  return nullptr;
}

std::vector<std::string> LogRouter::FilePaths() const {
  std::vector<std::string> paths;
  for (const auto& log : programs_) {
    if (log->file_writer()) paths.push_back(log->file_writer()->name());
  }
  return paths;
}

void LogRouter::ReopenFiles(std::function<void(std::vector<Reopened>)> done) {
  struct Pending {
    std::vector<Reopened> results;
    std::size_t waiting = 0;
    std::function<void(std::vector<Reopened>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  for (const auto* logs : {&programs_, &removed_}) {
    for (const auto& log : *logs) {
      LogWriter* file = log->open_file();
      if (file == nullptr) continue;
      const std::size_t index = pending->results.size();
      pending->results.push_back({file->name(), {}});
      ++pending->waiting;
      file->Reopen([pending, index](std::string error) {
        pending->results[index].error = std::move(error);
        if (--pending->waiting == 0) pending->done(std::move(pending->results));
      });
    }
  }
  if (pending->waiting == 0) {
    loop_.RunSoon([pending] { pending->done({}); });
  }
}

}  // namespace workerd
