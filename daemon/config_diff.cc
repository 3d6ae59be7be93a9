#include "daemon/config_diff.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace workerd {
namespace {

// How a change of one key takes effect.
enum class Effect {
  kInPlace,         // the running objects take the new value
  kNewProcesses,    // a program's workers are replaced
  kRebind,          // a socket is bound anew
  kRestartWorkerd,  // [daemon]: only a restart of workerd applies it
};

// One key of a table in workers.toml, and how to tell whether it changed.
template <typename Spec>
struct Key {
  std::string_view name;  // as written in workers.toml
  bool (*same)(const Spec&, const Spec&);
  Effect effect;
};

template <auto member>
bool Same(const auto& a, const auto& b) {
  return a.*member == b.*member;
}

bool SameDependencies(const ProgramSpec& a, const ProgramSpec& b) {
  // Where an entry was written is no change.
  return std::ranges::equal(a.depends_on, b.depends_on,
                            [](Dependency x, const Dependency& y) {
                              x.position = y.position;
                              return x == y;
                            });
}

bool SameUser(const ProgramSpec& a, const ProgramSpec& b) {
  return a.uid == b.uid && a.user == b.user;
}

bool SameWatch(const ProgramSpec& a, const ProgramSpec& b) {
  // The same patterns anchored somewhere else watch other files.
  return a.watch == b.watch && a.watch_directory == b.watch_directory;
}

bool SameLogDir(const ProgramSpec& a, const ProgramSpec& b) {
  // Only `file` writes under log_dir; elsewhere it is a default that moves
  // with [daemon]'s and means nothing (a change of `log` itself is "log").
  if (a.log != LogMode::kFile && b.log != LogMode::kFile) return true;
  return a.log_dir == b.log_dir;
}

// Every key of [program.NAME] but `workers` (a scale, not a change of the
// definition), in the order of ProgramSpec's fields.
constexpr Key<ProgramSpec> kProgramKeys[] = {
    {"command", Same<&ProgramSpec::command>, Effect::kNewProcesses},
    {"type", Same<&ProgramSpec::type>, Effect::kNewProcesses},
    {"directory", Same<&ProgramSpec::directory>, Effect::kNewProcesses},
    {"env", Same<&ProgramSpec::env>, Effect::kNewProcesses},
    {"user", SameUser, Effect::kNewProcesses},
    // The resolved gid: a new user with another primary group counts.
    {"group", Same<&ProgramSpec::gid>, Effect::kNewProcesses},
    {"restart", Same<&ProgramSpec::restart>, Effect::kInPlace},
    {"start_period", Same<&ProgramSpec::start_period>, Effect::kInPlace},
    {"stop_signal", Same<&ProgramSpec::stop_signal>, Effect::kInPlace},
    {"stop_timeout", Same<&ProgramSpec::stop_timeout>, Effect::kInPlace},
    {"backoff", Same<&ProgramSpec::backoff>, Effect::kInPlace},
    {"crash_limit", Same<&ProgramSpec::crash_limit>, Effect::kInPlace},
    {"autostart", Same<&ProgramSpec::autostart>, Effect::kInPlace},
    {"depends_on", SameDependencies, Effect::kInPlace},
    {"restart_with_dependency", Same<&ProgramSpec::restart_with_dependency>,
     Effect::kInPlace},
    {"sockets", Same<&ProgramSpec::sockets>, Effect::kNewProcesses},
    {"ready", Same<&ProgramSpec::ready>, Effect::kNewProcesses},
    {"ready_timeout", Same<&ProgramSpec::ready_timeout>, Effect::kInPlace},
    {"watchdog", Same<&ProgramSpec::watchdog>, Effect::kNewProcesses},
    {"log", Same<&ProgramSpec::log>, Effect::kNewProcesses},
    {"log_dir", SameLogDir, Effect::kNewProcesses},
    {"log_max_size", Same<&ProgramSpec::log_max_size>, Effect::kInPlace},
    {"log_keep", Same<&ProgramSpec::log_keep>, Effect::kInPlace},
    {"log_timestamps", Same<&ProgramSpec::log_timestamps>,
     Effect::kNewProcesses},
    {"log_buffer", Same<&ProgramSpec::log_buffer>, Effect::kInPlace},
    // Development mode: the program's watcher is rebuilt, the workers keep
    // running.
    {"watch", SameWatch, Effect::kInPlace},
    {"ignore", Same<&ProgramSpec::ignore>, Effect::kInPlace},
    {"watch_debounce", Same<&ProgramSpec::watch_debounce>, Effect::kInPlace},
};

// Stops compiling when ProgramSpec gains or loses a field. Covered above:
// everything but `name` (the identity), `workers` (ProgramDiff's counts),
// `log_written` and `position` (ignored, see config_diff.h);
// `watch_directory` is part of "watch".
[[maybe_unused]] void ProgramSpecFieldsAreCovered(const ProgramSpec& spec) {
  [[maybe_unused]] const auto& [name, command, type, workers, directory, env,
                                uid, gid, user, restart, start_period,
                                stop_signal, stop_timeout, backoff, crash_limit,
                                autostart, depends_on, restart_with_dependency,
                                sockets, ready, ready_timeout, watchdog, log,
                                log_written, log_dir, log_max_size, log_keep,
                                log_timestamps, log_buffer, watch, ignore,
                                watch_debounce, watch_directory, position] =
      spec;
}

// Every key of [socket.NAME], in the order of SocketSpec's fields.
constexpr Key<SocketSpec> kSocketKeys[] = {
    {"listen", Same<&SocketSpec::listen>, Effect::kRebind},
    {"backlog", Same<&SocketSpec::backlog>, Effect::kRebind},
    {"balance", Same<&SocketSpec::balance>, Effect::kRebind},
    {"mode", Same<&SocketSpec::mode>, Effect::kRebind},
    {"owner", Same<&SocketSpec::owner_uid>, Effect::kRebind},
    {"group", Same<&SocketSpec::group_gid>, Effect::kRebind},
};

// Stops compiling when SocketSpec gains or loses a field; `name` is the
// identity and `position` is ignored.
[[maybe_unused]] void SocketSpecFieldsAreCovered(const SocketSpec& spec) {
  [[maybe_unused]] const auto& [name, listen, backlog, balance, mode, owner_uid,
                                group_gid, position] = spec;
}

bool SameControlGroup(const DaemonSpec& a, const DaemonSpec& b) {
  return a.control_group == b.control_group &&
         a.control_group_gid == b.control_group_gid;
}

// Every key of [daemon], in the order of DaemonSpec's fields.
constexpr Key<DaemonSpec> kDaemonKeys[] = {
    {"control_socket", Same<&DaemonSpec::control_socket>,
     Effect::kRestartWorkerd},
    {"control_mode", Same<&DaemonSpec::control_mode>, Effect::kRestartWorkerd},
    {"control_group", SameControlGroup, Effect::kRestartWorkerd},
    {"shutdown_timeout", Same<&DaemonSpec::shutdown_timeout>, Effect::kInPlace},
    {"log_level", Same<&DaemonSpec::log_level>, Effect::kInPlace},
    // The programs' log_dir defaults to it; they compare on their own.
    {"log_dir", Same<&DaemonSpec::log_dir>, Effect::kInPlace},
    // Which watchers exist is decided once, at start.
    {"dev", Same<&DaemonSpec::dev>, Effect::kRestartWorkerd},
};

// Stops compiling when DaemonSpec gains or loses a field.
[[maybe_unused]] void DaemonSpecFieldsAreCovered(const DaemonSpec& spec) {
  [[maybe_unused]] const auto& [control_socket, control_mode, control_group,
                                control_group_gid, shutdown_timeout, log_level,
                                log_dir, dev] = spec;
}

// The keys of `table` whose values differ between `a` and `b`.
template <typename Spec, std::size_t n>
std::vector<const Key<Spec>*> ChangedKeys(const Key<Spec> (&table)[n],
                                          const Spec& a, const Spec& b) {
  std::vector<const Key<Spec>*> changed;
  for (const Key<Spec>& key : table) {
    if (!key.same(a, b)) changed.push_back(&key);
  }
  return changed;
}

std::vector<SocketDiff> DiffSockets(const Config& running, const Config& next) {
  std::vector<SocketDiff> diffs;
  for (const SocketSpec& socket : next.sockets) {
    SocketDiff& diff = diffs.emplace_back();
    diff.name = socket.name;
    const SocketSpec* old = running.FindSocket(socket.name);
    if (old == nullptr) {
      diff.kind = SocketChangeKind::kAdded;
      continue;
    }
    for (const auto* key : ChangedKeys(kSocketKeys, *old, socket)) {
      diff.changed_keys.emplace_back(key->name);
    }
    if (!diff.changed_keys.empty()) diff.kind = SocketChangeKind::kChanged;
  }
  for (const SocketSpec& socket : running.sockets) {
    if (next.FindSocket(socket.name) != nullptr) continue;
    diffs.push_back({socket.name, SocketChangeKind::kRemoved, {}});
  }
  return diffs;
}

ProgramDiff DiffProgram(const ProgramSpec& old, const ProgramSpec& program,
                        const std::vector<SocketDiff>& sockets) {
  ProgramDiff diff;
  diff.name = program.name;
  diff.workers_from = old.workers;
  diff.workers_to = program.workers;
  bool rolls = false;
  for (const auto* key : ChangedKeys(kProgramKeys, old, program)) {
    diff.changed_keys.emplace_back(key->name);
    rolls = rolls || key->effect == Effect::kNewProcesses;
  }
  // A socket rebound under the same name still needs new processes: the
  // running ones hold the old one.
  for (const std::string& name : program.sockets) {
    auto socket = std::ranges::find(sockets, name, &SocketDiff::name);
    if (socket != sockets.end() && socket->kind == SocketChangeKind::kChanged) {
      diff.changed_keys.push_back("socket." + name);
      rolls = true;
    }
  }
  if (rolls) {
    diff.kind = ProgramChangeKind::kRolled;
  } else if (!diff.changed_keys.empty()) {
    diff.kind = ProgramChangeKind::kUpdated;
  }
  return diff;
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string text;
  for (const std::string& key : keys) {
    if (!text.empty()) text += ", ";
    text += key;
  }
  return text;
}

}  // namespace

bool ProgramDiff::Scaled() const {
  return kind != ProgramChangeKind::kAdded &&
         kind != ProgramChangeKind::kRemoved && workers_from != workers_to;
}

bool ConfigDiff::HasChanges() const {
  bool programs_changed =
      std::ranges::any_of(programs, [](const ProgramDiff& diff) {
        return diff.kind != ProgramChangeKind::kUnchanged || diff.Scaled();
      });
  bool sockets_changed =
      std::ranges::any_of(sockets, [](const SocketDiff& diff) {
        return diff.kind != SocketChangeKind::kUnchanged;
      });
  return programs_changed || sockets_changed ||
         !daemon.reloadable_keys.empty() || !daemon.restart_keys.empty();
}

const ProgramDiff* ConfigDiff::FindProgram(std::string_view name) const {
  auto it = std::ranges::find(programs, name, &ProgramDiff::name);
  return it == programs.end() ? nullptr : &*it;
}

const SocketDiff* ConfigDiff::FindSocket(std::string_view name) const {
  auto it = std::ranges::find(sockets, name, &SocketDiff::name);
  return it == sockets.end() ? nullptr : &*it;
}

ConfigDiff DiffConfigs(const Config& running, const Config& next) {
  ConfigDiff diff;
  diff.sockets = DiffSockets(running, next);
  for (const ProgramSpec& program : next.programs) {
    if (const ProgramSpec* old = running.FindProgram(program.name)) {
      diff.programs.push_back(DiffProgram(*old, program, diff.sockets));
    } else {
      diff.programs.push_back(
          {program.name, ProgramChangeKind::kAdded, {}, 0, program.workers});
    }
  }
  for (const ProgramSpec& program : running.programs) {
    if (next.FindProgram(program.name) != nullptr) continue;
    diff.programs.push_back(
        {program.name, ProgramChangeKind::kRemoved, {}, program.workers, 0});
  }
  for (const auto* key :
       ChangedKeys(kDaemonKeys, running.daemon, next.daemon)) {
    auto& keys = key->effect == Effect::kRestartWorkerd
                     ? diff.daemon.restart_keys
                     : diff.daemon.reloadable_keys;
    keys.emplace_back(key->name);
  }
  return diff;
}

std::string_view ProgramChangeKindName(ProgramChangeKind kind) {
  switch (kind) {
    case ProgramChangeKind::kUnchanged:
      return "unchanged";
    case ProgramChangeKind::kAdded:
      return "added";
    case ProgramChangeKind::kRemoved:
      return "removed";
    case ProgramChangeKind::kUpdated:
      return "updated";
    case ProgramChangeKind::kRolled:
      return "rolled";
  }
  return "unknown";
}

std::string_view SocketChangeKindName(SocketChangeKind kind) {
  switch (kind) {
    case SocketChangeKind::kUnchanged:
      return "unchanged";
    case SocketChangeKind::kAdded:
      return "added";
    case SocketChangeKind::kRemoved:
      return "removed";
    case SocketChangeKind::kChanged:
      return "changed";
  }
  return "unknown";
}

std::string DescribeProgramDiff(const ProgramDiff& diff) {
  std::string line = diff.name + ": ";
  std::string scale = "scaled " + std::to_string(diff.workers_from) + " -> " +
                      std::to_string(diff.workers_to);
  if (diff.kind == ProgramChangeKind::kUnchanged) {
    return line + (diff.Scaled() ? scale : "unchanged");
  }
  line += ProgramChangeKindName(diff.kind);
  if (!diff.changed_keys.empty()) {
    line += " (" + JoinKeys(diff.changed_keys) + ")";
  }
  if (diff.Scaled()) line += "; " + scale;
  return line;
}

std::string DescribeSocketDiff(const SocketDiff& diff) {
  std::string line = "socket." + diff.name + ": ";
  line += SocketChangeKindName(diff.kind);
  if (!diff.changed_keys.empty()) {
    line += " (" + JoinKeys(diff.changed_keys) + ")";
  }
  return line;
}

}  // namespace workerd
