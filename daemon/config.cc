#include "daemon/config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "daemon/config_loader.h"
#include "daemon/duration.h"
#include "daemon/suggest.h"
#include "daemon/toml_reader.h"
#include "daemon/toml_syntax_error.h"
#include "daemon/unique_fd.h"

namespace workerd {

namespace config_internal {

namespace fs = std::filesystem;

LoadContext::LoadContext(const std::string& file_name) : errors(file_name) {
  std::error_code ignored;
  fs::path directory = fs::path(file_name).parent_path();
  if (directory.empty()) directory = ".";
  fs::path absolute = fs::absolute(directory, ignored);
  base_directory = (absolute.empty() ? directory : absolute);
}

std::string LoadContext::Resolve(const std::string& path) const {
  if (fs::path(path).is_absolute()) return path;
  std::string resolved = (base_directory / path).lexically_normal();
  if (resolved.size() > 1 && resolved.back() == '/') resolved.pop_back();
  return resolved;
}

void CheckName(Errors& errors, const toml::table& at, std::string_view kind,
               std::string_view name) {
  const std::string what = std::string(kind) + " name " + Quoted(name);
  const bool valid_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '.' || c == '-';
  });
  if (name.empty()) {
    errors.Add(at, "a " + std::string(kind) + " name must not be empty");
  } else if (!valid_chars) {
    errors.Add(at, what +
                       " may only contain letters, digits, \"_\", \".\" "
                       "and \"-\"");
  } else if (name.front() == '.' || name.front() == '-') {
    // "-web" reads as an option to workerctl; ".." as a path.
    errors.Add(at, what + " must start with a letter, a digit or \"_\"");
  } else if (name.size() > static_cast<std::size_t>(kMaxProgramNameLength)) {
    errors.Add(at, what + " is longer than " +
                       std::to_string(kMaxProgramNameLength) + " characters");
  }
}

std::string DottedNameHint(std::string_view section, std::string_view name,
                           std::string_view key, const toml::node& node) {
  if (!node.is_table()) return std::string();
  const std::string dotted = std::string(name) + "." + std::string(key);
  return " (to name a " + std::string(section) + " " + Quoted(dotted) +
         ", write [" + std::string(section) + "." + Quoted(dotted) + "])";
}

namespace {

// Reports a failed lookup of the `kind` ("user" or "group") `name`.
void ReportLookUp(TableReader& reader, const toml::node& at,
                  std::string_view key, std::string_view kind,
                  const std::string& name, int error) {
  if (error == ENOENT) {
    reader.Error(at, std::string(key) + ": there is no " + std::string(kind) +
                         " " + Quoted(name) + " on this system");
  } else {
    reader.Error(at, std::string(key) + ": looking up the " +
                         std::string(kind) + " " + Quoted(name) +
                         " failed: " + strerror(error));
  }
}

}  // namespace

std::optional<Account> LookUpUser(TableReader& reader, const toml::node& at,
                                  std::string_view key,
                                  const std::string& name) {
  int error = 0;
  std::optional<Account> user = FindUser(name, &error);
  if (!user) ReportLookUp(reader, at, key, "user", name, error);
  return user;
}

std::optional<gid_t> LookUpGroup(TableReader& reader, const toml::node& at,
                                 std::string_view key,
                                 const std::string& name) {
  int error = 0;
  const std::optional<Group> group = FindGroup(name, &error);
  if (!group) {
    ReportLookUp(reader, at, key, "group", name, error);
    return std::nullopt;
  }
  return group->gid;
}

}  // namespace config_internal

using config_internal::CheckDependencies;
using config_internal::kBalances;
using config_internal::kDependencyConditions;
using config_internal::kLogLevels;
using config_internal::kLogModes;
using config_internal::kProgramTypes;
using config_internal::kReadiness;
using config_internal::kRestartPolicies;
using config_internal::LoadContext;
using config_internal::LookUpGroup;
using config_internal::ReadPrograms;
using config_internal::ReadSockets;

namespace {

// Reads a whole file of at most kMaxConfigFileBytes; false with `*error`.
bool ReadWholeFile(const std::string& path, std::string* text,
                   std::string* error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat info;
  if (!fd || ::fstat(fd.Get(), &info) != 0) {
    *error = std::string("cannot read: ") + strerror(errno);
    return false;
  }
  if (S_ISDIR(info.st_mode)) {
    *error = std::string("cannot read: ") + strerror(EISDIR);
    return false;
  }
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(fd.Get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::string("cannot read: ") + strerror(errno);
      return false;
    }
    if (n == 0) return true;
    text->append(buffer, n);
    if (text->size() > kMaxConfigFileBytes) {
      *error = "is larger than " + FormatSize(kMaxConfigFileBytes) +
               "; a configuration is never that large";
      return false;
    }
  }
}

void ReadDaemon(LoadContext& context, const toml::table& table,
                DaemonSpec* daemon) {
  TableReader reader(context.errors, table, "daemon");
  if (const toml::node* node =
          reader.String("control_socket", &daemon->control_socket)) {
    if (daemon->control_socket.empty()) {
      reader.Error(*node,
                   "control_socket must not be empty; leave it out to use "
                   "the default");
    } else {
      daemon->control_socket = context.Resolve(daemon->control_socket);
      constexpr std::size_t kMaxPath = sizeof(sockaddr_un{}.sun_path) - 1;
      if (daemon->control_socket.size() > kMaxPath) {
        reader.Error(*node,
                     "control_socket: " + Quoted(daemon->control_socket) +
                         " is longer than the " + std::to_string(kMaxPath) +
                         " bytes a Unix socket path may have");
      }
    }
  }
  reader.Mode("control_mode", &daemon->control_mode);
  if (const toml::node* node =
          reader.String("control_group", &daemon->control_group)) {
    if (const std::optional<gid_t> gid = LookUpGroup(
            reader, *node, "control_group", daemon->control_group)) {
      daemon->control_group_gid = gid;
    }
  }
  reader.DurationAt("shutdown_timeout", true, &daemon->shutdown_timeout);
  reader.OneOf("log_level", kLogLevels, &daemon->log_level);
  if (const toml::node* node = reader.String("log_dir", &daemon->log_dir)) {
    if (daemon->log_dir.empty()) {
      reader.Error(*node, std::string("log_dir must not be empty; leave it "
                                      "out to use ") +
                              kDefaultLogDir);
    } else {
      daemon->log_dir = context.Resolve(daemon->log_dir);
    }
  }
  context.log_dir = daemon->log_dir;
  reader.Bool("dev", &daemon->dev);
  reader.ReportUnknownKeys();
}

void ReadRoot(LoadContext& context, const toml::table& root, Config* config) {
  Errors& errors = context.errors;
  TableReader reader(errors, root, "");
  if (const toml::table* daemon = reader.Table("daemon", "[daemon]")) {
    ReadDaemon(context, *daemon, &config->daemon);
  }
  // Sockets first: programs refer to them by name.
  if (const toml::table* sockets = reader.Table("socket", "[socket.http]")) {
    ReadSockets(context, *sockets, &config->sockets);
  }
  if (const toml::table* programs = reader.Table("program", "[program.web]")) {
    ReadPrograms(context, *programs, &config->programs);
  }
  // Once all are read: a program may depend on one further down.
  CheckDependencies(context, &config->programs);
  // Unknown here means an unknown section, most likely a misspelled one.
  constexpr std::string_view kSections[] = {"daemon", "program", "socket"};
  for (const auto& [key, node] : reader.UnknownKeys()) {
    const toml::table* table = node->as_table();
    if (table == nullptr) {
      errors.Add(*key, "unknown key " + Quoted(key->str()) +
                           " outside any section; settings go in "
                           "[daemon], [program.NAME] or [socket.NAME]");
      continue;
    }
    const std::string_view name = key->str();
    const std::optional<std::string> meant = Suggest(name, kSections);
    auto report = [&](const toml::node& at, std::string_view child) {
      errors.Add(
          at,
          "unknown section " + Header(name, child) +
              (meant ? " (did you mean " + Header(*meant, child) + "?)" : ""));
    };
    // [programs.web] is a table "programs" holding a table "web": report
    // the headers as they were written.
    const bool only_tables =
        !table->empty() &&
        std::all_of(table->begin(), table->end(),
                    [](auto&& entry) { return entry.second.is_table(); });
    if (!only_tables) {
      report(*node, "");
      continue;
    }
    for (auto&& [child, child_node] : *table) report(child_node, child.str());
  }
}

template <typename T, std::size_t N>
std::string_view NameOf(const Choice<T> (&choices)[N], T value) {
  for (const Choice<T>& choice : choices) {
    if (choice.value == value) return choice.name;
  }
  return "unknown";
}

}  // namespace

const ProgramSpec* Config::FindProgram(std::string_view name) const {
  for (const ProgramSpec& program : programs) {
    if (program.name == name) return &program;
  }
  return nullptr;
}

const SocketSpec* Config::FindSocket(std::string_view name) const {
  for (const SocketSpec& socket : sockets) {
    if (socket.name == name) return &socket;
  }
  return nullptr;
}

std::string ConfigError::ToString() const {
  std::string text = file;
  if (position.line > 0) {
    // Appended piece by piece: g++ 12 at -O3 takes `":" + std::to_string()`
    // for an overlapping copy (a false -Wrestrict).
    text += ':';
    text += std::to_string(position.line);
    text += ':';
    text += std::to_string(position.column);
  }
  return text + ": " + message;
}

ConfigLoad LoadConfigFile(const std::string& path) {
  std::string text, error;
  if (!ReadWholeFile(path, &text, &error)) {
    return {std::nullopt, {ConfigError{path, {}, error}}};
  }
  return ParseConfig(text, path);
}

ConfigLoad ParseConfig(std::string_view text, const std::string& file_name) {
  LoadContext context(file_name);
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(file_name));
  } catch (const toml::parse_error& error) {
    const SourcePosition at = PositionOf(error.source());
    context.errors.Add(
        at,
        "invalid TOML: " + ExplainSyntaxError(text, error.description(), at));
    return {std::nullopt, std::move(context.errors).Sorted()};
  }
  Config config;
  config.path = file_name;
  ReadRoot(context, root, &config);
  if (context.errors.Count() > 0) {
    return {std::nullopt, std::move(context.errors).Sorted()};
  }
  return {std::move(config), {}};
}

std::string_view RestartPolicyName(RestartPolicy policy) {
  return NameOf(kRestartPolicies, policy);
}

std::string_view LogLevelName(LogLevel level) {
  return NameOf(kLogLevels, level);
}

std::string_view BalanceName(Balance balance) {
  return NameOf(kBalances, balance);
}

std::string_view LogModeName(LogMode mode) { return NameOf(kLogModes, mode); }

LogMode DefaultLogMode(const char* const* environ) {
  for (const char* const* entry = environ; entry && *entry; ++entry) {
    const std::string_view variable(*entry);
    if (variable.starts_with("JOURNAL_STREAM=") ||
        variable.starts_with("INVOCATION_ID=")) {
      return LogMode::kJournal;
    }
  }
  return LogMode::kInherit;
}

void ApplyLogDefault(Config& config, LogMode mode) {
  for (ProgramSpec& program : config.programs) {
    if (!program.log_written) program.log = mode;
  }
}

std::string_view ReadinessName(Readiness ready) {
  return NameOf(kReadiness, ready);
}

std::string_view ProgramTypeName(ProgramType type) {
  return NameOf(kProgramTypes, type);
}

std::string_view DependencyConditionName(DependencyCondition condition) {
  return NameOf(kDependencyConditions, condition);
}

}  // namespace workerd
