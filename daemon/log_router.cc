#include "daemon/log_router.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

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

}  // namespace

LogRouter::LogRouter(EventLoop& loop) : loop_(loop), mailbox_(loop) {}

LogRouter::~LogRouter() {
  // Each program's captures are read one last time, then every writer
  // writes what it holds before its thread ends.
  programs_.clear();
  stdout_writer_.reset();
  stderr_writer_.reset();
}

std::variant<std::unique_ptr<LogRouter>, std::string> LogRouter::Open(
    EventLoop& loop, const Config& config) {
  std::unique_ptr<LogRouter> router(new LogRouter(loop));
  for (const ProgramSpec& program : config.programs) {
    if (program.log == LogMode::kInherit && !router->stdout_writer_) {
      router->stdout_writer_ =
          LogWriter::ForStream(STDOUT_FILENO, "stdout", router->mailbox_);
      router->stderr_writer_ =
          LogWriter::ForStream(STDERR_FILENO, "stderr", router->mailbox_);
    }
  }
  for (const ProgramSpec& program : config.programs) {
    std::unique_ptr<LogWriter> file;
    if (program.log == LogMode::kFile) {
      if (std::string error = MakeDirectory(program.log_dir); !error.empty()) {
        return "program \"" + program.name + "\": " + error;
      }
      auto opened = LogWriter::ForFile(
          program.log_dir + "/" + program.name + ".log",
          Rotation{program.log_max_size, program.log_keep}, router->mailbox_);
      if (auto* error = std::get_if<std::string>(&opened)) {
        return "program \"" + program.name + "\": " + *error;
      }
      file = std::move(std::get<std::unique_ptr<LogWriter>>(opened));
    }
    const bool inherit = program.log == LogMode::kInherit;
    router->programs_.push_back(std::make_unique<ProgramLog>(
        loop, program, std::move(file),
        inherit ? router->stdout_writer_.get() : nullptr,
        inherit ? router->stderr_writer_.get() : nullptr));
  }
  return router;
}

ProgramLog* LogRouter::Find(std::string_view program) const {
  for (const auto& log : programs_) {
    if (log->program() == program) return log.get();
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
  for (const auto& log : programs_) {
    if (log->file_writer() == nullptr) continue;
    const std::size_t index = pending->results.size();
    pending->results.push_back({log->file_writer()->name(), {}});
    ++pending->waiting;
    log->file_writer()->Reopen([pending, index](std::string error) {
      pending->results[index].error = std::move(error);
      if (--pending->waiting == 0) pending->done(std::move(pending->results));
    });
  }
  if (pending->waiting == 0) {
    loop_.RunSoon([pending] { pending->done({}); });
  }
}

}  // namespace workerd
