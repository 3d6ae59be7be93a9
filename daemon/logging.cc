#include "daemon/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace workerd {
namespace {

// JOURNAL_STREAM ("DEV:INODE") names the journal stream systemd connected
// to our stderr. It is inherited, so it only counts when stderr is still
// that stream (systemd.exec(5)): redirected elsewhere, stderr it is.
bool StderrIsTheJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat status;
  if (::fstat(2, &status) != 0) return false;
  return status.st_dev == device && status.st_ino == inode;
}

}  // namespace

void SetUpLogging() {
  std::shared_ptr<spdlog::logger> logger;
  // When our stderr goes to the journal, logging natively keeps each
  // message's priority. Elsewhere the journal sink would drop messages
  // silently, so stderr it is.
  if (StderrIsTheJournal()) {
    logger = std::make_shared<spdlog::logger>(
        "workerd", std::make_shared<spdlog::sinks::systemd_sink_mt>("workerd"));
    logger->set_pattern("%v");
  } else {
    // Plain unless UseColourLogs says otherwise: the sink's own choice
    // (any terminal) would ignore NO_COLOR and development mode.
    logger = std::make_shared<spdlog::logger>(
        "workerd", std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
                       spdlog::color_mode::never));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  }
  // Every line is written as it happens: a crash loses nothing.
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

bool ColourWanted(int fd, const char* const* environ) {
  if (::isatty(fd) != 1) return false;
  for (const char* const* entry = environ; entry && *entry; ++entry) {
    const std::string_view variable = *entry;
    if (variable.starts_with("NO_COLOR=") && variable.size() > 9) return false;
    if (variable == "TERM=dumb") return false;
  }
  return true;
}

void UseColourLogs(bool colour) {
  const auto mode =
      colour ? spdlog::color_mode::always : spdlog::color_mode::never;
  for (const spdlog::sink_ptr& sink : spdlog::default_logger()->sinks()) {
    if (auto* stderr_sink =
            dynamic_cast<spdlog::sinks::stderr_color_sink_mt*>(sink.get())) {
      stderr_sink->set_color_mode(mode);
    }
  }
}

void SetLogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      spdlog::set_level(spdlog::level::trace);
      return;
    case LogLevel::kDebug:
      spdlog::set_level(spdlog::level::debug);
      return;
    case LogLevel::kInfo:
      spdlog::set_level(spdlog::level::info);
      return;
    case LogLevel::kWarn:
      spdlog::set_level(spdlog::level::warn);
      return;
    case LogLevel::kError:
      spdlog::set_level(spdlog::level::err);
      return;
  }
}

}  // namespace workerd
