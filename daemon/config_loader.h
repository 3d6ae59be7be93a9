// Internal to the config loader: what its files share. config.cc reads the
// file, its top level and [daemon]; config_socket.cc reads [socket.NAME];
// config_program.cc reads [program.NAME]; config_dependencies.cc checks
// the programs' depends_on once all are read. Include this from those files
// only; everyone else uses daemon/config.h.
#pragma once

#include <sys/types.h>
#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/accounts.h"
#include "daemon/config.h"
#include "daemon/toml_reader.h"

namespace workerd::config_internal {

// The names of the enums' values, as written in the file and as the *Name()
// functions of config.h return them.
inline constexpr Choice<RestartPolicy> kRestartPolicies[] = {
    {"always", RestartPolicy::kAlways},
    {"on-failure", RestartPolicy::kOnFailure},
    {"never", RestartPolicy::kNever}};

inline constexpr Choice<LogLevel> kLogLevels[] = {{"trace", LogLevel::kTrace},
                                                  {"debug", LogLevel::kDebug},
                                                  {"info", LogLevel::kInfo},
                                                  {"warn", LogLevel::kWarn},
                                                  {"error", LogLevel::kError}};

inline constexpr Choice<Balance> kBalances[] = {
    {"shared", Balance::kShared}, {"reuseport", Balance::kReuseport}};

inline constexpr Choice<Readiness> kReadiness[] = {
    {"exec", Readiness::kExec}, {"notify", Readiness::kNotify}};

inline constexpr Choice<LogMode> kLogModes[] = {
    {"file", LogMode::kFile},
    {"journal", LogMode::kJournal},
    {"inherit", LogMode::kInherit},
    {"null", LogMode::kNull}};

inline constexpr Choice<ProgramType> kProgramTypes[] = {
    {"service", ProgramType::kService}, {"oneshot", ProgramType::kOneshot}};

inline constexpr Choice<DependencyCondition> kDependencyConditions[] = {
    {"started", DependencyCondition::kStarted},
    {"ready", DependencyCondition::kReady},
    {"completed", DependencyCondition::kCompleted}};

// What the readers of one load share.
struct LoadContext {
  // `file_name` as ParseConfig was given it: every error names it, and
  // relative paths resolve against its directory.
  explicit LoadContext(const std::string& file_name);

  // `path` made absolute against the file's directory, if relative: paths
  // in the file are relative to it, not to wherever workerd happens to be
  // started from. Normalized, without a trailing "/".
  std::string Resolve(const std::string& path) const;

  Errors errors;
  std::filesystem::path base_directory;  // absolute when it could be made so
  // Every [socket.NAME], in file order, even of a socket with errors or one
  // too many: the names programs may list in `sockets`. Set by ReadSockets.
  std::vector<std::string> socket_names;
  // [daemon]'s log_dir, resolved: programs without their own use it. Set
  // by the [daemon] reader, which runs first.
  std::string log_dir = kDefaultLogDir;
  // Set by ReadPrograms for CheckDependencies. The positions of the
  // depends_on entries written without a condition (the list form), which
  // get the default for their dependency's type:
  std::vector<SourcePosition> default_conditions;
  // and the programs whose `type` is written but wrong, so whose type is
  // not known: conditions on them are not checked against it.
  std::vector<std::string> untyped_programs;
};

// The tables of [socket] (`table`), into `*sockets` in file order; also
// sets context.socket_names.
void ReadSockets(LoadContext& context, const toml::table& table,
                 std::vector<SocketSpec>* sockets);

// The tables of [program] (`table`), into `*programs` in file order. Reads
// after ReadSockets: programs name sockets.
void ReadPrograms(LoadContext& context, const toml::table& table,
                  std::vector<ProgramSpec>* programs);

// Checks the depends_on of `*programs` against each other, once all are
// read (a dependency may come later in the file): that each names another
// program, that "completed" names a oneshot, and, when those hold, that
// there is no cycle. Gives the entries of the list form their condition:
// "completed" on a oneshot, "ready" on a service.
void CheckDependencies(LoadContext& context,
                       std::vector<ProgramSpec>* programs);

// Reports what is wrong with the name of a [program.NAME] or [socket.NAME]
// table (`at`); `kind` is "program" or "socket".
void CheckName(Errors& errors, const toml::table& at, std::string_view kind,
               std::string_view name);

// For an unknown key `key` of [`section`.`name`] whose value is a table:
// [program.api.v2] makes a program "api" with a table "v2" in it, so say how
// to write a dotted name. Empty for other values.
std::string DottedNameHint(std::string_view section, std::string_view name,
                           std::string_view key, const toml::node& node);

// The user or group `name`, the value of `key` at `at`; nullopt after
// reporting that there is none or that the lookup failed.
std::optional<Account> LookUpUser(TableReader& reader, const toml::node& at,
                                  std::string_view key,
                                  const std::string& name);
std::optional<gid_t> LookUpGroup(TableReader& reader, const toml::node& at,
                                 std::string_view key, const std::string& name);

}  // namespace workerd::config_internal
