// What a live reload has to do: the difference between the running Config
// and one newly read from workers.toml. A pure function of the two values,
// no I/O; the caller (`workerctl reload`) applies it and logs it.
//
// Nothing here looks at where a table was written: a `position` (of a
// program, a socket or a depends_on entry) never counts as a change, so
// moving a table in the file changes nothing. ProgramSpec::log_written is
// ignored too; apply the same ApplyLogDefault to both configs first, and a
// `log` left to the default compares as the mode it resolved to.
//
// Adding a field to ProgramSpec, SocketSpec or DaemonSpec: add one line to
// the key table of that spec in config_diff.cc (the key as written in
// workers.toml, how to compare it, and how a change takes effect) and the
// field to the structured binding beside that table, which stops compiling
// until the field is named there; then add a case to the matching
// `Every*FieldIsCovered` test in tests/unit/config_diff_test.cc, whose
// structured binding stops compiling as well.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"

namespace workerd {

// What happened to a program's definition. The worker count is separate
// (ProgramDiff::Scaled): a program can be kUnchanged and scaled.
enum class ProgramChangeKind {
  kUnchanged,  // every key is equal (`workers` aside)
  kAdded,      // only in the new config
  kRemoved,    // only in the running config
  // Only keys that take effect without new processes changed (restart,
  // backoff, crash_limit, start_period, stop_signal, stop_timeout,
  // ready_timeout, autostart, depends_on, restart_with_dependency,
  // log_max_size, log_keep, log_buffer, watch, ignore, watch_debounce; in
  // development mode the program's watcher is rebuilt): the running
  // workers get the new spec and keep running.
  kUpdated,
  // At least one key that needs new processes changed (command, env,
  // directory, user, group, sockets, type, ready, watchdog, log, log_dir,
  // log_timestamps), or the definition of a socket the program lists: its
  // workers are replaced, by a rolling restart.
  kRolled,
};

struct ProgramDiff {
  std::string name;
  ProgramChangeKind kind = ProgramChangeKind::kUnchanged;
  // kUpdated and kRolled: every key whose value differs, as written in
  // workers.toml ("command", "env", "backoff", ...) in the order of
  // ProgramSpec's fields, then "socket.NAME" for each socket the new spec
  // lists whose [socket.NAME] table changed, in the order of its `sockets`.
  // A kRolled program lists the keys that only update as well: the new
  // processes get them too. `workers` is never listed. Empty for the other
  // kinds.
  std::vector<std::string> changed_keys;
  // The worker counts: from is 0 for kAdded, to is 0 for kRemoved.
  int workers_from = 0;
  int workers_to = 0;

  // A program in both configs whose worker count changed. A kRolled program
  // can be scaled as well; the caller chooses whether to scale before or
  // after the rollout.
  bool Scaled() const;
  bool operator==(const ProgramDiff&) const = default;
};

enum class SocketChangeKind {
  kUnchanged,  // keeps its listeners and file descriptors
  kAdded,      // to be bound
  kRemoved,    // to be closed once no worker has it any more
  kChanged,    // a field other than `position` differs: it must be rebound
};

struct SocketDiff {
  std::string name;
  SocketChangeKind kind = SocketChangeKind::kUnchanged;
  // kChanged: the keys of [socket.NAME] that differ, as written ("listen",
  // "backlog", "balance", "mode", "owner", "group"), in SocketSpec's order.
  std::vector<std::string> changed_keys;

  bool operator==(const SocketDiff&) const = default;
};

// The [daemon] keys that differ, as written in workers.toml, in DaemonSpec's
// order, split by how a change can take effect.
struct DaemonDiff {
  // A reload applies these: shutdown_timeout, log_level, and log_dir (which
  // already resolved into each ProgramSpec's log_dir, so the programs it
  // moves show up with their own "log_dir" key).
  std::vector<std::string> reloadable_keys;
  // Only a restart of workerd applies these (control_socket, control_mode,
  // control_group, dev): the caller refuses the reload or warns that they
  // wait.
  std::vector<std::string> restart_keys;

  bool operator==(const DaemonDiff&) const = default;
};

struct ConfigDiff {
  // The programs of the new config in its order (every one, unchanged ones
  // included), then the removed ones in the order of the running config.
  std::vector<ProgramDiff> programs;
  // The same for sockets.
  std::vector<SocketDiff> sockets;
  DaemonDiff daemon;

  // False when a reload has nothing to do: every program and socket is
  // kUnchanged and not scaled, and no [daemon] key differs.
  bool HasChanges() const;
  // The entry of `name`, or null.
  const ProgramDiff* FindProgram(std::string_view name) const;
  const SocketDiff* FindSocket(std::string_view name) const;
};

// Both configs are loaded ones (names are unique, every socket a program
// lists exists in its config). Program and socket identity is the name: a
// renamed table is one removed and one added.
ConfigDiff DiffConfigs(const Config& running, const Config& next);

// "rolled", "updated", "added", "removed", "unchanged".
std::string_view ProgramChangeKindName(ProgramChangeKind kind);
// "changed", "added", "removed", "unchanged".
std::string_view SocketChangeKindName(SocketChangeKind kind);

// One line for the log and the reload answer:
//   "web: rolled (command, env)"
//   "web: rolled (socket.http); scaled 4 -> 8"
//   "web: updated (backoff)"
//   "jobs: scaled 2 -> 4"
//   "api: added"   "old: removed"   "db: unchanged"
std::string DescribeProgramDiff(const ProgramDiff& diff);
// "socket.http: changed (listen, backlog)", "socket.admin: added", ...
std::string DescribeSocketDiff(const SocketDiff& diff);

}  // namespace workerd
