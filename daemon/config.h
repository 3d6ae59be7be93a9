// workers.toml as plain, validated values. Loading has no side effects
// beyond reading the file and resolving user and group names.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/duration.h"  // Duration, and how durations are written
#include "daemon/listen_address.h"

namespace workerd {

// Limits on what a configuration may ask for.
inline constexpr int kMaxPrograms = 256;
inline constexpr int kMaxSockets = 256;
inline constexpr int kMaxWorkersPerProgram = 1024;
// Program names appear in every log line and status row.
inline constexpr int kMaxProgramNameLength = 64;
// The supervisor remembers this many restart times per slot.
inline constexpr int kMaxCrashLimitRestarts = 1000;
// A configuration is read whole into memory.
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

enum class RestartPolicy { kAlways, kOnFailure, kNever };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
// How the workers of a program share a socket: one listener inherited by
// all of them, or one SO_REUSEPORT listener per slot (README, "Sockets").
enum class Balance { kShared, kReuseport };
// When a starting worker counts as ready: after start_period (`exec`), or
// when it sends READY=1 over NOTIFY_SOCKET (`notify`).
enum class Readiness { kExec, kNotify };
// Where a program's output goes (README, "Output"): a file under log_dir,
// the journal (the worker writes to it directly), workerd's own stdout and
// stderr, or nowhere.
enum class LogMode { kFile, kJournal, kInherit, kNull };
// A service is kept running; a oneshot runs to completion once per start
// (of workerd or of the program), and exit 0 is its success.
enum class ProgramType { kService, kOneshot };
// What a program waits for in one of its dependencies: that its workers
// have started, that they are ready, or (a oneshot) that they exited 0.
enum class DependencyCondition { kStarted, kReady, kCompleted };

// Limits on output capture settings.
inline constexpr std::uint64_t kMinLogMaxSize = 1024;
inline constexpr const char* kDefaultLogDir = "/var/log/workerd";
inline constexpr int kMaxLogKeep = 1000;
inline constexpr std::uint64_t kMaxLogBuffer = std::uint64_t{1} << 30;

// Limits on development mode's settings.
inline constexpr int kMaxWatchPatterns = 256;  // in each of watch and ignore
inline constexpr Duration kMinWatchDebounce{10};
inline constexpr Duration kMaxWatchDebounce{60000};

struct Backoff {
  Duration initial{100};
  Duration max{30000};

  bool operator==(const Backoff&) const = default;
};

struct CrashLimit {
  int restarts = 5;        // this many restarts ...
  Duration within{60000};  // ... within this window make the slot fatal

  bool operator==(const CrashLimit&) const = default;
};

// Where something was written in workers.toml (1-based; 0 when unknown).
struct SourcePosition {
  int line = 0;
  int column = 0;

  bool operator==(const SourcePosition&) const = default;
};

// One entry of a program's `depends_on`.
struct Dependency {
  std::string program;
  // As written, or the default for the list form: `completed` for a
  // oneshot dependency, `ready` for a service.
  DependencyCondition condition = DependencyCondition::kReady;
  SourcePosition position;  // of the name in depends_on

  bool operator==(const Dependency&) const = default;
};

struct SocketSpec {
  std::string name;
  ListenAddress listen;
  int backlog = 1024;
  Balance balance = Balance::kShared;
  // Unix sockets only: the socket file's mode and owner.
  unsigned mode = 0666;
  std::optional<uid_t> owner_uid;  // resolved at load from `owner`
  std::optional<gid_t> group_gid;  // resolved at load from `group`
  SourcePosition position;         // of the [socket.NAME] header

  bool operator==(const SocketSpec&) const = default;
};

struct ProgramSpec {
  std::string name;
  // Unexpanded: "{instance}", "{program}" and "{fd:NAME}" are replaced per
  // worker (daemon/expand.h).
  std::vector<std::string> command;
  ProgramType type = ProgramType::kService;
  int workers = 1;
  // Absolute, or empty for workerd's own working directory. Relative paths
  // in the file resolve against the file's directory; it existed at load.
  std::string directory;
  // In the order written; values unexpanded like the command.
  std::vector<std::pair<std::string, std::string>> env;
  std::optional<uid_t> uid;  // from `user`, resolved at load
  std::optional<gid_t> gid;  // from `group`, or the user's primary group
  std::string user;          // as written, for messages; empty when unset
  RestartPolicy restart = RestartPolicy::kAlways;
  Duration start_period{1000};
  int stop_signal = 15;  // SIGTERM
  Duration stop_timeout{10000};
  Backoff backoff;
  CrashLimit crash_limit;
  // false: not started with workerd, only on request or when a program
  // that depends on it starts.
  bool autostart = true;
  // Programs that must meet a condition before this one starts, in the
  // order written; checked to name programs and to make no cycle.
  std::vector<Dependency> depends_on;
  // Restart (roll) this program when a dependency is restarted or started
  // again by request, once the dependency meets its condition again.
  bool restart_with_dependency = false;
  // Names of [socket.NAME] tables, passed at fd 3, 4, ... in this order.
  std::vector<std::string> sockets;
  Readiness ready = Readiness::kExec;
  // `notify` only: a worker that has not sent READY=1 by then is killed
  // and counted as a failed start.
  Duration ready_timeout{60000};
  // Zero: no watchdog. Otherwise a ready worker that sends no WATCHDOG=1
  // for this long is killed and restarted; it gets WATCHDOG_USEC.
  Duration watchdog{0};
  // Where output goes. When the file does not say (`log_written` false),
  // the daemon picks journal or inherit at start (ApplyLogDefault).
  LogMode log = LogMode::kInherit;
  bool log_written = false;
  // `file` only: the directory of NAME.log, absolute; the program's own
  // `log_dir` or [daemon]'s.
  std::string log_dir = kDefaultLogDir;
  // `file` only: rotate NAME.log before it would grow past this (0: never),
  // keeping this many old files (NAME.log.1 is the newest).
  std::uint64_t log_max_size = 100 << 20;
  int log_keep = 5;
  // `file` and `inherit`: each line starts with an RFC 3339 time.
  bool log_timestamps = true;
  // Recent output kept in memory for `workerctl logs` (0: none).
  std::uint64_t log_buffer = 1 << 20;
  // Development mode (README, "Development mode"): in it, the workers are
  // restarted when a file matching a `watch` pattern and no `ignore`
  // pattern changes. Both as written, each checked at load to parse as a
  // WatchPattern (daemon/watch_pattern.h) and listed once; `ignore` and
  // `watch_debounce` are errors without `watch`. The directory a watch
  // pattern is anchored in existed at load.
  std::vector<std::string> watch;
  std::vector<std::string> ignore;
  // Changes less than this apart make one restart; from kMinWatchDebounce
  // to kMaxWatchDebounce.
  Duration watch_debounce{200};
  // What `watch` and `ignore` are relative to, absolute: `directory`, or
  // the directory of workers.toml when the program has none. Empty
  // without `watch`.
  std::string watch_directory;
  SourcePosition position;  // of the [program.NAME] header

  bool operator==(const ProgramSpec&) const = default;
};

struct DaemonSpec {
  // Empty: proto's DefaultControlSocketPath(). A relative path in the file
  // resolves against the file's directory.
  std::string control_socket;
  unsigned control_mode = 0660;
  std::string control_group;               // empty: none
  std::optional<gid_t> control_group_gid;  // resolved at load
  Duration shutdown_timeout{30000};
  LogLevel log_level = LogLevel::kInfo;
  // Where programs with log = "file" write, unless they say otherwise.
  std::string log_dir = kDefaultLogDir;
  // Development mode: watch the programs' `watch` paths. `workerd --dev`
  // turns it on as well; without either, `watch` is read and unused.
  bool dev = false;

  bool operator==(const DaemonSpec&) const = default;
};

struct Config {
  std::string path;  // the file it was read from, as given
  DaemonSpec daemon;
  std::vector<SocketSpec> sockets;    // in the order of the file
  std::vector<ProgramSpec> programs;  // in the order of the file

  const ProgramSpec* FindProgram(std::string_view name) const;
  const SocketSpec* FindSocket(std::string_view name) const;
};

struct ConfigError {
  std::string file;
  SourcePosition position;
  std::string message;  // a sentence without the position

  // `workers.toml:12:3: unknown key "stop_timout" in [program.web] (did you
  // mean "stop_timeout"?)`; the position is left out when unknown:
  // `workers.toml: cannot read: No such file or directory`.
  std::string ToString() const;
};

// Every error found, not just the first; `config` is set only when there
// are none.
struct ConfigLoad {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
};

// Both check what a mistake in the file would otherwise turn into a failure
// at every spawn: that users and groups exist and directories are
// directories. See daemon/duration.h for durations and
// daemon/command_split.h for commands written as one string.
ConfigLoad LoadConfigFile(const std::string& path);
// `file_name` is used in messages, stored as Config::path, and its directory
// is where relative paths resolve (the working directory when it has none).
ConfigLoad ParseConfig(std::string_view text, const std::string& file_name);

std::string_view RestartPolicyName(RestartPolicy policy);  // "on-failure"
std::string_view LogLevelName(LogLevel level);             // "warn"
std::string_view BalanceName(Balance balance);             // "reuseport"
std::string_view ReadinessName(Readiness ready);           // "notify"
std::string_view LogModeName(LogMode mode);                // "journal"
std::string_view ProgramTypeName(ProgramType type);        // "oneshot"
std::string_view DependencyConditionName(DependencyCondition condition);

// The log mode of programs whose file does not set one: the journal when
// workerd runs under systemd (its environment has JOURNAL_STREAM or
// INVOCATION_ID), else workerd's own stdout and stderr.
LogMode DefaultLogMode(const char* const* environ);
void ApplyLogDefault(Config& config, LogMode mode);

}  // namespace workerd
