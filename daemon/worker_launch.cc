#include "daemon/worker_launch.h"

#include <array>
#include <string_view>

#include "daemon/expand.h"

namespace workerd {
namespace {

std::string_view KeyOf(std::string_view assignment) {
  return assignment.substr(0, assignment.find('='));
}

bool DescribesWorkerdItself(std::string_view key) {
  static constexpr std::array<std::string_view, 6> kExact = {
      "NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC",
      "WORKERD_PROGRAM", "WORKERD_INSTANCE", "INVOCATION_ID"};
  for (std::string_view exact : kExact) {
    if (key == exact) return true;
  }
  return key.starts_with("LISTEN_");
}

void Set(std::vector<std::string>& env, std::string_view key,
         std::string_view value) {
  std::string assignment = std::string(key) + "=" + std::string(value);
  for (std::string& existing : env) {
    if (KeyOf(existing) == key) {
      existing = std::move(assignment);
      return;
    }
  }
  env.push_back(std::move(assignment));
}

}  // namespace

std::vector<std::string> InheritableEnvironment(const char* const* environ) {
  std::vector<std::string> env;
  for (const char* const* p = environ; p != nullptr && *p != nullptr; ++p) {
    std::string_view assignment(*p);
    if (assignment.find('=') == std::string_view::npos) continue;
    if (DescribesWorkerdItself(KeyOf(assignment))) continue;
    env.emplace_back(assignment);
  }
  return env;
}

SpawnRequest MakeSpawnRequest(const ProgramSpec& spec, int instance,
                              const std::vector<std::string>& inherited,
                              const std::string& notify_socket,
                              const WorkerSockets& sockets) {
  const PlaceholderValues values{spec.name, instance, &spec.sockets};
  SpawnRequest request;
  request.argv.reserve(spec.command.size());
  for (const std::string& word : spec.command) {
    request.argv.push_back(ExpandPlaceholders(word, values));
  }
  request.env = inherited;
  // It names workerd's own stderr stream: true of a worker that writes to
  // workerd's stdout and stderr, false of one whose output is captured (or
  // that opens journal streams of its own).
  if (spec.log != LogMode::kInherit) {
    std::erase_if(request.env, [](const std::string& assignment) {
      return KeyOf(assignment) == "JOURNAL_STREAM";
    });
  }
  for (const auto& [key, value] : spec.env) {
    Set(request.env, key, ExpandPlaceholders(value, values));
  }
  Set(request.env, "WORKERD_PROGRAM", spec.name);
  Set(request.env, "WORKERD_INSTANCE", std::to_string(instance));
  if (!notify_socket.empty()) Set(request.env, "NOTIFY_SOCKET", notify_socket);
  if (spec.watchdog.count() > 0) {
    // sd_watchdog_enabled(3) reads microseconds; without WATCHDOG_PID it
    // applies to whichever process reads it.
    Set(request.env, "WATCHDOG_USEC",
        std::to_string(spec.watchdog.count() * 1000));
  }
  request.listen_fds = sockets.fds;
  request.listen_fd_names = sockets.names;
  request.directory = spec.directory;
  request.uid = spec.uid;
  request.gid = spec.gid;
  // If workerd dies, the worker stops the way `workerctl stop` would have
  // stopped it (a pre-fork server takes its own children along); anything
  // left is the service manager's cgroup's to clean up.
  request.parent_death_signal = spec.stop_signal;
  return request;
}

}  // namespace workerd
