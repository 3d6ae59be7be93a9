#include "daemon/config_diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace workerd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Keys = std::vector<std::string>;

SocketSpec Socket(const std::string& name, int port, int line) {
  SocketSpec socket;
  socket.name = name;
  socket.listen.family = ListenAddress::Family::kInet;
  socket.listen.host = "127.0.0.1";
  socket.listen.port = port;
  socket.position = {line, 1};
  return socket;
}

ProgramSpec Program(const std::string& name, int workers, int line,
                    std::vector<std::string> sockets = {}) {
  ProgramSpec program;
  program.name = name;
  program.command = {"/usr/bin/" + name, "--port", "{fd:http}"};
  program.workers = workers;
  program.sockets = std::move(sockets);
  program.log = LogMode::kFile;
  program.log_written = true;
  program.log_dir = "/var/log/app";
  program.position = {line, 1};
  return program;
}

// [socket.http] and [socket.admin]; web (4 workers on http), api (1 on
// admin) and jobs (2, no socket).
Config Base() {
  Config config;
  config.path = "workers.toml";
  config.sockets = {Socket("http", 8000, 1), Socket("admin", 9000, 4)};
  config.programs = {Program("web", 4, 10, {"http"}),
                     Program("api", 1, 20, {"admin"}), Program("jobs", 2, 30)};
  config.programs[2].depends_on = {
      {"api", DependencyCondition::kReady, {31, 15}}};
  return config;
}

ProgramSpec& Find(Config& config, const std::string& name) {
  return *std::ranges::find(config.programs, name, &ProgramSpec::name);
}

SocketSpec& FindSocket(Config& config, const std::string& name) {
  return *std::ranges::find(config.sockets, name, &SocketSpec::name);
}

std::vector<std::string> Names(const ConfigDiff& diff) {
  std::vector<std::string> names;
  for (const ProgramDiff& program : diff.programs) {
    names.push_back(program.name);
  }
  return names;
}

std::vector<std::string> Summaries(const ConfigDiff& diff) {
  std::vector<std::string> lines;
  for (const ProgramDiff& program : diff.programs) {
    lines.push_back(DescribeProgramDiff(program));
  }
  return lines;
}

// What the diff should say about a change of one ProgramSpec field.
struct FieldChange {
  std::string field;    // for messages
  ProgramSpec changed;  // `web` of Base() with that field changed
  // The key reported; "" when the change is to be ignored, "workers" for a
  // scale and "name" for a removed and an added program.
  std::string key;
};

// One case per field of ProgramSpec. The structured binding names every
// field: when ProgramSpec gains one this stops compiling. Add the field to
// the binding, a case below, and the key to kProgramKeys in config_diff.cc.
std::vector<FieldChange> EveryProgramFieldChanged() {
  const ProgramSpec base = Base().programs[0];
  std::vector<FieldChange> cases;
  for (int field = 0;; ++field) {
    ProgramSpec spec = base;
    auto& [name, command, type, workers, directory, env, uid, gid, user,
           restart, start_period, stop_signal, stop_timeout, backoff,
           crash_limit, autostart, depends_on, restart_with_dependency, sockets,
           ready, ready_timeout, watchdog, log, log_written, log_dir,
           log_max_size, log_keep, log_timestamps, log_buffer, watch, ignore,
           watch_debounce, watch_directory, position] = spec;
    auto add = [&](std::string field_name, std::string key) {
      cases.push_back({std::move(field_name), spec, std::move(key)});
    };
    // One line per field.
    // clang-format off
    switch (field) {
      case 0: name = "www"; add("name", "name"); break;
      case 1: command.push_back("--debug"); add("command", "command"); break;
      case 2: type = ProgramType::kOneshot; add("type", "type"); break;
      case 3: workers = 8; add("workers", "workers"); break;
      case 4: directory = "/srv/web"; add("directory", "directory"); break;
      case 5: env = {{"PORT", "8000"}}; add("env", "env"); break;
      case 6: uid = 1000; add("uid", "user"); break;
      case 7: gid = 1000; add("gid", "group"); break;
      case 8: user = "web"; add("user", "user"); break;
      case 9: restart = RestartPolicy::kNever; add("restart", "restart"); break;
      case 10: start_period = seconds(5); add("start_period", "start_period"); break;
      case 11: stop_signal = 2; add("stop_signal", "stop_signal"); break;
      case 12: stop_timeout = seconds(3); add("stop_timeout", "stop_timeout"); break;
      case 13: backoff.max = seconds(5); add("backoff", "backoff"); break;
      case 14: crash_limit.restarts = 9; add("crash_limit", "crash_limit"); break;
      case 15: autostart = false; add("autostart", "autostart"); break;
      case 16: depends_on = {{"api", DependencyCondition::kStarted, {}}}; add("depends_on", "depends_on"); break;
      case 17: restart_with_dependency = true; add("restart_with_dependency", "restart_with_dependency"); break;
      case 18: sockets.push_back("admin"); add("sockets", "sockets"); break;
      case 19: ready = Readiness::kNotify; add("ready", "ready"); break;
      case 20: ready_timeout = seconds(9); add("ready_timeout", "ready_timeout"); break;
      case 21: watchdog = seconds(30); add("watchdog", "watchdog"); break;
      case 22: log = LogMode::kJournal; add("log", "log"); break;
      case 23: log_written = false; add("log_written", ""); break;
      case 24: log_dir = "/var/log/web"; add("log_dir", "log_dir"); break;
      case 25: log_max_size = 1 << 10; add("log_max_size", "log_max_size"); break;
      case 26: log_keep = 1; add("log_keep", "log_keep"); break;
      case 27: log_timestamps = false; add("log_timestamps", "log_timestamps"); break;
      case 28: log_buffer = 0; add("log_buffer", "log_buffer"); break;
      case 29: watch = {"src/**/*.py"}; add("watch", "watch"); break;
      case 30: ignore = {"tmp/"}; add("ignore", "ignore"); break;
      case 31: watch_debounce = milliseconds(50); add("watch_debounce", "watch_debounce"); break;
      case 32: watch_directory = "/srv/web"; add("watch_directory", "watch"); break;
      case 33: position = {99, 1}; add("position", ""); break;
      default: return cases;
    }
    // clang-format on
  }
}

const std::set<std::string> kRollingKeys = {
    "command", "env",   "directory", "user", "group",   "sockets",
    "type",    "ready", "watchdog",  "log",  "log_dir", "log_timestamps"};
const std::set<std::string> kUpdatingKeys = {
    "restart",       "backoff",
    "crash_limit",   "start_period",
    "stop_signal",   "stop_timeout",
    "ready_timeout", "autostart",
    "depends_on",    "restart_with_dependency",
    "log_max_size",  "log_keep",
    "log_buffer",    "watch",
    "ignore",        "watch_debounce"};

ConfigDiff DiffWithWeb(const ProgramSpec& web) {
  Config next = Base();
  next.programs[0] = web;
  return DiffConfigs(Base(), next);
}

TEST(ConfigDiffTest, IdenticalConfigsHaveNoChanges) {
  ConfigDiff diff = DiffConfigs(Base(), Base());
  EXPECT_FALSE(diff.HasChanges());
  ASSERT_EQ(Names(diff), (Keys{"web", "api", "jobs"}));
  for (const ProgramDiff& program : diff.programs) {
    EXPECT_EQ(program.kind, ProgramChangeKind::kUnchanged) << program.name;
    EXPECT_TRUE(program.changed_keys.empty());
    EXPECT_FALSE(program.Scaled());
  }
  EXPECT_EQ(diff.FindProgram("web")->workers_from, 4);
  EXPECT_EQ(diff.FindProgram("web")->workers_to, 4);
  ASSERT_EQ(diff.sockets.size(), 2u);
  for (const SocketDiff& socket : diff.sockets) {
    EXPECT_EQ(socket.kind, SocketChangeKind::kUnchanged) << socket.name;
  }
  EXPECT_EQ(diff.daemon, DaemonDiff{});
}

TEST(ConfigDiffTest, ProgramAdded) {
  Config next = Base();
  next.programs.push_back(Program("mail", 3, 40));
  ConfigDiff diff = DiffConfigs(Base(), next);
  EXPECT_TRUE(diff.HasChanges());
  EXPECT_EQ(*diff.FindProgram("mail"),
            (ProgramDiff{"mail", ProgramChangeKind::kAdded, {}, 0, 3}));
  EXPECT_FALSE(diff.FindProgram("mail")->Scaled());
  EXPECT_EQ(diff.FindProgram("web")->kind, ProgramChangeKind::kUnchanged);
}

TEST(ConfigDiffTest, ProgramRemoved) {
  Config next = Base();
  next.programs.erase(next.programs.begin() + 1);  // api
  next.programs[1].depends_on.clear();             // jobs needed it
  ConfigDiff diff = DiffConfigs(Base(), next);
  EXPECT_EQ(Names(diff), (Keys{"web", "jobs", "api"}));
  EXPECT_EQ(diff.programs[2],
            (ProgramDiff{"api", ProgramChangeKind::kRemoved, {}, 1, 0}));
  EXPECT_FALSE(diff.programs[2].Scaled());
  EXPECT_EQ(diff.programs[1].kind, ProgramChangeKind::kUpdated);
  EXPECT_EQ(diff.programs[1].changed_keys, Keys{"depends_on"});
}

TEST(ConfigDiffTest, EachRollingKeyRolls) {
  std::set<std::string> seen;
  for (const FieldChange& change : EveryProgramFieldChanged()) {
    if (!kRollingKeys.contains(change.key)) continue;
    SCOPED_TRACE(change.field);
    seen.insert(change.key);
    ProgramDiff diff = DiffWithWeb(change.changed).programs[0];
    EXPECT_EQ(diff.kind, ProgramChangeKind::kRolled);
    EXPECT_EQ(diff.changed_keys, Keys{change.key});
    EXPECT_FALSE(diff.Scaled());
  }
  EXPECT_EQ(seen, kRollingKeys);
}

TEST(ConfigDiffTest, EachUpdatingKeyUpdates) {
  std::set<std::string> seen;
  for (const FieldChange& change : EveryProgramFieldChanged()) {
    if (!kUpdatingKeys.contains(change.key)) continue;
    SCOPED_TRACE(change.field);
    seen.insert(change.key);
    ProgramDiff diff = DiffWithWeb(change.changed).programs[0];
    EXPECT_EQ(diff.kind, ProgramChangeKind::kUpdated);
    EXPECT_EQ(diff.changed_keys, Keys{change.key});
    EXPECT_FALSE(diff.Scaled());
  }
  EXPECT_EQ(seen, kUpdatingKeys);
}

TEST(ConfigDiffTest, EveryProgramSpecFieldIsCovered) {
  for (const FieldChange& change : EveryProgramFieldChanged()) {
    SCOPED_TRACE(change.field);
    ConfigDiff diff = DiffWithWeb(change.changed);
    if (change.key == "name") {
      EXPECT_EQ(diff.FindProgram("www")->kind, ProgramChangeKind::kAdded);
      EXPECT_EQ(diff.FindProgram("web")->kind, ProgramChangeKind::kRemoved);
    } else if (change.key == "workers") {
      EXPECT_EQ(diff.programs[0].kind, ProgramChangeKind::kUnchanged);
      EXPECT_TRUE(diff.programs[0].Scaled());
    } else if (change.key.empty()) {
      EXPECT_FALSE(diff.HasChanges());
    } else {
      EXPECT_TRUE(kRollingKeys.contains(change.key) ||
                  kUpdatingKeys.contains(change.key))
          << "a new key: say whether it rolls or updates";
      EXPECT_EQ(diff.programs[0].changed_keys, Keys{change.key});
    }
  }
}

TEST(ConfigDiffTest, WorkersAloneIsAScale) {
  Config next = Base();
  Find(next, "jobs").workers = 4;
  Find(next, "web").workers = 0;
  ConfigDiff diff = DiffConfigs(Base(), next);
  EXPECT_TRUE(diff.HasChanges());
  const ProgramDiff& jobs = *diff.FindProgram("jobs");
  EXPECT_EQ(jobs.kind, ProgramChangeKind::kUnchanged);
  EXPECT_TRUE(jobs.changed_keys.empty());
  EXPECT_TRUE(jobs.Scaled());
  EXPECT_EQ(jobs.workers_from, 2);
  EXPECT_EQ(jobs.workers_to, 4);
  EXPECT_TRUE(diff.FindProgram("web")->Scaled());
  EXPECT_FALSE(diff.FindProgram("api")->Scaled());
}

TEST(ConfigDiffTest, WorkersWithCommandRollsAndScales) {
  Config next = Base();
  Find(next, "web").workers = 8;
  Find(next, "web").command.push_back("--fast");
  ProgramDiff web = DiffConfigs(Base(), next).programs[0];
  EXPECT_EQ(web.kind, ProgramChangeKind::kRolled);
  EXPECT_EQ(web.changed_keys, Keys{"command"});
  EXPECT_TRUE(web.Scaled());
  EXPECT_EQ(web.workers_from, 4);
  EXPECT_EQ(web.workers_to, 8);
}

TEST(ConfigDiffTest, RolledProgramListsItsUpdatingKeysToo) {
  Config next = Base();
  Find(next, "web").backoff.initial = milliseconds(500);
  Find(next, "web").env = {{"A", "1"}};
  ProgramDiff web = DiffConfigs(Base(), next).programs[0];
  EXPECT_EQ(web.kind, ProgramChangeKind::kRolled);
  EXPECT_EQ(web.changed_keys, (Keys{"env", "backoff"}));
}

TEST(ConfigDiffTest, ChangedKeysComeInTheOrderOfProgramSpec) {
  Config next = Base();
  ProgramSpec& web = Find(next, "web");
  web.log_buffer = 0;
  web.restart = RestartPolicy::kOnFailure;
  web.env = {{"A", "1"}};
  web.command = {"/bin/true"};
  web.watchdog = seconds(10);
  ProgramDiff diff = DiffConfigs(Base(), next).programs[0];
  EXPECT_EQ(diff.changed_keys,
            (Keys{"command", "env", "restart", "watchdog", "log_buffer"}));
}

TEST(ConfigDiffTest, SocketChangeRollsOnlyTheProgramsUsingIt) {
  Config running = Base();
  Find(running, "jobs").sockets = {"admin", "http"};
  Config next = running;
  FindSocket(next, "http").listen.port = 8080;
  ConfigDiff diff = DiffConfigs(running, next);
  EXPECT_EQ(*diff.FindSocket("http"),
            (SocketDiff{"http", SocketChangeKind::kChanged, {"listen"}}));
  EXPECT_EQ(diff.FindSocket("admin")->kind, SocketChangeKind::kUnchanged);

  const ProgramDiff& web = *diff.FindProgram("web");
  EXPECT_EQ(web.kind, ProgramChangeKind::kRolled);
  EXPECT_EQ(web.changed_keys, Keys{"socket.http"});
  EXPECT_EQ(diff.FindProgram("api")->kind, ProgramChangeKind::kUnchanged);
  EXPECT_EQ(diff.FindProgram("jobs")->kind, ProgramChangeKind::kRolled);
  EXPECT_EQ(diff.FindProgram("jobs")->changed_keys, Keys{"socket.http"});
}

TEST(ConfigDiffTest, SocketKeysFollowTheProgramsOwnKeysInSocketsOrder) {
  Config running = Base();
  Find(running, "web").sockets = {"http", "admin"};
  Config next = running;
  Find(next, "web").sockets = {"admin", "http"};
  Find(next, "web").backoff.max = seconds(1);
  FindSocket(next, "http").backlog = 16;
  FindSocket(next, "admin").balance = Balance::kReuseport;
  ProgramDiff web = DiffConfigs(running, next).programs[0];
  EXPECT_EQ(web.kind, ProgramChangeKind::kRolled);
  EXPECT_EQ(web.changed_keys,
            (Keys{"backoff", "sockets", "socket.admin", "socket.http"}));
}

TEST(ConfigDiffTest, SocketsAddedRemovedChangedUnchanged) {
  Config running = Base();
  running.sockets.push_back(Socket("old", 7000, 7));
  Config next = Base();
  next.sockets.insert(next.sockets.begin(), Socket("metrics", 9100, 1));
  FindSocket(next, "admin").listen = {ListenAddress::Family::kUnix, "", 0,
                                      "/run/admin.sock"};
  FindSocket(next, "admin").mode = 0600;
  Find(next, "api").sockets = {"admin", "metrics"};
  ConfigDiff diff = DiffConfigs(running, next);
  EXPECT_EQ(diff.sockets,
            (std::vector<SocketDiff>{
                {"metrics", SocketChangeKind::kAdded, {}},
                {"http", SocketChangeKind::kUnchanged, {}},
                {"admin", SocketChangeKind::kChanged, {"listen", "mode"}},
                {"old", SocketChangeKind::kRemoved, {}},
            }));
  EXPECT_EQ(diff.FindProgram("api")->changed_keys,
            (Keys{"sockets", "socket.admin"}));
  EXPECT_EQ(diff.FindProgram("web")->kind, ProgramChangeKind::kUnchanged);
  EXPECT_TRUE(diff.HasChanges());
}

TEST(ConfigDiffTest, SocketRemovedAloneIsAChange) {
  Config running = Base();
  running.sockets.push_back(Socket("old", 7000, 7));
  ConfigDiff diff = DiffConfigs(running, Base());
  EXPECT_TRUE(diff.HasChanges());
  EXPECT_EQ(diff.FindSocket("old")->kind, SocketChangeKind::kRemoved);
}

// One case per field of SocketSpec; the structured binding stops compiling
// when SocketSpec gains one (see EveryProgramFieldChanged).
TEST(ConfigDiffTest, EverySocketSpecFieldIsCovered) {
  const Config running = Base();
  for (int field = 0;; ++field) {
    Config next = running;
    auto& [name, listen, backlog, balance, mode, owner_uid, group_gid,
           position] = FindSocket(next, "http");
    std::string key;
    // One line per field.
    // clang-format off
    switch (field) {
      case 0: name = "web"; key = "name"; break;
      case 1: listen.host = "0.0.0.0"; key = "listen"; break;
      case 2: backlog = 1; key = "backlog"; break;
      case 3: balance = Balance::kReuseport; key = "balance"; break;
      case 4: mode = 0600; key = "mode"; break;
      case 5: owner_uid = 1000; key = "owner"; break;
      case 6: group_gid = 1000; key = "group"; break;
      case 7: position = {50, 1}; key = ""; break;
      default: return;
    }
    // clang-format on
    SCOPED_TRACE(field);
    ConfigDiff diff = DiffConfigs(running, next);
    if (key == "name") {
      EXPECT_EQ(diff.FindSocket("web")->kind, SocketChangeKind::kAdded);
      EXPECT_EQ(diff.FindSocket("http")->kind, SocketChangeKind::kRemoved);
    } else if (key.empty()) {
      EXPECT_FALSE(diff.HasChanges());
    } else {
      EXPECT_EQ(*diff.FindSocket("http"),
                (SocketDiff{"http", SocketChangeKind::kChanged, {key}}));
      EXPECT_EQ(diff.FindProgram("web")->changed_keys, Keys{"socket.http"});
    }
  }
}

TEST(ConfigDiffTest, PositionOnlyChangesAreNoChange) {
  Config next = Base();
  // The tables move around in the file: other order, other lines.
  std::reverse(next.programs.begin(), next.programs.end());
  std::reverse(next.sockets.begin(), next.sockets.end());
  for (ProgramSpec& program : next.programs) program.position.line += 100;
  for (SocketSpec& socket : next.sockets) socket.position = {3, 5};
  Find(next, "jobs").depends_on[0].position = {140, 20};
  ConfigDiff diff = DiffConfigs(Base(), next);
  EXPECT_FALSE(diff.HasChanges());
  EXPECT_EQ(Names(diff), (Keys{"jobs", "api", "web"}));  // the new order
}

TEST(ConfigDiffTest, ResultOrderIsNewFileThenRemovedInOldOrder) {
  Config running = Base();
  running.programs.push_back(Program("old", 1, 40));
  running.programs.insert(running.programs.begin(), Program("first", 1, 5));
  Config next = Base();
  Find(next, "jobs").depends_on.clear();
  next.programs.erase(next.programs.begin() + 1);  // api
  next.programs.insert(next.programs.begin(), Program("new", 1, 5));
  std::swap(next.programs[1], next.programs[2]);  // jobs before web
  ConfigDiff diff = DiffConfigs(running, next);
  EXPECT_EQ(Names(diff), (Keys{"new", "jobs", "web", "first", "api", "old"}));
}

TEST(ConfigDiffTest, DependsOnConditionChangeUpdates) {
  Config next = Base();
  Find(next, "jobs").depends_on[0].condition = DependencyCondition::kStarted;
  ProgramDiff jobs = *DiffConfigs(Base(), next).FindProgram("jobs");
  EXPECT_EQ(jobs.kind, ProgramChangeKind::kUpdated);
  EXPECT_EQ(jobs.changed_keys, Keys{"depends_on"});
}

TEST(ConfigDiffTest, LogDirMattersOnlyWhenLoggingToFiles) {
  Config running = Base();
  for (ProgramSpec& program : running.programs) {
    program.log = LogMode::kJournal;
  }
  Find(running, "web").log = LogMode::kFile;
  Config next = running;
  // [daemon] log_dir moved, and with it every program's default.
  next.daemon.log_dir = "/srv/log";
  for (ProgramSpec& program : next.programs) program.log_dir = "/srv/log";
  ConfigDiff diff = DiffConfigs(running, next);
  EXPECT_EQ(diff.FindProgram("web")->kind, ProgramChangeKind::kRolled);
  EXPECT_EQ(diff.FindProgram("web")->changed_keys, Keys{"log_dir"});
  EXPECT_EQ(diff.FindProgram("api")->kind, ProgramChangeKind::kUnchanged);
  EXPECT_EQ(diff.FindProgram("jobs")->kind, ProgramChangeKind::kUnchanged);
  EXPECT_EQ(diff.daemon.reloadable_keys, Keys{"log_dir"});

  // Into file logging from elsewhere: both keys.
  Find(next, "api").log = LogMode::kFile;
  EXPECT_EQ(DiffConfigs(running, next).FindProgram("api")->changed_keys,
            (Keys{"log", "log_dir"}));
}

TEST(ConfigDiffTest, DaemonKeysAreSplitByHowTheyApply) {
  Config next = Base();
  next.daemon.control_socket = "/run/other.sock";
  next.daemon.control_mode = 0600;
  next.daemon.control_group = "wheel";
  next.daemon.shutdown_timeout = seconds(5);
  next.daemon.log_level = LogLevel::kDebug;
  next.daemon.log_dir = "/srv/log";
  ConfigDiff diff = DiffConfigs(Base(), next);
  EXPECT_TRUE(diff.HasChanges());
  EXPECT_EQ(diff.daemon.reloadable_keys,
            (Keys{"shutdown_timeout", "log_level", "log_dir"}));
  EXPECT_EQ(diff.daemon.restart_keys,
            (Keys{"control_socket", "control_mode", "control_group"}));
  for (const ProgramDiff& program : diff.programs) {
    EXPECT_EQ(program.kind, ProgramChangeKind::kUnchanged);
  }
}

// One case per field of DaemonSpec; the structured binding stops compiling
// when DaemonSpec gains one.
TEST(ConfigDiffTest, EveryDaemonSpecFieldIsCovered) {
  for (int field = 0;; ++field) {
    Config next = Base();
    auto& [control_socket, control_mode, control_group, control_group_gid,
           shutdown_timeout, log_level, log_dir, dev] = next.daemon;
    DaemonDiff expected;
    // One line per field.
    // clang-format off
    switch (field) {
      case 0: control_socket = "/x"; expected.restart_keys = {"control_socket"}; break;
      case 1: control_mode = 0666; expected.restart_keys = {"control_mode"}; break;
      case 2: control_group = "g"; expected.restart_keys = {"control_group"}; break;
      case 3: control_group_gid = 5; expected.restart_keys = {"control_group"}; break;
      case 4: shutdown_timeout = seconds(1); expected.reloadable_keys = {"shutdown_timeout"}; break;
      case 5: log_level = LogLevel::kError; expected.reloadable_keys = {"log_level"}; break;
      case 6: log_dir = "/y"; expected.reloadable_keys = {"log_dir"}; break;
      case 7: dev = true; expected.restart_keys = {"dev"}; break;
      default: return;
    }
    // clang-format on
    SCOPED_TRACE(field);
    EXPECT_EQ(DiffConfigs(Base(), next).daemon, expected);
  }
}

TEST(ConfigDiffTest, WatchSettingsUpdateInPlace) {
  Config running = Base();
  Find(running, "web").watch = {"src/**/*.py"};
  Find(running, "web").watch_directory = "/srv/web";
  Config next = running;
  ProgramSpec& web = Find(next, "web");
  web.watch.push_back("templates/");
  web.ignore = {"*.log"};
  web.watch_debounce = seconds(1);
  ProgramDiff diff = DiffConfigs(running, next).programs[0];
  EXPECT_EQ(diff.kind, ProgramChangeKind::kUpdated);
  EXPECT_EQ(diff.changed_keys, (Keys{"watch", "ignore", "watch_debounce"}));
  EXPECT_EQ(DescribeProgramDiff(diff),
            "web: updated (watch, ignore, watch_debounce)");
}

TEST(ConfigDiffTest, MovedDirectoryRollsAndMovesTheWatch) {
  Config running = Base();
  Find(running, "web").watch = {"src/"};
  Find(running, "web").watch_directory = "/srv/web";
  Config next = running;
  Find(next, "web").directory = "/srv/web2";
  Find(next, "web").watch_directory = "/srv/web2";
  ProgramDiff diff = DiffConfigs(running, next).programs[0];
  EXPECT_EQ(diff.kind, ProgramChangeKind::kRolled);
  EXPECT_EQ(diff.changed_keys, (Keys{"directory", "watch"}));
}

TEST(ConfigDiffTest, FindReturnsNullForUnknownNames) {
  ConfigDiff diff = DiffConfigs(Base(), Base());
  EXPECT_EQ(diff.FindProgram("nope"), nullptr);
  EXPECT_EQ(diff.FindSocket("nope"), nullptr);
}

TEST(ConfigDiffSummaryTest, OneLinePerProgram) {
  Config running = Base();
  running.programs.push_back(Program("old", 1, 40));
  running.programs.push_back(Program("db", 1, 50));
  Config next = Base();
  next.programs.push_back(Program("db", 1, 50));
  Find(next, "web").command.push_back("--fast");
  Find(next, "web").env = {{"A", "1"}};
  Find(next, "jobs").workers = 4;
  Find(next, "api").restart = RestartPolicy::kOnFailure;
  Find(next, "api").backoff.max = seconds(1);
  next.programs.insert(next.programs.begin() + 1, Program("mail", 2, 15));
  EXPECT_EQ(Summaries(DiffConfigs(running, next)),
            (Keys{"web: rolled (command, env)", "mail: added",
                  "api: updated (restart, backoff)", "jobs: scaled 2 -> 4",
                  "db: unchanged", "old: removed"}));
}

TEST(ConfigDiffSummaryTest, RolledOrUpdatedAndScaled) {
  Config next = Base();
  FindSocket(next, "http").listen.port = 8001;
  Find(next, "web").workers = 8;
  Find(next, "api").stop_timeout = seconds(2);
  Find(next, "api").workers = 3;
  ConfigDiff diff = DiffConfigs(Base(), next);
  EXPECT_EQ(Summaries(diff), (Keys{"web: rolled (socket.http); scaled 4 -> 8",
                                   "api: updated (stop_timeout); scaled 1 -> 3",
                                   "jobs: unchanged"}));
}

TEST(ConfigDiffSummaryTest, Sockets) {
  Config running = Base();
  running.sockets.push_back(Socket("old", 7000, 7));
  Config next = Base();
  next.sockets.push_back(Socket("metrics", 9100, 8));
  FindSocket(next, "http").listen.port = 8001;
  FindSocket(next, "http").backlog = 8;
  std::vector<std::string> lines;
  for (const SocketDiff& socket : DiffConfigs(running, next).sockets) {
    lines.push_back(DescribeSocketDiff(socket));
  }
  EXPECT_EQ(lines, (Keys{"socket.http: changed (listen, backlog)",
                         "socket.admin: unchanged", "socket.metrics: added",
                         "socket.old: removed"}));
}

TEST(ConfigDiffSummaryTest, KindNames) {
  EXPECT_EQ(ProgramChangeKindName(ProgramChangeKind::kRolled), "rolled");
  EXPECT_EQ(ProgramChangeKindName(ProgramChangeKind::kUpdated), "updated");
  EXPECT_EQ(ProgramChangeKindName(ProgramChangeKind::kAdded), "added");
  EXPECT_EQ(ProgramChangeKindName(ProgramChangeKind::kRemoved), "removed");
  EXPECT_EQ(ProgramChangeKindName(ProgramChangeKind::kUnchanged), "unchanged");
  EXPECT_EQ(SocketChangeKindName(SocketChangeKind::kChanged), "changed");
  EXPECT_EQ(SocketChangeKindName(SocketChangeKind::kUnchanged), "unchanged");
}

}  // namespace
}  // namespace workerd
