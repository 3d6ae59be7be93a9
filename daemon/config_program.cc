// Reading the [program.NAME] tables of workers.toml
// (daemon/config_loader.h).

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/command_split.h"
#include "daemon/config.h"
#include "daemon/config_loader.h"
#include "daemon/duration.h"
#include "daemon/expand.h"
#include "daemon/signals.h"
#include "daemon/suggest.h"
#include "daemon/toml_reader.h"
#include "daemon/watch_pattern.h"

namespace workerd::config_internal {
namespace {

// Set by workerd in every worker's environment: a value from the file would
// either be overwritten or break socket activation, readiness and the
// watchdog.
constexpr std::string_view kReservedEnv[] = {
    "LISTEN_FDS",    "LISTEN_PID",   "LISTEN_FDNAMES",  "NOTIFY_SOCKET",
    "WATCHDOG_USEC", "WATCHDOG_PID", "WORKERD_PROGRAM", "WORKERD_INSTANCE"};

bool Contains(std::string_view text, char c) {
  return text.find(c) != std::string_view::npos;
}

// `key`'s value as an array, or null after an error that shows
// `example` (`sockets must be an array of socket names like ["http"], not
// a string; write ["http"]`).
const toml::array* ArrayOrError(TableReader& reader, const toml::node& node,
                                std::string_view key,
                                std::string_view example) {
  const toml::array* array = node.as_array();
  if (array != nullptr) return array;
  std::string message = std::string(key) + " must be an array of " +
                        std::string(example) + ", not " + Describe(node);
  if (node.is_string()) {
    message += "; write [" + Quoted(node.as_string()->get()) + "]";
  }
  reader.Error(node, message);
  return nullptr;
}

// Entry `index` of `key`'s array as a string, or null after an error.
const std::string* StringEntryOrError(TableReader& reader,
                                      const toml::node& entry,
                                      std::string_view key,
                                      std::size_t index) {
  if (entry.is_string()) return &entry.as_string()->get();
  reader.Error(entry, std::string(key) + "[" + std::to_string(index) +
                          "] must be a string, not " + Describe(entry));
  return nullptr;
}

// `sockets = ["http", "admin"]`: names of [socket.NAME] tables. Every name
// written goes into `*sockets` once, known or not, so that an unknown one is
// reported here and not again at each {fd:NAME}.
void ReadSocketList(const LoadContext& context, TableReader& reader,
                    const toml::node& node, std::vector<std::string>* sockets) {
  const toml::array* array =
      ArrayOrError(reader, node, "sockets", R"(socket names like ["http"])");
  if (array == nullptr) return;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& entry = *array->get(i);
    const std::string* written = StringEntryOrError(reader, entry, "sockets", i);
    if (written == nullptr) continue;
    const std::string& name = *written;
    if (std::find(sockets->begin(), sockets->end(), name) != sockets->end()) {
      reader.Error(entry, "sockets: " + Quoted(name) +
                              " is listed twice; a worker gets each socket "
                              "once");
      continue;
    }
    sockets->push_back(name);
    const std::vector<std::string>& declared = context.socket_names;
    if (std::find(declared.begin(), declared.end(), name) != declared.end()) {
      continue;
    }
    const std::optional<std::string> meant = Suggest(name, declared);
    reader.Error(entry,
                 "sockets: there is no socket " + Quoted(name) +
                     (meant ? TableReader::DidYouMean(meant)
                            : "; declare it with " + Header("socket", name)));
  }
}

// `depends_on = ["migrate", "redis"]`, or with conditions
// `depends_on = { migrate = "completed", redis = "ready" }`. Whether the
// names are programs is checked once all are read (CheckDependencies), which
// also gives the list form its conditions; entries with errors are left out.
void ReadDependsOn(LoadContext& context, TableReader& reader,
                   const std::string& table_name, const toml::node& node,
                   std::vector<Dependency>* depends_on) {
  auto listed = [&](const std::string& name) {
    return std::any_of(depends_on->begin(), depends_on->end(),
                       [&](const Dependency& dependency) {
                         return dependency.program == name;
                       });
  };
  if (const toml::array* array = node.as_array()) {
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& entry = *array->get(i);
      const std::string index = "depends_on[" + std::to_string(i) + "]";
      if (!entry.is_string()) {
        reader.Error(entry,
                     index + " must be a string, not " + Describe(entry));
        continue;
      }
      const std::string& name = entry.as_string()->get();
      if (name.empty()) {
        reader.Error(entry, index + " must not be empty");
        continue;
      }
      if (listed(name)) {
        reader.Error(entry, "depends_on: " + Quoted(name) + " is listed twice");
        continue;
      }
      const SourcePosition position = PositionOf(entry.source());
      depends_on->push_back({name, DependencyCondition::kReady, position});
      context.default_conditions.push_back(position);
    }
    return;
  }
  if (const toml::table* table = node.as_table()) {
    // Every key is a name: no unknown keys to report. In file order, as
    // with env; TOML itself rejects a key written twice.
    TableReader conditions(context.errors, *table, table_name + ".depends_on",
                           "depends_on.");
    std::vector<const toml::key*> keys;
    for (auto&& [key, value] : *table) keys.push_back(&key);
    std::stable_sort(keys.begin(), keys.end(), [](auto* a, auto* b) {
      const SourcePosition x = PositionOf(a->source());
      const SourcePosition y = PositionOf(b->source());
      return std::pair(x.line, x.column) < std::pair(y.line, y.column);
    });
    for (const toml::key* key : keys) {
      const std::string name(key->str());
      if (name.empty()) {
        context.errors.Add(*key,
                           "depends_on: a program name must not be empty");
        continue;
      }
      Dependency dependency{name, DependencyCondition::kReady,
                            PositionOf(key->source())};
      if (conditions.OneOf(name, kDependencyConditions,
                           &dependency.condition) != nullptr) {
        depends_on->push_back(std::move(dependency));
      }
    }
    return;
  }
  std::string message =
      R"(depends_on must be an array of program names like ["migrate"] or a )"
      R"(table like { migrate = "completed" }, not )" +
      Describe(node);
  if (node.is_string()) {
    message += "; write [" + Quoted(node.as_string()->get()) + "]";
  }
  reader.Error(node, message);
}

// A string that will go through ExpandPlaceholders and then to the kernel,
// named `name` in messages; `sockets` are the program's. False after
// reporting an error.
bool CheckExpandable(LoadContext& context, const toml::node& at,
                     const std::string& name, std::string_view text,
                     const std::vector<std::string>& sockets) {
  if (Contains(text, '\0')) {
    context.errors.Add(at, name + " must not contain a NUL character");
    return false;
  }
  if (const std::optional<std::string> wrong =
          CheckPlaceholders(text, sockets, context.socket_names)) {
    context.errors.Add(at, name + ": " + *wrong);
    return false;
  }
  return true;
}

void ReadCommand(LoadContext& context, TableReader& reader,
                 SourcePosition header, ProgramSpec* program) {
  const toml::node* node = reader.Find("command");
  if (node == nullptr) {
    context.errors.Add(header, "[" + reader.name() +
                                   "] has no command; add one like command = "
                                   "[\"/usr/bin/app\", \"--port\", \"8000\"]");
    return;
  }
  std::vector<std::string> words;
  if (const toml::value<std::string>* text = node->as_string()) {
    std::string error;
    std::optional<std::vector<std::string>> split =
        SplitCommand(text->get(), &error);
    if (!split) {
      reader.Error(*node, "command: " + error);
      return;
    }
    words = std::move(*split);
    if (!words.empty() && words.front().empty()) {
      reader.Error(*node, "command must start with a program, not \"\"");
      return;
    }
  } else if (const toml::array* array = node->as_array()) {
    const std::size_t errors_before = context.errors.Count();
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& word = *array->get(i);
      const std::string name = "command[" + std::to_string(i) + "]";
      if (!word.is_string()) {
        reader.Error(word, name + " must be a string, not " + Describe(word));
      } else if (word.as_string()->get().empty()) {
        reader.Error(word, name + " must not be empty");
      } else {
        words.push_back(word.as_string()->get());
      }
    }
    if (context.errors.Count() != errors_before) return;
  } else {
    reader.Mismatch(*node, "command",
                    R"(an array of strings like ["gunicorn", "app:wsgi"] )"
                    "or a string");
    return;
  }
  if (words.empty()) {
    reader.Error(*node, "command must not be empty");
    return;
  }
  for (const std::string& word : words) {
    if (!CheckExpandable(context, *node, "command", word, program->sockets)) {
      return;
    }
  }
  program->command = std::move(words);
}

// Workers start in the directory, so a missing one would only show up as
// every spawn failing; say it now, with the path as resolved.
void CheckDirectory(const LoadContext& context, TableReader& reader,
                    const toml::node& at, std::string* directory) {
  const std::string written = *directory;
  if (written.empty()) {
    reader.Error(at,
                 "directory must not be empty; leave it out to start "
                 "workers in workerd's own directory");
    return;
  }
  *directory = context.Resolve(written);
  std::string shown = Quoted(written);
  if (*directory != written) shown += " (" + *directory + ")";
  struct stat info;
  if (::stat(directory->c_str(), &info) != 0) {
    reader.Error(at,
                 "directory: " + shown +
                     (errno == ENOENT ? std::string(" does not exist")
                                      : std::string(": ") + strerror(errno)));
  } else if (!S_ISDIR(info.st_mode)) {
    reader.Error(at, "directory: " + shown + " is not a directory");
  }
}

void ReadEnv(LoadContext& context, const toml::table& table,
             const std::vector<std::string>& sockets,
             std::vector<std::pair<std::string, std::string>>* env) {
  Errors& errors = context.errors;
  // No TableReader: any name may be a key. In file order, as with programs.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
  std::stable_sort(entries.begin(), entries.end(), [](auto& a, auto& b) {
    const SourcePosition x = PositionOf(a.first->source());
    const SourcePosition y = PositionOf(b.first->source());
    return std::pair(x.line, x.column) < std::pair(y.line, y.column);
  });
  for (const auto& [key, node] : entries) {
    const std::string_view name = key->str();
    const std::string display = "env." + TomlKey(name);
    if (name.empty()) {
      errors.Add(*key, "env: a variable name must not be empty");
      continue;
    }
    if (Contains(name, '=') || Contains(name, '\0')) {
      errors.Add(*key, "env: the name " + Quoted(name) +
                           " must not contain \"=\" or a NUL character");
      continue;
    }
    if (std::find(std::begin(kReservedEnv), std::end(kReservedEnv), name) !=
        std::end(kReservedEnv)) {
      errors.Add(*key, display +
                           " is set by workerd for each worker and cannot "
                           "be set here");
      continue;
    }
    if (!node->is_string()) {
      std::string message =
          display + " must be a string, not " + Describe(*node);
      if (node->is_number() || node->is_boolean()) {
        std::ostringstream written;
        node->visit([&](auto&& value) { written << value; });
        message += "; write " + Quoted(written.str());
      }
      errors.Add(*node, message);
      continue;
    }
    const std::string& value = node->as_string()->get();
    if (CheckExpandable(context, *node, display, value, sockets)) {
      env->emplace_back(name, value);
    }
  }
}

void ReadBackoff(LoadContext& context, const toml::table& table,
                 const std::string& program, Backoff* backoff) {
  TableReader reader(context.errors, table, program + ".backoff", "backoff.");
  const std::size_t errors_before = context.errors.Count();
  const toml::node* initial =
      reader.DurationAt("initial", false, &backoff->initial);
  const toml::node* max = reader.DurationAt("max", false, &backoff->max);
  if (context.errors.Count() == errors_before &&
      backoff->max < backoff->initial) {
    if (max != nullptr) {
      reader.Error(*max, "backoff.max (" + FormatDuration(backoff->max) +
                             ") must not be less than backoff.initial (" +
                             FormatDuration(backoff->initial) + ")");
    } else {
      reader.Error(*initial,
                   "backoff.initial (" + FormatDuration(backoff->initial) +
                       ") must not be more than backoff.max (" +
                       FormatDuration(backoff->max) + ", the default)");
    }
  }
  reader.ReportUnknownKeys();
}

void ReadCrashLimit(LoadContext& context, const toml::table& table,
                    const std::string& program, CrashLimit* limit) {
  TableReader reader(context.errors, table, program + ".crash_limit",
                     "crash_limit.");
  reader.Integer("restarts", 1, kMaxCrashLimitRestarts, &limit->restarts);
  reader.DurationAt("within", false, &limit->within);
  reader.ReportUnknownKeys();
}

void ReadSignal(TableReader& reader, const toml::node& node, int* signal) {
  const std::string expected =
      R"(a signal name like "TERM", "INT" or "QUIT", or a number from 1 to )" +
      std::to_string(NSIG - 1);
  std::optional<int> parsed;
  if (const toml::value<std::string>* name = node.as_string()) {
    parsed = ParseSignal(name->get());
    if (!parsed) {
      reader.Error(node,
                   "stop_signal must be " + expected + ", not " +
                       Quoted(name->get()) +
                       TableReader::DidYouMean(SuggestSignal(name->get())));
      return;
    }
  } else if (const toml::value<std::int64_t>* number = node.as_integer()) {
    if (number->get() >= 1 && number->get() < NSIG) {
      parsed = static_cast<int>(number->get());
    } else {
      reader.Error(node, "stop_signal must be " + expected + ", not " +
                             std::to_string(number->get()));
      return;
    }
  } else {
    reader.Mismatch(node, "stop_signal", expected);
    return;
  }
  *signal = *parsed;
}

// log, log_dir, log_max_size, log_keep, log_timestamps, log_buffer.
void ReadLogSettings(LoadContext& context, TableReader& reader,
                     ProgramSpec* program) {
  program->log_written =
      reader.OneOf("log", kLogModes, &program->log) != nullptr;
  program->log_dir = context.log_dir;
  const toml::node* dir = reader.String("log_dir", &program->log_dir);
  if (dir != nullptr) {
    if (program->log_dir.empty()) {
      reader.Error(*dir, "log_dir must not be empty; leave it out to use "
                         "[daemon]'s (" + context.log_dir + ")");
      dir = nullptr;  // reported once is enough
    } else {
      program->log_dir = context.Resolve(program->log_dir);
    }
  }
  const std::pair<std::string_view, const toml::node*> file_only[] = {
      {"log_dir", dir},
      {"log_max_size",
       reader.Size("log_max_size", kMinLogMaxSize, std::uint64_t{1} << 40,
                   /*zero_allowed=*/true, &program->log_max_size)},
      {"log_keep",
       reader.Integer("log_keep", 0, kMaxLogKeep, &program->log_keep)}};
  const toml::node* timestamps =
      reader.Bool("log_timestamps", &program->log_timestamps);
  const toml::node* buffer =
      reader.Size("log_buffer", 0, kMaxLogBuffer, /*zero_allowed=*/true,
                  &program->log_buffer);

  // Settings that would silently do nothing are mistakes worth a word.
  // Without `log`, the mode is journal or inherit (never file), decided
  // when workerd starts. A bad `log` is reported already.
  if (!program->log_written && reader.Find("log") != nullptr) return;
  const std::string mode =
      program->log_written
          ? "this program has log = " + Quoted(LogModeName(program->log))
          : "this program does not set log (add log = \"file\")";
  if (!program->log_written || program->log != LogMode::kFile) {
    for (const auto& [key, node] : file_only) {
      if (node == nullptr) continue;
      reader.Error(*node, std::string(key) +
                              " applies only to log = \"file\", and " + mode);
    }
  }
  if (!program->log_written) return;
  const bool kept_elsewhere =
      program->log == LogMode::kJournal || program->log == LogMode::kNull;
  if (timestamps != nullptr && kept_elsewhere) {
    reader.Error(*timestamps,
                 "log_timestamps applies only to log = \"file\" or "
                 "\"inherit\", and " + mode +
                     (program->log == LogMode::kJournal
                          ? " (the journal keeps its own times)"
                          : ""));
  }
  if (buffer != nullptr && kept_elsewhere) {
    reader.Error(*buffer,
                 "log_buffer applies only to log = \"file\" or \"inherit\" "
                 "(workerd sees no other output), and " + mode);
  }
}

// A valid entry of watch or ignore.
struct PatternEntry {
  WatchPattern pattern;
  const toml::node* node;
};

// `watch = ["src/**/*.py", "templates/"]` or `ignore = [...]` (`key`):
// into `*written` as written and `*parsed` parsed, valid entries only.
void ReadPatterns(TableReader& reader, const toml::node& node,
                  std::string_view key, std::vector<std::string>* written,
                  std::vector<PatternEntry>* parsed) {
  const std::string name(key);
  const toml::array* array = ArrayOrError(
      reader, node, key, R"(paths like ["src/**/*.py", "templates/"])");
  if (array == nullptr) return;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& entry = *array->get(i);
    const std::string* entry_text = StringEntryOrError(reader, entry, key, i);
    if (entry_text == nullptr) continue;
    if (written->size() == static_cast<std::size_t>(kMaxWatchPatterns)) {
      reader.Error(entry, name + ": at most " +
                              std::to_string(kMaxWatchPatterns) +
                              " patterns are allowed");
      return;
    }
    const std::string& text = *entry_text;
    std::variant<WatchPattern, std::string> pattern = WatchPattern::Parse(text);
    if (const std::string* error = std::get_if<std::string>(&pattern)) {
      reader.Error(entry, name + ": " + *error);
      continue;
    }
    if (std::find(written->begin(), written->end(), text) != written->end()) {
      reader.Error(entry, name + ": " + Quoted(text) + " is listed twice");
      continue;
    }
    written->push_back(text);
    parsed->push_back({std::get<WatchPattern>(std::move(pattern)), &entry});
  }
}

// The directory an anchored watch pattern lies under has to exist, as
// `directory` has to: a misspelt one would otherwise watch nothing, in
// silence.
void CheckWatchRoot(TableReader& reader, const toml::node& at,
                    const std::string& written, const WatchPattern& pattern,
                    const std::string& base) {
  const std::string root = pattern.Root();
  if (root.empty()) return;
  const std::string path = base + (base == "/" ? "" : "/") + root;
  const std::string normal = pattern.ToString();
  // "templates/ does not exist" when the pattern is the directory itself;
  // otherwise name the directory it needs.
  const bool is_root = normal == root + "/" || normal == "./" + root + "/";
  const std::string subject = is_root
                                  ? Quoted(written)
                                  : Quoted(written) + " needs the directory " +
                                        Quoted(root) + ", which";
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      reader.Error(at, "watch: " + subject + " does not exist in " + base);
    } else {
      reader.Error(at, "watch: " + Quoted(written) + ": " + path + ": " +
                           strerror(errno));
    }
  } else if (!S_ISDIR(info.st_mode)) {
    reader.Error(at, "watch: " + subject + " is not a directory in " + base);
  }
}

// watch, ignore and watch_debounce. After `directory`: the patterns are
// relative to it. `directory_valid`: false when it was reported wrong, and
// the watched directories are not looked for then.
void ReadWatch(LoadContext& context, TableReader& reader, bool directory_valid,
               ProgramSpec* program) {
  std::vector<PatternEntry> watch;
  std::vector<PatternEntry> ignore;
  const toml::node* watch_node = reader.Find("watch");
  if (watch_node != nullptr) {
    ReadPatterns(reader, *watch_node, "watch", &program->watch, &watch);
  }
  const toml::node* ignore_node = reader.Find("ignore");
  if (ignore_node != nullptr) {
    ReadPatterns(reader, *ignore_node, "ignore", &program->ignore, &ignore);
  }
  const toml::node* debounce =
      reader.DurationAt("watch_debounce", true, &program->watch_debounce);
  // A watch with errors in it is reported already; an empty one watches
  // nothing, so what refines it would do nothing either. A wrong ignore or
  // watch_debounce is reported already too.
  const bool watch_written =
      watch_node != nullptr &&
      !(watch_node->is_array() && watch_node->as_array()->empty());
  if (!watch_written) {
    if (ignore_node != nullptr && ignore_node->is_array()) {
      reader.Error(*ignore_node, "ignore applies only to a program with watch");
    }
    if (debounce != nullptr) {
      reader.Error(*debounce,
                   "watch_debounce applies only to a program with watch");
    }
    return;
  }
  if (debounce != nullptr && (program->watch_debounce < kMinWatchDebounce ||
                              program->watch_debounce > kMaxWatchDebounce)) {
    reader.Error(*debounce, "watch_debounce must be from " +
                                FormatDuration(kMinWatchDebounce) + " to " +
                                FormatDuration(kMaxWatchDebounce) + ", not " +
                                FormatDuration(program->watch_debounce));
  }
  program->watch_directory =
      program->directory.empty() ? context.Resolve(".") : program->directory;
  if (!directory_valid) return;
  for (std::size_t i = 0; i < watch.size(); ++i) {
    CheckWatchRoot(reader, *watch[i].node, program->watch[i], watch[i].pattern,
                   program->watch_directory);
  }
}

ProgramSpec ReadProgram(LoadContext& context, std::string_view name,
                        const toml::table& table) {
  ProgramSpec program;
  program.name = name;
  program.position = PositionOf(table.source());
  CheckName(context.errors, table, "program", name);
  const std::string table_name = "program." + TomlKey(name);
  TableReader reader(context.errors, table, table_name);

  // Before the command and env: {fd:NAME} there needs the names.
  if (const toml::node* node = reader.Find("sockets")) {
    ReadSocketList(context, reader, *node, &program.sockets);
  }
  ReadCommand(context, reader, program.position, &program);
  reader.Integer("workers", 0, kMaxWorkersPerProgram, &program.workers);
  const std::size_t errors_before_directory = context.errors.Count();
  if (const toml::node* node = reader.String("directory", &program.directory)) {
    CheckDirectory(context, reader, *node, &program.directory);
  }
  const bool directory_valid =
      context.errors.Count() == errors_before_directory;
  if (const toml::table* env = reader.Table("env", R"({ NAME = "value" })")) {
    ReadEnv(context, *env, program.sockets, &program.env);
  }
  if (const toml::node* node = reader.String("user", &program.user)) {
    if (const std::optional<Account> user =
            LookUpUser(reader, *node, "user", program.user)) {
      program.uid = user->uid;
      program.gid = user->gid;
    }
  }
  std::string group;
  if (const toml::node* node = reader.String("group", &group)) {
    if (const std::optional<gid_t> gid =
            LookUpGroup(reader, *node, "group", group)) {
      program.gid = gid;
    }
  }
  const toml::node* type = reader.OneOf("type", kProgramTypes, &program.type);
  if (type == nullptr && table.get("type") != nullptr) {
    context.untyped_programs.push_back(program.name);
  }
  const bool oneshot = program.type == ProgramType::kOneshot;
  // A oneshot that completed is done; one that failed is retried only when
  // asked to.
  if (oneshot) program.restart = RestartPolicy::kNever;
  const toml::node* restart =
      reader.OneOf("restart", kRestartPolicies, &program.restart);
  if (restart != nullptr && oneshot &&
      program.restart == RestartPolicy::kAlways) {
    reader.Error(*restart,
                 "restart = \"always\" would run a oneshot again each time "
                 "it completes; use \"on-failure\" (retry with backoff) or "
                 "\"never\"");
  }
  if (const toml::node* node = reader.Find("stop_signal")) {
    ReadSignal(reader, *node, &program.stop_signal);
  }
  reader.DurationAt("stop_timeout", true, &program.stop_timeout);
  if (const toml::table* backoff =
          reader.Table("backoff", R"({ initial = "100ms", max = "30s" })")) {
    ReadBackoff(context, *backoff, table_name, &program.backoff);
  }
  if (const toml::table* limit =
          reader.Table("crash_limit", R"({ restarts = 5, within = "60s" })")) {
    ReadCrashLimit(context, *limit, table_name, &program.crash_limit);
  }
  reader.Bool("autostart", &program.autostart);
  const toml::node* depends_on = reader.Find("depends_on");
  if (depends_on != nullptr) {
    ReadDependsOn(context, reader, table_name, *depends_on,
                  &program.depends_on);
  }
  if (const toml::node* node = reader.Bool("restart_with_dependency",
                                           &program.restart_with_dependency)) {
    // Not when depends_on has errors: those are reported already.
    const bool none_written =
        depends_on == nullptr ||
        (depends_on->is_array() && depends_on->as_array()->empty()) ||
        (depends_on->is_table() && depends_on->as_table()->empty());
    if (program.restart_with_dependency && none_written) {
      reader.Error(*node,
                   "restart_with_dependency applies only to a program with "
                   "depends_on");
    }
  }
  if (oneshot) {
    // Each reported once, as what it is, whatever its value.
    for (const std::string_view key :
         {"start_period", "ready", "ready_timeout", "watchdog"}) {
      if (const toml::node* node = reader.Find(key)) {
        reader.Error(*node, std::string(key) +
                                " applies to services; a oneshot is done "
                                "when it exits 0");
      }
    }
  } else {
    reader.DurationAt("start_period", true, &program.start_period);
    const toml::node* ready = reader.OneOf("ready", kReadiness, &program.ready);
    if (const toml::node* timeout =
            reader.DurationAt("ready_timeout", false, &program.ready_timeout)) {
      // A bad `ready` is reported already; this would only add noise.
      const bool ready_valid =
          ready != nullptr || table.get("ready") == nullptr;
      if (ready_valid && program.ready != Readiness::kNotify) {
        reader.Error(*timeout,
                     "ready_timeout applies only to ready = \"notify\"; with "
                     "ready = \"exec\" a worker is ready after start_period");
      }
    }
    reader.DurationAt("watchdog", false, &program.watchdog);
  }
  ReadLogSettings(context, reader, &program);
  ReadWatch(context, reader, directory_valid, &program);
  reader.ReportUnknownKeys([&](std::string_view key, const toml::node& node) {
    if (key == "listen") {
      return std::string(
          " (sockets are declared in [socket.NAME] with listen = \"...\" "
          "and passed to programs that list them in sockets = [\"NAME\"])");
    }
    return DottedNameHint("program", name, key, node);
  });
  return program;
}

}  // namespace

void ReadPrograms(LoadContext& context, const toml::table& table,
                  std::vector<ProgramSpec>* programs) {
  const auto found =
      TablesInOrder(context.errors, table, "program", "[program.web]");
  for (const auto& [name, program] : found) {
    if (programs->size() == static_cast<std::size_t>(kMaxPrograms)) {
      context.errors.Add(*program, "too many programs: at most " +
                                       std::to_string(kMaxPrograms) +
                                       " are allowed");
      return;
    }
    programs->push_back(ReadProgram(context, name, *program));
  }
}

}  // namespace workerd::config_internal
