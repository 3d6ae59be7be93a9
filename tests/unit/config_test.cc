#include "daemon/config.h"
#include "tests/support/as_nobody.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "daemon/suggest.h"

namespace workerd {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// The configuration of `text`, which must have no errors.
Config Parse(std::string_view text,
             const std::string& file_name = "workers.toml") {
  ConfigLoad load = ParseConfig(text, file_name);
  std::string errors;
  for (const ConfigError& error : load.errors)
    errors += error.ToString() + "\n";
  EXPECT_TRUE(load.config.has_value()) << errors;
  EXPECT_EQ(errors, "");
  return load.config.value_or(Config{});
}

// Every error of `text`, as users see them.
std::vector<std::string> Errors(std::string_view text,
                                const std::string& file_name = "workers.toml") {
  ConfigLoad load = ParseConfig(text, file_name);
  EXPECT_FALSE(load.config.has_value());
  std::vector<std::string> errors;
  for (const ConfigError& error : load.errors) {
    EXPECT_EQ(error.file, file_name);
    errors.push_back(error.ToString());
  }
  return errors;
}

// The one error of `text`.
std::string Error(std::string_view text) {
  std::vector<std::string> errors = Errors(text);
  EXPECT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  return errors.empty() ? "" : errors.front();
}

// The one error of a program [program.web] whose body is `body`; the body
// starts on line 2, and `command` is added on the line after it unless the
// body sets one.
std::string ProgramError(const std::string& body) {
  std::string text = "[program.web]\n" + body + "\n";
  if (body.find("command") == std::string::npos) text += "command = \"app\"\n";
  return Error(text);
}

ProgramSpec ParseProgram(const std::string& body) {
  std::string text = "[program.web]\n" + body + "\n";
  if (body.find("command") == std::string::npos) text += "command = \"app\"\n";
  Config config = Parse(text);
  EXPECT_EQ(config.programs.size(), 1u);
  return config.programs.empty() ? ProgramSpec{} : config.programs.front();
}

// The one error of a socket [socket.http] whose body is `body`; the body
// starts on line 2, and `listen = "127.0.0.1:8080"` is added on the line
// after it unless the body sets one.
std::string SocketError(const std::string& body) {
  std::string text = "[socket.http]\n" + body + "\n";
  if (body.find("listen") == std::string::npos) {
    text += "listen = \"127.0.0.1:8080\"\n";
  }
  return Error(text);
}

SocketSpec ParseSocket(const std::string& body) {
  std::string text = "[socket.http]\n" + body + "\n";
  if (body.find("listen") == std::string::npos) {
    text += "listen = \"127.0.0.1:8080\"\n";
  }
  Config config = Parse(text);
  EXPECT_EQ(config.sockets.size(), 1u);
  return config.sockets.empty() ? SocketSpec{} : config.sockets.front();
}

// Two sockets on lines 1-4, then [program.web] on line 5: its body starts
// on line 6.
constexpr std::string_view kTwoSockets =
    "[socket.http]\nlisten = \"127.0.0.1:8080\"\n"
    "[socket.admin]\nlisten = \"unix:/run/admin.sock\"\n"
    "[program.web]\n";

// The errors of [program.web] with `body`, after kTwoSockets.
std::vector<std::string> ProgramWithSocketsErrors(const std::string& body) {
  return Errors(std::string(kTwoSockets) + body + "\n");
}

ProgramSpec ParseProgramWithSockets(const std::string& body) {
  Config config = Parse(std::string(kTwoSockets) + body + "\n");
  EXPECT_EQ(config.programs.size(), 1u);
  return config.programs.empty() ? ProgramSpec{} : config.programs.front();
}

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "workerd-config-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

  fs::path Write(const std::string& name, std::string_view text) const {
    fs::path file = path_ / name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------------------
// What a valid file gives.

TEST(ConfigTest, EmptyFileIsValidAndHasNoPrograms) {
  const Config config = Parse("");
  EXPECT_EQ(config.path, "workers.toml");
  EXPECT_TRUE(config.programs.empty());
  EXPECT_TRUE(config.sockets.empty());
  const DaemonSpec defaults;
  EXPECT_EQ(config.daemon.control_socket, defaults.control_socket);
  EXPECT_EQ(config.daemon.control_mode, 0660u);
  EXPECT_EQ(config.daemon.control_group, "");
  EXPECT_EQ(config.daemon.control_group_gid, std::nullopt);
  EXPECT_EQ(config.daemon.shutdown_timeout, seconds(30));
  EXPECT_EQ(config.daemon.log_level, LogLevel::kInfo);
  EXPECT_FALSE(config.daemon.dev);
}

TEST(ConfigTest, CommentsAndEmptySectionsAreValid) {
  const Config config = Parse("# nothing yet\n[daemon]\n[program]\n");
  EXPECT_TRUE(config.programs.empty());
}

TEST(ConfigTest, ProgramDefaultsAreTheHeaderInitializers) {
  const ProgramSpec program = ParseProgram("");
  ProgramSpec expected;
  expected.name = "web";
  expected.command = {"app"};
  expected.position = {1, 1};
  EXPECT_EQ(program, expected);
  // Spelled out, so that a changed initializer is a visible decision.
  EXPECT_EQ(program.workers, 1);
  EXPECT_EQ(program.directory, "");
  EXPECT_TRUE(program.env.empty());
  EXPECT_EQ(program.uid, std::nullopt);
  EXPECT_EQ(program.gid, std::nullopt);
  EXPECT_EQ(program.user, "");
  EXPECT_EQ(program.restart, RestartPolicy::kAlways);
  EXPECT_EQ(program.start_period, seconds(1));
  EXPECT_EQ(program.stop_signal, SIGTERM);
  EXPECT_EQ(program.stop_timeout, seconds(10));
  EXPECT_EQ(program.backoff.initial, milliseconds(100));
  EXPECT_EQ(program.backoff.max, seconds(30));
  EXPECT_EQ(program.crash_limit.restarts, 5);
  EXPECT_EQ(program.crash_limit.within, seconds(60));
  EXPECT_TRUE(program.autostart);
  EXPECT_EQ(program.type, ProgramType::kService);
  EXPECT_TRUE(program.depends_on.empty());
  EXPECT_FALSE(program.restart_with_dependency);
  EXPECT_TRUE(program.sockets.empty());
  EXPECT_EQ(program.ready, Readiness::kExec);
  EXPECT_EQ(program.ready_timeout, seconds(60));
  EXPECT_EQ(program.watchdog, milliseconds(0));
  EXPECT_TRUE(program.watch.empty());
  EXPECT_TRUE(program.ignore.empty());
  EXPECT_EQ(program.watch_debounce, milliseconds(200));
  EXPECT_EQ(program.watch_directory, "");
}

TEST(ConfigTest, ReadsEveryDaemonKey) {
  const Config config = Parse(R"(
[daemon]
control_socket = "/run/test/control.sock"
control_mode = "0600"
control_group = "root"
shutdown_timeout = "45s"
log_level = "debug"
dev = true
)");
  EXPECT_EQ(config.daemon.control_socket, "/run/test/control.sock");
  EXPECT_EQ(config.daemon.control_mode, 0600u);
  EXPECT_EQ(config.daemon.control_group, "root");
  EXPECT_EQ(config.daemon.control_group_gid, gid_t{0});
  EXPECT_EQ(config.daemon.shutdown_timeout, seconds(45));
  EXPECT_EQ(config.daemon.log_level, LogLevel::kDebug);
  EXPECT_TRUE(config.daemon.dev);
}

TEST(ConfigTest, ReadsEveryLogLevel) {
  for (const auto& [name, level] :
       std::vector<std::pair<std::string, LogLevel>>{
           {"trace", LogLevel::kTrace},
           {"debug", LogLevel::kDebug},
           {"info", LogLevel::kInfo},
           {"warn", LogLevel::kWarn},
           {"error", LogLevel::kError}}) {
    EXPECT_EQ(Parse("[daemon]\nlog_level = \"" + name + "\"").daemon.log_level,
              level);
    EXPECT_EQ(LogLevelName(level), name);
  }
}

TEST(ConfigTest, ReadsControlModes) {
  EXPECT_EQ(Parse("[daemon]\ncontrol_mode = \"660\"").daemon.control_mode,
            0660u);
  EXPECT_EQ(Parse("[daemon]\ncontrol_mode = \"0777\"").daemon.control_mode,
            0777u);
  EXPECT_EQ(Parse("[daemon]\ncontrol_mode = \"0\"").daemon.control_mode, 0u);
}

TEST(ConfigTest, ReadsEveryProgramKey) {
  const TempDir dir;
  const std::string root_dir = dir.path().string();
  const Config config = Parse(R"(
[socket.http]
listen = "127.0.0.1:8000"
[socket.admin]
listen = "unix:/run/admin.sock"

[program.web]
command = ["gunicorn", "--bind", "fd://3", "app:wsgi"]
workers = 4
directory = ")" + root_dir + R"("
env = { PYTHONUNBUFFERED = "1", APP_ROLE = "web-{instance}" }
user = "root"
group = "daemon"
restart = "on-failure"
start_period = "2s"
stop_signal = "QUIT"
stop_timeout = "1m"
backoff = { initial = "250ms", max = "1m" }
crash_limit = { restarts = 3, within = "2m" }
autostart = false
sockets = ["admin", "http"]
ready = "notify"
ready_timeout = "90s"
watchdog = "5s"
)");
  ASSERT_EQ(config.programs.size(), 1u);
  const ProgramSpec& web = config.programs[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.command, (std::vector<std::string>{"gunicorn", "--bind",
                                                   "fd://3", "app:wsgi"}));
  EXPECT_EQ(web.workers, 4);
  EXPECT_EQ(web.directory, root_dir);
  EXPECT_EQ(web.env,
            (std::vector<std::pair<std::string, std::string>>{
                {"PYTHONUNBUFFERED", "1"}, {"APP_ROLE", "web-{instance}"}}));
  EXPECT_EQ(web.user, "root");
  EXPECT_EQ(web.uid, uid_t{0});
  EXPECT_EQ(web.gid, getgrnam("daemon")->gr_gid);
  EXPECT_EQ(web.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(web.start_period, seconds(2));
  EXPECT_EQ(web.stop_signal, SIGQUIT);
  EXPECT_EQ(web.stop_timeout, minutes(1));
  EXPECT_EQ(web.backoff.initial, milliseconds(250));
  EXPECT_EQ(web.backoff.max, minutes(1));
  EXPECT_EQ(web.crash_limit.restarts, 3);
  EXPECT_EQ(web.crash_limit.within, minutes(2));
  EXPECT_FALSE(web.autostart);
  EXPECT_EQ(web.sockets, (std::vector<std::string>{"admin", "http"}));
  EXPECT_EQ(web.ready, Readiness::kNotify);
  EXPECT_EQ(web.ready_timeout, seconds(90));
  EXPECT_EQ(web.watchdog, seconds(5));
  EXPECT_EQ(web.position.line, 7);
  EXPECT_EQ(web.position.column, 1);
}

TEST(ConfigTest, ReadsEveryRestartPolicy) {
  for (RestartPolicy policy :
       {RestartPolicy::kAlways, RestartPolicy::kOnFailure,
        RestartPolicy::kNever}) {
    const std::string name(RestartPolicyName(policy));
    EXPECT_EQ(ParseProgram("restart = \"" + name + "\"").restart, policy);
  }
  EXPECT_EQ(RestartPolicyName(RestartPolicy::kOnFailure), "on-failure");
}

TEST(ConfigTest, SubTablesMayBeWrittenAsSections) {
  const Config config = Parse(R"(
[program.web]
command = "app"
[program.web.env]
B = "2"
A = "1"
[program.web.backoff]
initial = "1s"
[program.web.crash_limit]
within = "10m"
)");
  ASSERT_EQ(config.programs.size(), 1u);
  const ProgramSpec& web = config.programs[0];
  EXPECT_EQ(web.env, (std::vector<std::pair<std::string, std::string>>{
                         {"B", "2"}, {"A", "1"}}));
  EXPECT_EQ(web.backoff.initial, seconds(1));
  EXPECT_EQ(web.backoff.max, seconds(30));
  EXPECT_EQ(web.crash_limit.restarts, 5);
  EXPECT_EQ(web.crash_limit.within, minutes(10));
}

TEST(ConfigTest, UserSetsTheUidAndPrimaryGroup) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const ProgramSpec program = ParseProgram("user = \"nobody\"");
  EXPECT_EQ(program.user, "nobody");
  EXPECT_EQ(program.uid, nobody->pw_uid);
  EXPECT_EQ(program.gid, nobody->pw_gid);
}

TEST(ConfigTest, GroupOverridesThePrimaryGroupWhicheverComesFirst) {
  const gid_t daemon_gid = getgrnam("daemon")->gr_gid;
  EXPECT_EQ(ParseProgram("group = \"daemon\"\nuser = \"root\"").gid,
            daemon_gid);
  EXPECT_EQ(ParseProgram("user = \"root\"\ngroup = \"daemon\"").gid,
            daemon_gid);
  const ProgramSpec group_only = ParseProgram("group = \"daemon\"");
  EXPECT_EQ(group_only.gid, daemon_gid);
  EXPECT_EQ(group_only.uid, std::nullopt);
}

TEST(ConfigTest, ProgramsKeepTheOrderOfTheFile) {
  const Config config = Parse(R"(
[program.zeta]
command = "z"
[program.alpha]
command = "a"
[daemon]
log_level = "warn"
[program.mid]
command = "m"
)");
  ASSERT_EQ(config.programs.size(), 3u);
  EXPECT_EQ(config.programs[0].name, "zeta");
  EXPECT_EQ(config.programs[1].name, "alpha");
  EXPECT_EQ(config.programs[2].name, "mid");
  EXPECT_EQ(config.programs[2].position.line, 8);
  EXPECT_EQ(config.FindProgram("alpha"), &config.programs[1]);
  EXPECT_EQ(config.FindProgram("beta"), nullptr);
}

TEST(ConfigTest, ProgramsWrittenAsInlineTablesKeepTheirOrderToo) {
  const Config config = Parse(R"(
program.b = { command = "b" }
program.a = { command = "a", workers = 2 }
)");
  ASSERT_EQ(config.programs.size(), 2u);
  EXPECT_EQ(config.programs[0].name, "b");
  EXPECT_EQ(config.programs[1].name, "a");
  EXPECT_EQ(config.programs[1].workers, 2);
}

TEST(ConfigTest, EnvKeepsTheOrderOfTheFile) {
  const ProgramSpec inline_env =
      ParseProgram(R"(env = { ZED = "1", ALPHA = "2", MID = "3" })");
  EXPECT_EQ(inline_env.env, (std::vector<std::pair<std::string, std::string>>{
                                {"ZED", "1"}, {"ALPHA", "2"}, {"MID", "3"}}));
  const ProgramSpec dotted =
      ParseProgram("env.Z = \"1\"\nenv.A = \"2\"\nenv.\"lower.case\" = \"\"");
  EXPECT_EQ(dotted.env, (std::vector<std::pair<std::string, std::string>>{
                            {"Z", "1"}, {"A", "2"}, {"lower.case", ""}}));
}

TEST(ConfigTest, ProgramNamesMayUseLettersDigitsDotDashUnderscore) {
  const Config config = Parse(R"(
[program."api.v2"]
command = "a"
[program.Worker_2-b]
command = "b"
[program._1]
command = "c"
)");
  ASSERT_EQ(config.programs.size(), 3u);
  EXPECT_EQ(config.programs[0].name, "api.v2");
  EXPECT_EQ(config.programs[1].name, "Worker_2-b");
}

TEST(ConfigTest, CommandStringsAreSplitLikeAShell) {
  EXPECT_EQ(ParseProgram(R"(command = "cargo loco start --worker")").command,
            (std::vector<std::string>{"cargo", "loco", "start", "--worker"}));
  EXPECT_EQ(
      ParseProgram(R"(command = "python -c 'print(\"hi\")' \"a b\"")").command,
      (std::vector<std::string>{"python", "-c", "print(\"hi\")", "a b"}));
  EXPECT_EQ(ParseProgram(R"(command = "app ''")").command,
            (std::vector<std::string>{"app", ""}));
}

TEST(ConfigTest, PlaceholdersStayUnexpanded) {
  const ProgramSpec program = ParseProgram(
      R"(command = ["app", "--port=80{instance}", "{program}", "{x}", "{}"])"
      "\nenv = { NAME = \"{program}-{instance}\", JSON = '{\"a\": 1}' }");
  EXPECT_EQ(program.command,
            (std::vector<std::string>{"app", "--port=80{instance}", "{program}",
                                      "{x}", "{}"}));
  EXPECT_EQ(program.env,
            (std::vector<std::pair<std::string, std::string>>{
                {"NAME", "{program}-{instance}"}, {"JSON", "{\"a\": 1}"}}));
}

TEST(ConfigTest, StopSignalTakesNamesAndNumbers) {
  EXPECT_EQ(ParseProgram(R"(stop_signal = "SIGINT")").stop_signal, SIGINT);
  EXPECT_EQ(ParseProgram(R"(stop_signal = "kill")").stop_signal, SIGKILL);
  EXPECT_EQ(ParseProgram(R"(stop_signal = "10")").stop_signal, 10);
  EXPECT_EQ(ParseProgram("stop_signal = 3").stop_signal, 3);
}

TEST(ConfigTest, ZeroIsAllowedWhereItMeansSomething) {
  const ProgramSpec program =
      ParseProgram("workers = 0\nstart_period = \"0s\"\nstop_timeout = \"0s\"");
  EXPECT_EQ(program.workers, 0);
  EXPECT_EQ(program.start_period, milliseconds(0));
  EXPECT_EQ(program.stop_timeout, milliseconds(0));
  EXPECT_EQ(
      Parse("[daemon]\nshutdown_timeout = \"0s\"").daemon.shutdown_timeout,
      milliseconds(0));
}

TEST(ConfigTest, LimitsAreInclusive) {
  EXPECT_EQ(ParseProgram("workers = 1024").workers, kMaxWorkersPerProgram);
  EXPECT_EQ(
      ParseProgram("crash_limit = { restarts = 1000 }").crash_limit.restarts,
      kMaxCrashLimitRestarts);
  EXPECT_EQ(
      ParseProgram("backoff = { initial = \"1s\", max = \"1s\" }").backoff.max,
      seconds(1));
  std::string text;
  for (int i = 0; i < kMaxPrograms; ++i) {
    text += "[program.p" + std::to_string(i) + "]\ncommand = \"x\"\n";
  }
  EXPECT_EQ(Parse(text).programs.size(), static_cast<size_t>(kMaxPrograms));
  const std::string long_name(kMaxProgramNameLength, 'n');
  EXPECT_EQ(
      Parse("[program." + long_name + "]\ncommand = \"x\"").programs.at(0).name,
      long_name);
}

// ---------------------------------------------------------------------------
// Paths.

TEST(ConfigPathTest, RelativePathsResolveAgainstTheFilesDirectory) {
  const TempDir dir;
  fs::create_directories(dir.path() / "app" / "sub");
  const std::string file = (dir.path() / "workers.toml").string();
  const Config config = Parse(R"(
[daemon]
control_socket = "run/control.sock"
[program.a]
command = "x"
directory = "app"
[program.b]
command = "x"
directory = "./app/sub/../sub/"
[program.c]
command = "x"
directory = "."
)",
                              file);
  EXPECT_EQ(config.path, file);
  EXPECT_EQ(config.daemon.control_socket,
            (dir.path() / "run/control.sock").string());
  ASSERT_EQ(config.programs.size(), 3u);
  EXPECT_EQ(config.programs[0].directory, (dir.path() / "app").string());
  EXPECT_EQ(config.programs[1].directory, (dir.path() / "app/sub").string());
  EXPECT_EQ(config.programs[2].directory, dir.path().string());
}

TEST(ConfigPathTest, AbsolutePathsStayAsWritten) {
  const Config config = Parse(R"(
[daemon]
control_socket = "/run/workerd/../x.sock"
[program.a]
command = "x"
directory = "/"
)");
  EXPECT_EQ(config.daemon.control_socket, "/run/workerd/../x.sock");
  EXPECT_EQ(config.programs.at(0).directory, "/");
}

TEST(ConfigPathTest, AFileNameWithoutDirectoryMeansTheWorkingDirectory) {
  const Config config =
      Parse("[daemon]\ncontrol_socket = \"c.sock\"", "workers.toml");
  EXPECT_EQ(config.daemon.control_socket,
            (fs::current_path() / "c.sock").string());
}

TEST(ConfigPathTest, DirectoryMustExistAndBeADirectory) {
  const TempDir dir;
  dir.Write("file", "");
  const std::string file = (dir.path() / "workers.toml").string();
  const std::string root = dir.path().string();
  EXPECT_EQ(
      Errors(R"([program.a]
command = "x"
directory = "missing"
[program.b]
command = "x"
directory = "file"
[program.c]
command = "x"
directory = ")" + root +
                 R"(/missing"
[program.d]
command = "x"
directory = ""
[program.e]
command = "x"
directory = "file/sub"
)",
             file),
      (std::vector<std::string>{
          file + R"(:3:13: directory: "missing" ()" + root +
              "/missing) does not exist",
          file + R"(:6:13: directory: "file" ()" + root +
              "/file) is not a directory",
          file + R"(:9:13: directory: ")" + root + "/missing\" does not exist",
          file + ":12:13: directory must not be empty; leave it out to "
                 "start workers in workerd's own directory",
          file + R"(:15:13: directory: "file/sub" ()" + root +
              "/file/sub): Not a directory"}));
}

// ---------------------------------------------------------------------------
// Development mode: watch, ignore, watch_debounce and [daemon] dev.

TEST(ConfigWatchTest, ReadsEveryWatchKey) {
  const TempDir dir;
  fs::create_directories(dir.path() / "src");
  const std::string file = (dir.path() / "workers.toml").string();
  const Config config = Parse(R"([daemon]
dev = true
[program.web]
command = "x"
watch = ["src/**/*.py", "templates/", "./app.py"]
ignore = ["*.log", "tmp/"]
watch_debounce = "1s"
)",
                              file);
  EXPECT_TRUE(config.daemon.dev);
  ASSERT_EQ(config.programs.size(), 1u);
  const ProgramSpec& web = config.programs[0];
  // As written, not normalised.
  EXPECT_EQ(web.watch, (std::vector<std::string>{"src/**/*.py", "templates/",
                                                 "./app.py"}));
  EXPECT_EQ(web.ignore, (std::vector<std::string>{"*.log", "tmp/"}));
  EXPECT_EQ(web.watch_debounce, seconds(1));
  // Without a directory: the file's.
  EXPECT_EQ(web.watch_directory, dir.path().string());
}

TEST(ConfigWatchTest, PatternsAreRelativeToTheProgramsDirectory) {
  const TempDir dir;
  fs::create_directories(dir.path() / "app" / "src");
  const Config config = Parse(R"([program.web]
command = "x"
directory = "app"
watch = ["src/*.py"]
)",
                              (dir.path() / "workers.toml").string());
  EXPECT_EQ(config.programs.at(0).watch_directory,
            (dir.path() / "app").string());
}

TEST(ConfigWatchTest, AFileNameWithoutDirectoryMeansTheWorkingDirectory) {
  EXPECT_EQ(ParseProgram("watch = [\"*.py\"]").watch_directory,
            fs::current_path().string());
}

TEST(ConfigWatchTest, DebounceLimitsAreInclusive) {
  EXPECT_EQ(ParseProgram("watch = [\"*.py\"]\nwatch_debounce = \"10ms\"")
                .watch_debounce,
            milliseconds(10));
  EXPECT_EQ(ParseProgram("watch = [\"*.py\"]\nwatch_debounce = \"1m\"")
                .watch_debounce,
            minutes(1));
}

TEST(ConfigWatchTest, AnEmptyWatchWatchesNothing) {
  const ProgramSpec program = ParseProgram("watch = []");
  EXPECT_TRUE(program.watch.empty());
  EXPECT_EQ(program.watch_directory, "");
}

TEST(ConfigWatchErrorTest, WatchMustBeAnArrayOfStrings) {
  EXPECT_EQ(
      ProgramError(R"(watch = "src/")"),
      R"(workers.toml:2:9: watch must be an array of paths like ["src/**/*.py", "templates/"], not the string "src/"; write ["src/"])");
  EXPECT_EQ(
      ProgramError(R"(watch = true)"),
      R"(workers.toml:2:9: watch must be an array of paths like ["src/**/*.py", "templates/"], not true)");
  EXPECT_EQ(ProgramError(R"(watch = ["a.py", 3])"),
            "workers.toml:2:18: watch[1] must be a string, not the integer 3");
  EXPECT_EQ(
      ProgramError(R"(watch = ["a.py"]
ignore = "tmp/")"),
      R"(workers.toml:3:10: ignore must be an array of paths like ["src/**/*.py", "templates/"], not the string "tmp/"; write ["tmp/"])");
}

TEST(ConfigWatchErrorTest, PatternsMustParse) {
  EXPECT_EQ(
      ProgramError(R"(watch = ["../lib/*.py"])"),
      R"(workers.toml:2:10: watch: "../lib/*.py" has a ".." segment, which would leave the program's directory)");
  EXPECT_EQ(
      ProgramError(R"(watch = ["/srv/app/*.py"])"),
      R"(workers.toml:2:10: watch: "/srv/app/*.py" is absolute; patterns are relative to the program's directory (write "./name" for a name only at its top))");
  EXPECT_EQ(
      ProgramError(R"(watch = [""])"),
      R"(workers.toml:2:10: watch: the pattern is empty; write a path relative to the program's directory, such as "src/**/*.py")");
  EXPECT_EQ(
      ProgramError(R"(watch = ["./"])"),
      R"(workers.toml:2:10: watch: "./" names the program's directory itself; write "**" to watch everything in it)");
  EXPECT_EQ(ProgramError(R"(watch = ["*.py", "*.py"])"),
            R"(workers.toml:2:18: watch: "*.py" is listed twice)");
  EXPECT_EQ(
      ProgramError("watch = [\"*.py\"]\nignore = [\"v[9-0]/\"]"),
      R"(workers.toml:3:11: ignore: "v[9-0]/" has a range in "[9-0]" that runs backwards; write its lower character first)");
  EXPECT_EQ(ProgramError("watch = [\"*.py\"]\nignore = [\"x\\u0000\"]"),
            "workers.toml:3:11: ignore: the pattern contains a NUL character");
}

TEST(ConfigWatchErrorTest, TooManyPatterns) {
  std::string list;
  for (int i = 0; i <= kMaxWatchPatterns; ++i) {
    list += (i > 0 ? ", \"" : "\"") + std::to_string(i) + "\"";
  }
  const std::string error = ProgramError("watch = [" + list + "]");
  EXPECT_TRUE(error.starts_with("workers.toml:2:"));
  EXPECT_TRUE(error.ends_with(": watch: at most 256 patterns are allowed"))
      << error;
}

TEST(ConfigWatchErrorTest, WatchDebounce) {
  const std::string watch = "watch = [\"*.py\"]\n";
  EXPECT_EQ(ProgramError(watch + "watch_debounce = \"5ms\""),
            "workers.toml:3:18: watch_debounce must be from 10ms to 1m, not "
            "5ms");
  EXPECT_EQ(ProgramError(watch + "watch_debounce = \"0s\""),
            "workers.toml:3:18: watch_debounce must be from 10ms to 1m, not "
            "0s");
  EXPECT_EQ(ProgramError(watch + "watch_debounce = \"61s\""),
            "workers.toml:3:18: watch_debounce must be from 10ms to 1m, not "
            "61s");
  EXPECT_EQ(
      ProgramError(watch + "watch_debounce = \"200\""),
      R"(workers.toml:3:18: watch_debounce: "200" has no unit; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(
      ProgramError(watch + "watch_debounce = 200"),
      R"(workers.toml:3:18: watch_debounce must be a duration like "10s", "250ms" or "2m", not the integer 200)");
}

TEST(ConfigWatchErrorTest, IgnoreAndDebounceNeedWatch) {
  EXPECT_EQ(ProgramError(R"(ignore = ["*.log"])"),
            "workers.toml:2:10: ignore applies only to a program with watch");
  EXPECT_EQ(
      ProgramError(R"(watch_debounce = "1s")"),
      "workers.toml:2:18: watch_debounce applies only to a program with watch");
  EXPECT_EQ(ProgramError("watch = []\nignore = []"),
            "workers.toml:3:10: ignore applies only to a program with watch");
}

TEST(ConfigWatchErrorTest, AnchoredDirectoriesMustExist) {
  const TempDir dir;
  fs::create_directories(dir.path() / "app" / "src");
  dir.Write("app/notdir", "");
  const std::string file = (dir.path() / "workers.toml").string();
  const std::string app = (dir.path() / "app").string();
  EXPECT_EQ(
      Errors(R"([program.a]
command = "x"
directory = "app"
watch = ["src/**/*.py", "*.py", "templates/",
         "./templates/",
         "lib/**/*.py",
         "notdir/x.py",
         "./notdir/"]
[program.b]
command = "x"
watch = ["./app/src/", "./missing/"]
[program.c]
command = "x"
directory = "nowhere"
watch = ["./missing/"]
)",
             file),
      (std::vector<std::string>{
          file + R"(:5:10: watch: "./templates/" does not exist in )" + app,
          file +
              R"(:6:10: watch: "lib/**/*.py" needs the directory "lib", which does not exist in )" +
              app,
          file +
              R"(:7:10: watch: "notdir/x.py" needs the directory "notdir", which is not a directory in )" +
              app,
          file + R"(:8:10: watch: "./notdir/" is not a directory in )" + app,
          file + R"(:11:24: watch: "./missing/" does not exist in )" +
              dir.path().string(),
          // The directory's error alone: nothing to look in.
          file + R"(:14:13: directory: "nowhere" ()" + dir.path().string() +
              "/nowhere) does not exist"}));
}

TEST(ConfigWatchErrorTest, Dev) {
  EXPECT_EQ(
      Error("[daemon]\ndev = \"yes\""),
      R"(workers.toml:2:7: dev must be true or false, not the string "yes")");
  EXPECT_EQ(
      Error("[daemon]\ndevv = true"),
      R"(workers.toml:2:1: unknown key "devv" in [daemon] (did you mean "dev"?))");
  EXPECT_EQ(
      ProgramError(R"(wach = ["*.py"])"),
      R"(workers.toml:2:1: unknown key "wach" in [program.web] (did you mean "watch"?))");
  EXPECT_EQ(
      ProgramError(R"(watch_debunce = "1s")"),
      R"(workers.toml:2:1: unknown key "watch_debunce" in [program.web] (did you mean "watch_debounce"?))");
  EXPECT_EQ(
      ProgramError(R"(ignored = ["*.log"])"),
      R"(workers.toml:2:1: unknown key "ignored" in [program.web] (did you mean "ignore"?))");
  // dev is a [daemon] key, not a program's.
  EXPECT_EQ(ProgramError("dev = true"),
            R"(workers.toml:2:1: unknown key "dev" in [program.web])");
}

// ---------------------------------------------------------------------------
// Errors. Each names the key, says what is allowed, and points at the spot.

TEST(ConfigErrorTest, WrongTypesAreErrorsNotDefaults) {
  EXPECT_EQ(
      ProgramError(R"(workers = "4")"),
      R"(workers.toml:2:11: workers must be an integer from 0 to 1024, not the string "4")");
  EXPECT_EQ(ProgramError("workers = 4.0"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not the float 4.0");
  EXPECT_EQ(ProgramError("workers = 2.5e3"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not the float 2500.0");
  EXPECT_EQ(ProgramError("workers = true"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not true");
  EXPECT_EQ(ProgramError("workers = [4]"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not an array");
  EXPECT_EQ(ProgramError("workers = { n = 4 }"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not a table");
  EXPECT_EQ(ProgramError("workers = 1979-05-27"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not a date");
  EXPECT_EQ(ProgramError("workers = 07:32:00"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not a time");
  EXPECT_EQ(ProgramError("workers = 1979-05-27T07:32:00Z"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not a date-time");
  EXPECT_EQ(
      ProgramError("autostart = \"yes\""),
      R"(workers.toml:2:13: autostart must be true or false, not the string "yes")");
  EXPECT_EQ(ProgramError("user = 33"),
            "workers.toml:2:8: user must be a string, not the integer 33");
  EXPECT_EQ(ProgramError("directory = 0x1F"),
            "workers.toml:2:13: directory must be a string, not the integer "
            "0x1F");
}

TEST(ConfigErrorTest, IntegersOutOfRange) {
  EXPECT_EQ(ProgramError("workers = 1025"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not 1025");
  EXPECT_EQ(ProgramError("workers = -1"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not -1");
  EXPECT_EQ(ProgramError("workers = 9223372036854775807"),
            "workers.toml:2:11: workers must be an integer from 0 to 1024, "
            "not 9223372036854775807");
  EXPECT_EQ(ProgramError("crash_limit = { restarts = 0 }"),
            "workers.toml:2:28: crash_limit.restarts must be an integer from "
            "1 to 1000, not 0");
  EXPECT_EQ(ProgramError("crash_limit = { restarts = 1001 }"),
            "workers.toml:2:28: crash_limit.restarts must be an integer from "
            "1 to 1000, not 1001");
}

TEST(ConfigErrorTest, UnknownKeysGetSuggestions) {
  EXPECT_EQ(
      ProgramError(R"(stop_timout = "10s")"),
      R"(workers.toml:2:1: unknown key "stop_timout" in [program.web] (did you mean "stop_timeout"?))");
  EXPECT_EQ(
      ProgramError("Workers = 2"),
      R"(workers.toml:2:1: unknown key "Workers" in [program.web] (did you mean "workers"?))");
  EXPECT_EQ(
      ProgramError("  listen = \"0.0.0.0:80\""),
      R"(workers.toml:2:3: unknown key "listen" in [program.web] (sockets are declared in [socket.NAME] with listen = "..." and passed to programs that list them in sockets = ["NAME"]))");
  EXPECT_EQ(
      ProgramError("socket = [\"http\"]"),
      R"(workers.toml:2:1: unknown key "socket" in [program.web] (did you mean "sockets"?))");
  EXPECT_EQ(
      Error("[daemon]\nlog_levle = \"info\""),
      R"(workers.toml:2:1: unknown key "log_levle" in [daemon] (did you mean "log_level"?))");
  EXPECT_EQ(Error("[daemon]\nworkers = 2"),
            R"(workers.toml:2:1: unknown key "workers" in [daemon])");
}

TEST(ConfigErrorTest, UnknownKeysInSubTablesNameTheTable) {
  EXPECT_EQ(
      ProgramError(R"(backoff = { initail = "1s" })"),
      R"(workers.toml:2:13: unknown key "initail" in [program.web.backoff] (did you mean "initial"?))");
  EXPECT_EQ(
      ProgramError(R"(backoff = { initial = "1s", maximum = "2m" })"),
      R"(workers.toml:2:29: unknown key "maximum" in [program.web.backoff])");
  EXPECT_EQ(
      ProgramError("crash_limit = { restart = 2 }"),
      R"(workers.toml:2:17: unknown key "restart" in [program.web.crash_limit] (did you mean "restarts"?))");
  // Names that need quotes in TOML are quoted in messages too.
  EXPECT_EQ(Errors("[program.\"my app\"]\ncommand = \"x\"\n"
                   "[program.\"my app\".backoff]\nstart = \"1s\""),
            (std::vector<std::string>{
                "workers.toml:1:1: program name \"my app\" may only contain "
                "letters, digits, \"_\", \".\" and \"-\"",
                "workers.toml:4:1: unknown key \"start\" in "
                "[program.\"my app\".backoff]"}));
}

TEST(ConfigErrorTest, DottedProgramNamesNeedQuotes) {
  EXPECT_EQ(
      Errors("[program.api.v2]\ncommand = \"x\""),
      (std::vector<std::string>{
          R"(workers.toml:1:1: [program.api] has no command; add one like command = ["/usr/bin/app", "--port", "8000"])",
          R"(workers.toml:1:14: unknown key "v2" in [program.api] (to name a program "api.v2", write [program."api.v2"]))"}));
  // A plain value gets no such hint.
  EXPECT_EQ(ProgramError("v2 = 1"),
            R"(workers.toml:2:1: unknown key "v2" in [program.web])");
}

TEST(ConfigErrorTest, UnknownSectionsGetSuggestions) {
  EXPECT_EQ(Error("\n\n[programs.web]\ncommand = \"x\""),
            "workers.toml:3:1: unknown section [programs.web] (did you mean "
            "[program.web]?)");
  EXPECT_EQ(Error("[deamon]\nlog_level = \"info\""),
            "workers.toml:1:1: unknown section [deamon] (did you mean "
            "[daemon]?)");
  EXPECT_EQ(Error("[sockets.http]\nlisten = \"0.0.0.0:80\""),
            "workers.toml:1:1: unknown section [sockets.http] (did you mean "
            "[socket.http]?)");
  EXPECT_EQ(Error("[Program]"),
            "workers.toml:1:1: unknown section [Program] (did you mean "
            "[program]?)");
  EXPECT_EQ(Errors("[programs.web]\ncommand = \"x\"\n"
                   "[programs.\"a b\"]\ncommand = \"y\""),
            (std::vector<std::string>{
                "workers.toml:1:1: unknown section [programs.web] (did you "
                "mean [program.web]?)",
                "workers.toml:3:1: unknown section [programs.\"a b\"] (did "
                "you mean [program.\"a b\"]?)"}));
}

TEST(ConfigErrorTest, SettingsOutsideAnySection) {
  EXPECT_EQ(
      Error("workers = 4\n[program.web]\ncommand = \"x\""),
      R"(workers.toml:1:1: unknown key "workers" outside any section; settings go in [daemon], [program.NAME] or [socket.NAME])");
}

TEST(ConfigErrorTest, SectionsOfTheWrongShape) {
  EXPECT_EQ(Error("daemon = 5"),
            "workers.toml:1:10: daemon must be a table like [daemon], not the "
            "integer 5");
  EXPECT_EQ(Error("[[program]]\ncommand = \"x\""),
            "workers.toml:1:1: program must be a table like [program.web], "
            "not an array");
  EXPECT_EQ(
      Error("[program]\ncommand = \"x\""),
      R"(workers.toml:2:1: unknown key "command" in [program]; each program is a table like [program.web])");
  EXPECT_EQ(
      ProgramError(R"(env = "A=1")"),
      R"(workers.toml:2:7: env must be a table like { NAME = "value" }, not the string "A=1")");
  EXPECT_EQ(
      ProgramError(R"(backoff = "1s")"),
      R"(workers.toml:2:11: backoff must be a table like { initial = "100ms", max = "30s" }, not the string "1s")");
  EXPECT_EQ(
      ProgramError("crash_limit = 5"),
      R"(workers.toml:2:15: crash_limit must be a table like { restarts = 5, within = "60s" }, not the integer 5)");
}

TEST(ConfigErrorTest, Durations) {
  EXPECT_EQ(
      ProgramError(R"(stop_timeout = "10")"),
      R"(workers.toml:2:16: stop_timeout: "10" has no unit; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(
      ProgramError("stop_timeout = 10"),
      R"(workers.toml:2:16: stop_timeout must be a duration like "10s", "250ms" or "2m", not the integer 10)");
  EXPECT_EQ(
      ProgramError(R"(start_period = "1 s")"),
      R"(workers.toml:2:16: start_period: "1 s" must not contain spaces; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(
      Error("[daemon]\nshutdown_timeout = \"-1s\""),
      R"(workers.toml:2:20: shutdown_timeout: "-1s" is negative; a duration is 0s or more)");
  EXPECT_EQ(ProgramError(R"(backoff = { initial = "0s" })"),
            "workers.toml:2:23: backoff.initial must be longer than 0s");
  EXPECT_EQ(ProgramError(R"(backoff = { max = "0ms" })"),
            "workers.toml:2:19: backoff.max must be longer than 0s");
  EXPECT_EQ(ProgramError(R"(crash_limit = { within = "0s" })"),
            "workers.toml:2:26: crash_limit.within must be longer than 0s");
  EXPECT_EQ(
      ProgramError(R"(crash_limit = { within = "1y" })"),
      R"(workers.toml:2:26: crash_limit.within: "1y" has an unknown unit "y"; use ms, s, m or h)");
}

TEST(ConfigErrorTest, BackoffMaxMustNotBeBelowInitial) {
  EXPECT_EQ(ProgramError(R"(backoff = { initial = "2s", max = "1500ms" })"),
            "workers.toml:2:35: backoff.max (1.5s) must not be less than "
            "backoff.initial (2s)");
  EXPECT_EQ(ProgramError(R"(backoff = { initial = "1m" })"),
            "workers.toml:2:23: backoff.initial (1m) must not be more than "
            "backoff.max (30s, the default)");
  // A bad value is reported once, not again as a comparison.
  EXPECT_EQ(
      ProgramError(R"(backoff = { initial = "2s", max = "1" })"),
      R"(workers.toml:2:35: backoff.max: "1" has no unit; write it like "10s", "250ms" or "2m")");
}

TEST(ConfigErrorTest, Choices) {
  EXPECT_EQ(
      ProgramError(R"(restart = "sometimes")"),
      R"(workers.toml:2:11: restart must be one of "always", "on-failure", "never", not "sometimes")");
  EXPECT_EQ(
      ProgramError(R"(restart = "on_failure")"),
      R"(workers.toml:2:11: restart must be one of "always", "on-failure", "never", not "on_failure" (did you mean "on-failure"?))");
  EXPECT_EQ(
      ProgramError("restart = true"),
      R"(workers.toml:2:11: restart must be one of "always", "on-failure", "never", not true)");
  EXPECT_EQ(
      Error("[daemon]\nlog_level = \"warning\""),
      R"(workers.toml:2:13: log_level must be one of "trace", "debug", "info", "warn", "error", not "warning")");
  EXPECT_EQ(
      Error("[daemon]\nlog_level = \"INFO\""),
      R"(workers.toml:2:13: log_level must be one of "trace", "debug", "info", "warn", "error", not "INFO" (did you mean "info"?))");
}

TEST(ConfigErrorTest, StopSignal) {
  const std::string expected =
      R"(stop_signal must be a signal name like "TERM", "INT" or "QUIT", or a number from 1 to )" +
      std::to_string(NSIG - 1) + ", not ";
  EXPECT_EQ(
      ProgramError(R"(stop_signal = "TREM")"),
      "workers.toml:2:15: " + expected + R"("TREM" (did you mean "TERM"?))");
  EXPECT_EQ(
      ProgramError(R"(stop_signal = "SIGTREM")"),
      "workers.toml:2:15: " + expected + R"("SIGTREM" (did you mean "TERM"?))");
  EXPECT_EQ(ProgramError(R"(stop_signal = "GRACEFUL")"),
            "workers.toml:2:15: " + expected + R"("GRACEFUL")");
  EXPECT_EQ(ProgramError(R"(stop_signal = "0")"),
            "workers.toml:2:15: " + expected + R"("0")");
  EXPECT_EQ(ProgramError("stop_signal = 0"),
            "workers.toml:2:15: " + expected + "0");
  EXPECT_EQ(ProgramError("stop_signal = 65"),
            "workers.toml:2:15: " + expected + "65");
  EXPECT_EQ(ProgramError("stop_signal = 15.0"),
            "workers.toml:2:15: " + expected + "the float 15.0");
}

TEST(ConfigErrorTest, ControlSocket) {
  EXPECT_EQ(Error("[daemon]\ncontrol_socket = \"\""),
            "workers.toml:2:18: control_socket must not be empty; leave it "
            "out to use the default");
  const std::string long_path = "/" + std::string(107, 'x');
  EXPECT_EQ(Error("[daemon]\ncontrol_socket = \"" + long_path + "\""),
            "workers.toml:2:18: control_socket: " + Quoted(long_path) +
                " is longer than the 107 bytes a Unix socket path may have");
  EXPECT_EQ(
      Parse("[daemon]\ncontrol_socket = \"/" + std::string(106, 'x') + "\"")
          .daemon.control_socket.size(),
      107u);
}

TEST(ConfigErrorTest, ControlMode) {
  const std::string expected =
      R"(workers.toml:2:16: control_mode must be an octal mode in a string, like "0660", from "0000" to "0777", not )";
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = 432"),
            expected + "the integer 432");
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = 0o660"),
            expected + "the integer 0o660");
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = \"rw-rw----\""),
            expected + R"("rw-rw----")");
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = \"0o660\""),
            expected + R"("0o660")");
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = \"0668\""), expected + R"("0668")");
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = \"1777\""), expected + R"("1777")");
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = \"00660\""),
            expected + R"("00660")");
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = \"\""), expected + R"("")");
}

TEST(ConfigErrorTest, UnknownUsersAndGroups) {
  EXPECT_EQ(
      ProgramError(R"(user = "no-such-user-workerd")"),
      R"(workers.toml:2:8: user: there is no user "no-such-user-workerd" on this system)");
  EXPECT_EQ(
      ProgramError(R"(group = "no-such-group-workerd")"),
      R"(workers.toml:2:9: group: there is no group "no-such-group-workerd" on this system)");
  EXPECT_EQ(
      Error("[daemon]\ncontrol_group = \"no-such-group-workerd\""),
      R"(workers.toml:2:17: control_group: there is no group "no-such-group-workerd" on this system)");
  EXPECT_EQ(ProgramError(R"(user = "")"),
            R"(workers.toml:2:8: user: there is no user "" on this system)");
}

TEST(ConfigErrorTest, NulCharactersCannotReachTheKernel) {
  EXPECT_EQ(ProgramError(R"(user = "root\u0000x")"),
            "workers.toml:2:8: user must not contain a NUL character");
  EXPECT_EQ(ProgramError(R"(command = ["app", "a\u0000b"])"),
            "workers.toml:2:11: command must not contain a NUL character");
  EXPECT_EQ(ProgramError(R"(env = { A = "\u0000" })"),
            "workers.toml:2:13: env.A must not contain a NUL character");
  EXPECT_EQ(ProgramError(R"(env = { "A\u0000" = "1" })"),
            "workers.toml:2:9: env: the name \"A\\u0000\" must not contain "
            "\"=\" or a NUL character");
}

TEST(ConfigErrorTest, Command) {
  EXPECT_EQ(
      Error("[program.web]\nworkers = 2"),
      R"(workers.toml:1:1: [program.web] has no command; add one like command = ["/usr/bin/app", "--port", "8000"])");
  EXPECT_EQ(ProgramError("command = []"),
            "workers.toml:2:11: command must not be empty");
  EXPECT_EQ(ProgramError("command = \"  \""),
            "workers.toml:2:11: command must not be empty");
  EXPECT_EQ(ProgramError(R"(command = "'' app")"),
            R"(workers.toml:2:11: command must start with a program, not "")");
  EXPECT_EQ(
      ProgramError("command = 5"),
      R"(workers.toml:2:11: command must be an array of strings like ["gunicorn", "app:wsgi"] or a string, not the integer 5)");
  EXPECT_EQ(ProgramError(R"(command = "app 'unclosed")"),
            "workers.toml:2:11: command: the single quote at character 5 is "
            "never closed");
  EXPECT_EQ(
      ProgramError(R"(command = "gunicorn app | tee log")"),
      R"(workers.toml:2:11: command: "|" is shell syntax, but the command is not run by a shell; quote it to pass it literally, or use command = ["sh", "-c", "..."])");
  EXPECT_EQ(
      ProgramError(R"(command = "app --port=80{instnace}")"),
      R"(workers.toml:2:11: command: "{instnace}" is not a placeholder (did you mean "{instance}"?); only {instance}, {program} and {fd:NAME} are replaced)");
}

TEST(ConfigErrorTest, CommandArrayElementsEachReported) {
  EXPECT_EQ(Errors(R"([program.web]
command = ["app", 8000, "", ["x"]]
)"),
            (std::vector<std::string>{
                "workers.toml:2:19: command[1] must be a string, not the "
                "integer 8000",
                "workers.toml:2:25: command[2] must not be empty",
                "workers.toml:2:29: command[3] must be a string, not an "
                "array"}));
}

TEST(ConfigErrorTest, Env) {
  EXPECT_EQ(
      ProgramError("env = { PORT = 8000 }"),
      R"(workers.toml:2:16: env.PORT must be a string, not the integer 8000; write "8000")");
  EXPECT_EQ(
      ProgramError("env = { DEBUG = true }"),
      R"(workers.toml:2:17: env.DEBUG must be a string, not true; write "true")");
  EXPECT_EQ(
      ProgramError("env = { RATIO = 0.5 }"),
      R"(workers.toml:2:17: env.RATIO must be a string, not the float 0.5; write "0.5")");
  EXPECT_EQ(ProgramError("env = { LIST = [\"a\"] }"),
            R"(workers.toml:2:16: env.LIST must be a string, not an array)");
  EXPECT_EQ(ProgramError(R"(env = { "" = "1" })"),
            "workers.toml:2:9: env: a variable name must not be empty");
  EXPECT_EQ(ProgramError(R"(env = { "A=B" = "1" })"),
            "workers.toml:2:9: env: the name \"A=B\" must not contain \"=\" "
            "or a NUL character");
  EXPECT_EQ(ProgramError(R"(env = { LISTEN_FDS = "3" })"),
            "workers.toml:2:9: env.LISTEN_FDS is set by workerd for each "
            "worker and cannot be set here");
  EXPECT_EQ(ProgramError(R"(env = { "NOTIFY_SOCKET" = "/x" })"),
            "workers.toml:2:9: env.NOTIFY_SOCKET is set by workerd for each "
            "worker and cannot be set here");
  EXPECT_EQ(
      ProgramError(R"(env = { ID = "{Instance}" })"),
      R"(workers.toml:2:14: env.ID: "{Instance}" is not a placeholder (did you mean "{instance}"?); only {instance}, {program} and {fd:NAME} are replaced)");
  EXPECT_EQ(
      ProgramError(R"(env = { "a b" = 5 })"),
      R"(workers.toml:2:17: env."a b" must be a string, not the integer 5; write "5")");
}

TEST(ConfigErrorTest, ProgramNames) {
  EXPECT_EQ(Error("[program.\"web:1\"]\ncommand = \"x\""),
            "workers.toml:1:1: program name \"web:1\" may only contain "
            "letters, digits, \"_\", \".\" and \"-\"");
  EXPECT_EQ(Error("[program.\"\"]\ncommand = \"x\""),
            "workers.toml:1:1: a program name must not be empty");
  EXPECT_EQ(Error("[program.-web]\ncommand = \"x\""),
            "workers.toml:1:1: program name \"-web\" must start with a "
            "letter, a digit or \"_\"");
  EXPECT_EQ(Error("[program.\"..\"]\ncommand = \"x\""),
            "workers.toml:1:1: program name \"..\" must start with a "
            "letter, a digit or \"_\"");
  const std::string long_name(kMaxProgramNameLength + 1, 'n');
  EXPECT_EQ(Error("[program." + long_name + "]\ncommand = \"x\""),
            "workers.toml:1:1: program name \"" + long_name +
                "\" is longer than 64 characters");
}

TEST(ConfigErrorTest, TooManyPrograms) {
  std::string text;
  for (int i = 0; i <= kMaxPrograms + 5; ++i) {
    text += "[program.p" + std::to_string(i) + "]\ncommand = \"x\"\n";
  }
  EXPECT_EQ(Error(text),
            "workers.toml:513:1: too many programs: at most 256 "
            "are allowed");
}

TEST(ConfigErrorTest, AllErrorsAreReportedInFileOrder) {
  EXPECT_EQ(
      Errors(R"([program.web]
command = "app"
workers = "4"
stop_timout = "10s"
restart = "sometimes"

[daemon]
log_level = "loud"

[program.jobs]
workers = -1
backoff = { initial = "0s", max = 3 }

[programs.x]
)"),
      (std::vector<std::string>{
          R"(workers.toml:3:11: workers must be an integer from 0 to 1024, not the string "4")",
          R"(workers.toml:4:1: unknown key "stop_timout" in [program.web] (did you mean "stop_timeout"?))",
          R"(workers.toml:5:11: restart must be one of "always", "on-failure", "never", not "sometimes")",
          R"(workers.toml:8:13: log_level must be one of "trace", "debug", "info", "warn", "error", not "loud")",
          R"(workers.toml:10:1: [program.jobs] has no command; add one like command = ["/usr/bin/app", "--port", "8000"])",
          "workers.toml:11:11: workers must be an integer from 0 to "
          "1024, not -1",
          "workers.toml:12:23: backoff.initial must be longer than 0s",
          R"(workers.toml:12:35: backoff.max must be a duration like "10s", "250ms" or "2m", not the integer 3)",
          "workers.toml:14:1: unknown section [programs.x] (did you "
          "mean [program.x]?)"}));
}

// ---------------------------------------------------------------------------
// Sockets: [socket.NAME], and the program keys that use them.

TEST(ConfigSocketTest, DefaultsAreTheHeaderInitializers) {
  const SocketSpec socket = ParseSocket("");
  SocketSpec expected;
  expected.name = "http";
  expected.listen = {ListenAddress::Family::kInet, "127.0.0.1", 8080, ""};
  expected.position = {1, 1};
  EXPECT_EQ(socket, expected);
  // Spelled out, so that a changed initializer is a visible decision.
  EXPECT_EQ(socket.backlog, 1024);
  EXPECT_EQ(socket.balance, Balance::kShared);
  EXPECT_EQ(socket.mode, 0666u);
  EXPECT_EQ(socket.owner_uid, std::nullopt);
  EXPECT_EQ(socket.group_gid, std::nullopt);
}

TEST(ConfigSocketTest, ReadsEveryTcpSocketKey) {
  const SocketSpec socket = ParseSocket(
      "listen = \"[::]:8443\"\nbacklog = 4096\nbalance = \"reuseport\"");
  EXPECT_EQ(socket.listen,
            (ListenAddress{ListenAddress::Family::kInet6, "::", 8443, ""}));
  EXPECT_EQ(socket.backlog, 4096);
  EXPECT_EQ(socket.balance, Balance::kReuseport);
}

TEST(ConfigSocketTest, ReadsEveryUnixSocketKey) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const SocketSpec socket = ParseSocket(R"(listen = "unix:/run/app.sock"
backlog = 1
balance = "shared"
mode = "0660"
owner = "nobody"
group = "daemon")");
  EXPECT_EQ(socket.listen.ToString(), "unix:/run/app.sock");
  EXPECT_EQ(socket.backlog, 1);
  EXPECT_EQ(socket.balance, Balance::kShared);
  EXPECT_EQ(socket.mode, 0660u);
  EXPECT_EQ(socket.owner_uid, nobody->pw_uid);
  // The owner's primary group is not implied: the group stays unset
  // unless `group` is given.
  EXPECT_EQ(socket.group_gid, getgrnam("daemon")->gr_gid);
  EXPECT_EQ(
      ParseSocket("listen = \"unix:/a.sock\"\nowner = \"root\"").group_gid,
      std::nullopt);
}

TEST(ConfigSocketTest, ListenForms) {
  EXPECT_EQ(ParseSocket("listen = \"*:80\"").listen.ToString(), "0.0.0.0:80");
  EXPECT_EQ(ParseSocket("listen = \"localhost:80\"").listen.ToString(),
            "127.0.0.1:80");
  EXPECT_EQ(ParseSocket("listen = \"[::1]:80\"").listen.ToString(), "[::1]:80");
}

TEST(ConfigSocketTest, BacklogLimitsAreInclusive) {
  EXPECT_EQ(ParseSocket("backlog = 1").backlog, 1);
  EXPECT_EQ(ParseSocket("backlog = 65535").backlog, 65535);
}

TEST(ConfigSocketTest, ReadsEveryBalanceAndReadiness) {
  EXPECT_EQ(ParseSocket("balance = \"shared\"").balance, Balance::kShared);
  EXPECT_EQ(ParseSocket("balance = \"reuseport\"").balance,
            Balance::kReuseport);
  EXPECT_EQ(BalanceName(Balance::kShared), "shared");
  EXPECT_EQ(BalanceName(Balance::kReuseport), "reuseport");
  EXPECT_EQ(ParseProgram("ready = \"exec\"").ready, Readiness::kExec);
  EXPECT_EQ(ParseProgram("ready = \"notify\"").ready, Readiness::kNotify);
  EXPECT_EQ(ReadinessName(Readiness::kExec), "exec");
  EXPECT_EQ(ReadinessName(Readiness::kNotify), "notify");
}

TEST(ConfigSocketTest, SocketsKeepTheOrderOfTheFile) {
  const Config config = Parse(R"(socket.mid = { listen = "unix:/run/m.sock" }
[socket.zeta]
listen = "127.0.0.1:8003"
[program.web]
command = "x"
[socket.alpha]
listen = "127.0.0.1:8001"
)");
  ASSERT_EQ(config.sockets.size(), 3u);
  EXPECT_EQ(config.sockets[0].name, "mid");
  EXPECT_EQ(config.sockets[1].name, "zeta");
  EXPECT_EQ(config.sockets[2].name, "alpha");
  EXPECT_EQ(config.sockets[2].position, (SourcePosition{6, 1}));
  EXPECT_EQ(config.FindSocket("alpha"), &config.sockets[2]);
  EXPECT_EQ(config.FindSocket("mid"), &config.sockets[0]);
  EXPECT_EQ(config.FindSocket("web"), nullptr);
}

TEST(ConfigSocketTest, SocketNamesFollowTheRulesOfProgramNames) {
  const Config config = Parse(R"(
[socket."api.v2"]
listen = "127.0.0.1:8001"
[socket.Http_2-b]
listen = "127.0.0.1:8002"
)");
  ASSERT_EQ(config.sockets.size(), 2u);
  EXPECT_EQ(config.sockets[0].name, "api.v2");
  EXPECT_EQ(config.sockets[1].name, "Http_2-b");
  // A program and a socket may have the same name.
  EXPECT_EQ(Parse("[socket.web]\nlisten = \"*:80\"\n[program.web]\n"
                  "command = \"x\"\nsockets = [\"web\"]")
                .programs.at(0)
                .sockets,
            (std::vector<std::string>{"web"}));
}

TEST(ConfigSocketTest, RelativeUnixPathsResolveAgainstTheFilesDirectory) {
  const TempDir dir;
  const std::string file = (dir.path() / "workers.toml").string();
  const Config config = Parse(R"(
[socket.a]
listen = "unix:run/a.sock"
[socket.b]
listen = "unix:./run/../b.sock"
[socket.c]
listen = "unix:/abs//c.sock"
)",
                              file);
  ASSERT_EQ(config.sockets.size(), 3u);
  EXPECT_EQ(config.sockets[0].listen.path,
            (dir.path() / "run/a.sock").string());
  EXPECT_EQ(config.sockets[1].listen.path, (dir.path() / "b.sock").string());
  EXPECT_EQ(config.sockets[2].listen.path, "/abs//c.sock");
  EXPECT_EQ(
      Parse("[socket.a]\nlisten = \"unix:a.sock\"").sockets.at(0).listen.path,
      (fs::current_path() / "a.sock").string());
}

TEST(ConfigSocketTest, ProgramsListSocketsInTheirFdOrder) {
  const ProgramSpec web = ParseProgramWithSockets(
      "command = \"x\"\nsockets = [\"admin\", \"http\"]");
  EXPECT_EQ(web.sockets, (std::vector<std::string>{"admin", "http"}));
  EXPECT_TRUE(
      ParseProgramWithSockets("command = \"x\"\nsockets = []").sockets.empty());
  // One socket may go to several programs.
  const Config config = Parse(std::string(kTwoSockets) +
                              "command = \"x\"\nsockets = [\"http\"]\n"
                              "[program.api]\ncommand = \"y\"\n"
                              "sockets = [\"http\"]\n");
  ASSERT_EQ(config.programs.size(), 2u);
  EXPECT_EQ(config.programs[1].sockets, (std::vector<std::string>{"http"}));
}

TEST(ConfigSocketTest, FdPlaceholdersStayUnexpanded) {
  const ProgramSpec web = ParseProgramWithSockets(
      R"(command = "uvicorn app:app --fd {fd:http} --admin-fd={fd:admin}")"
      "\nenv = { ADMIN_FD = \"{fd:admin}\" }"
      "\nsockets = [\"http\", \"admin\"]");
  EXPECT_EQ(web.command,
            (std::vector<std::string>{"uvicorn", "app:app", "--fd", "{fd:http}",
                                      "--admin-fd={fd:admin}"}));
  EXPECT_EQ(web.env, (std::vector<std::pair<std::string, std::string>>{
                         {"ADMIN_FD", "{fd:admin}"}}));
}

TEST(ConfigSocketTest, ReadinessAndWatchdog) {
  const ProgramSpec notify = ParseProgram(
      "ready = \"notify\"\nready_timeout = \"250ms\"\nwatchdog = \"30s\"");
  EXPECT_EQ(notify.ready, Readiness::kNotify);
  EXPECT_EQ(notify.ready_timeout, milliseconds(250));
  EXPECT_EQ(notify.watchdog, seconds(30));
  // The timeout may come first; the default applies when it is left out.
  EXPECT_EQ(
      ParseProgram("ready_timeout = \"2m\"\nready = \"notify\"").ready_timeout,
      minutes(2));
  EXPECT_EQ(ParseProgram("ready = \"notify\"").ready_timeout, seconds(60));
  // A watchdog needs no notify readiness: an exec worker may ping too.
  EXPECT_EQ(ParseProgram("watchdog = \"1s\"").watchdog, seconds(1));
}

TEST(ConfigSocketErrorTest, Listen) {
  EXPECT_EQ(
      Error("[socket.http]\nbacklog = 5\n"),
      R"(workers.toml:1:1: [socket.http] has no listen address; add one like listen = "127.0.0.1:8080" or listen = "unix:/run/app.sock")");
  EXPECT_EQ(SocketError("listen = 8080"),
            "workers.toml:2:10: listen must be a string, not the integer 8080");
  EXPECT_EQ(
      SocketError("listen = \"8080\""),
      R"(workers.toml:2:10: listen: "8080" has no host: write "127.0.0.1:8080" for this machine only, or "*:8080" for every address)");
  EXPECT_EQ(
      SocketError("listen = \"example.com:80\""),
      R"(workers.toml:2:10: listen: "example.com:80": host names are not resolved; use a numeric address such as "127.0.0.1:80" (or "localhost:80"), or "*:80" for every address)");
  EXPECT_EQ(
      SocketError("listen = \"\""),
      R"(workers.toml:2:10: listen: an empty string is not an address: write "HOST:PORT" such as "127.0.0.1:8080", "[::]:8080" or "unix:/run/app.sock")");
  EXPECT_EQ(SocketError(R"(listen = "unix:/a\u0000")"),
            "workers.toml:2:10: listen must not contain a NUL character");
}

TEST(ConfigSocketErrorTest, RelativeUnixPathsMustFitOnceResolved) {
  const TempDir dir;
  const std::string file = (dir.path() / "workers.toml").string();
  // Fits as written, not once the file's directory is put in front.
  const std::string name(100, 'x');
  EXPECT_EQ(Errors("[socket.a]\nlisten = \"unix:" + name + "\"", file),
            (std::vector<std::string>{
                file + ":2:10: listen: \"unix:" + name.substr(0, 75) +
                "...\" (" + (dir.path() / name).string() +
                ") is longer than the 107 bytes a Unix socket path may "
                "have"}));
}

TEST(ConfigSocketErrorTest, BacklogAndBalance) {
  EXPECT_EQ(SocketError("backlog = 0"),
            "workers.toml:2:11: backlog must be an integer from 1 to 65535, "
            "not 0");
  EXPECT_EQ(SocketError("backlog = 65536"),
            "workers.toml:2:11: backlog must be an integer from 1 to 65535, "
            "not 65536");
  EXPECT_EQ(
      SocketError("backlog = \"128\""),
      R"(workers.toml:2:11: backlog must be an integer from 1 to 65535, not the string "128")");
  EXPECT_EQ(
      SocketError("balance = \"reuse-port\""),
      R"(workers.toml:2:11: balance must be one of "shared", "reuseport", not "reuse-port" (did you mean "reuseport"?))");
  EXPECT_EQ(
      SocketError("balance = true"),
      R"(workers.toml:2:11: balance must be one of "shared", "reuseport", not true)");
  EXPECT_EQ(
      SocketError("listen = \"unix:/run/app.sock\"\nbalance = \"reuseport\""),
      R"(workers.toml:3:11: balance = "reuseport" needs a TCP socket: SO_REUSEPORT balancing works only for TCP, and this socket listens on unix:/run/app.sock)");
}

TEST(ConfigSocketErrorTest, UnixOnlyKeysOnATcpSocket) {
  EXPECT_EQ(
      Errors("[socket.http]\nlisten = \"127.0.0.1:8080\"\nmode = \"0600\"\n"
             "owner = \"root\"\ngroup = \"root\"\n"),
      (std::vector<std::string>{
          R"(workers.toml:3:8: mode applies only to Unix sockets ("unix:PATH"); this socket listens on 127.0.0.1:8080)",
          R"(workers.toml:4:9: owner applies only to Unix sockets ("unix:PATH"); this socket listens on 127.0.0.1:8080)",
          R"(workers.toml:5:9: group applies only to Unix sockets ("unix:PATH"); this socket listens on 127.0.0.1:8080)"}));
  // With a bad listen address the kind is unknown: only that is reported.
  EXPECT_EQ(
      SocketError("listen = \"8080\"\nmode = \"0600\""),
      R"(workers.toml:2:10: listen: "8080" has no host: write "127.0.0.1:8080" for this machine only, or "*:8080" for every address)");
}

TEST(ConfigSocketErrorTest, ModeOwnerAndGroup) {
  const std::string unix_listen = "listen = \"unix:/run/app.sock\"\n";
  EXPECT_EQ(
      SocketError(unix_listen + "mode = \"0668\""),
      R"(workers.toml:3:8: mode must be an octal mode in a string, like "0660", from "0000" to "0777", not "0668")");
  EXPECT_EQ(
      SocketError(unix_listen + "mode = 438"),
      R"(workers.toml:3:8: mode must be an octal mode in a string, like "0660", from "0000" to "0777", not the integer 438)");
  EXPECT_EQ(
      SocketError(unix_listen + "owner = \"no-such-user-workerd\""),
      R"(workers.toml:3:9: owner: there is no user "no-such-user-workerd" on this system)");
  EXPECT_EQ(
      SocketError(unix_listen + "group = \"no-such-group-workerd\""),
      R"(workers.toml:3:9: group: there is no group "no-such-group-workerd" on this system)");
  EXPECT_EQ(SocketError(unix_listen + "owner = 0"),
            "workers.toml:3:9: owner must be a string, not the integer 0");
}

TEST(ConfigSocketErrorTest, UnknownKeys) {
  EXPECT_EQ(
      SocketError("backlgo = 5"),
      R"(workers.toml:2:1: unknown key "backlgo" in [socket.http] (did you mean "backlog"?))");
  EXPECT_EQ(SocketError("address = \"*:80\""),
            R"(workers.toml:2:1: unknown key "address" in [socket.http])");
  EXPECT_EQ(
      Errors("[socket.api.v2]\nlisten = \"*:80\""),
      (std::vector<std::string>{
          R"(workers.toml:1:1: [socket.api] has no listen address; add one like listen = "127.0.0.1:8080" or listen = "unix:/run/app.sock")",
          R"(workers.toml:1:13: unknown key "v2" in [socket.api] (to name a socket "api.v2", write [socket."api.v2"]))"}));
  EXPECT_EQ(
      Error("[socket]\nlisten = \"*:80\""),
      R"(workers.toml:2:1: unknown key "listen" in [socket]; each socket is a table like [socket.http])");
  EXPECT_EQ(Error("socket = 5"),
            "workers.toml:1:10: socket must be a table like [socket.http], "
            "not the integer 5");
}

TEST(ConfigSocketErrorTest, SocketNames) {
  EXPECT_EQ(Error("[socket.\"a:b\"]\nlisten = \"*:80\""),
            "workers.toml:1:1: socket name \"a:b\" may only contain "
            "letters, digits, \"_\", \".\" and \"-\"");
  EXPECT_EQ(Error("[socket.\"\"]\nlisten = \"*:80\""),
            "workers.toml:1:1: a socket name must not be empty");
  EXPECT_EQ(Error("[socket.-http]\nlisten = \"*:80\""),
            "workers.toml:1:1: socket name \"-http\" must start with a "
            "letter, a digit or \"_\"");
  const std::string long_name(kMaxProgramNameLength + 1, 's');
  EXPECT_EQ(Error("[socket." + long_name + "]\nlisten = \"*:80\""),
            "workers.toml:1:1: socket name \"" + long_name +
                "\" is longer than 64 characters");
}

TEST(ConfigSocketErrorTest, TwoSocketsCannotHaveTheSameAddress) {
  EXPECT_EQ(
      Errors(R"([socket.http]
listen = "127.0.0.1:8080"
[socket.api]
listen = "localhost:8080"
[socket.other]
listen = "127.0.0.1:8081"
[socket.again]
listen = "127.0.0.1:8080"
)"),
      (std::vector<std::string>{
          "workers.toml:4:10: [socket.api] listens on 127.0.0.1:8080 like "
          "[socket.http] at line 1; two sockets cannot have the same address "
          "(to pass one socket to several programs, list it in the sockets "
          "of each)",
          "workers.toml:8:10: [socket.again] listens on 127.0.0.1:8080 like "
          "[socket.http] at line 1; two sockets cannot have the same address "
          "(to pass one socket to several programs, list it in the sockets "
          "of each)"}));
  EXPECT_EQ(Error("[socket.a]\nlisten = \"[::]:80\"\n"
                  "[socket.b]\nlisten = \"[0::0]:80\"\n"),
            "workers.toml:4:10: [socket.b] listens on [::]:80 like "
            "[socket.a] at line 1; two sockets cannot have the same address "
            "(to pass one socket to several programs, list it in the sockets "
            "of each)");
  const TempDir dir;
  const std::string file = (dir.path() / "workers.toml").string();
  EXPECT_EQ(Errors("[socket.a]\nlisten = \"unix:app.sock\"\n"
                   "[socket.b]\nlisten = \"unix:" +
                       (dir.path() / "." / "app.sock").string() + "\"\n",
                   file),
            (std::vector<std::string>{
                file + ":4:10: [socket.b] listens on unix:" +
                (dir.path() / "." / "app.sock").string() +
                " like [socket.a] at line 1; two sockets cannot have the "
                "same address (to pass one socket to several programs, list "
                "it in the sockets of each)"}));
  // The same port on different hosts or families is fine.
  EXPECT_EQ(Parse("[socket.a]\nlisten = \"127.0.0.1:80\"\n"
                  "[socket.b]\nlisten = \"[::1]:80\"\n"
                  "[socket.c]\nlisten = \"127.0.0.2:80\"\n")
                .sockets.size(),
            3u);
}

TEST(ConfigSocketErrorTest, TooManySockets) {
  std::string text;
  for (int i = 0; i <= kMaxSockets; ++i) {
    text += "[socket.s" + std::to_string(i) +
            "]\nlisten = \"127.0.0.1:" + std::to_string(1000 + i) + "\"\n";
  }
  EXPECT_EQ(Error(text),
            "workers.toml:513:1: too many sockets: at most 256 are allowed");
  text.resize(text.rfind("[socket."));
  EXPECT_EQ(Parse(text).sockets.size(), static_cast<size_t>(kMaxSockets));
}

TEST(ConfigSocketErrorTest, ProgramSockets) {
  EXPECT_EQ(
      ProgramWithSocketsErrors("command = \"x\"\nsockets = \"http\""),
      (std::vector<std::string>{
          R"(workers.toml:7:11: sockets must be an array of socket names like ["http"], not the string "http"; write ["http"])"}));
  EXPECT_EQ(
      ProgramWithSocketsErrors("command = \"x\"\nsockets = 3"),
      (std::vector<std::string>{
          R"(workers.toml:7:11: sockets must be an array of socket names like ["http"], not the integer 3)"}));
  EXPECT_EQ(
      ProgramWithSocketsErrors(
          "command = \"x\"\nsockets = [\"http\", 3, \"htp\", \"metrics\", "
          "\"http\"]"),
      (std::vector<std::string>{
          "workers.toml:7:20: sockets[1] must be a string, not the integer 3",
          R"(workers.toml:7:23: sockets: there is no socket "htp" (did you mean "http"?))",
          R"(workers.toml:7:30: sockets: there is no socket "metrics"; declare it with [socket.metrics])",
          R"(workers.toml:7:41: sockets: "http" is listed twice; a worker gets each socket once)"}));
  // Without any [socket.NAME] at all.
  EXPECT_EQ(
      ProgramError("sockets = [\"a b\"]"),
      R"(workers.toml:2:12: sockets: there is no socket "a b"; declare it with [socket."a b"])");
  // A socket with errors of its own still has its name.
  EXPECT_EQ(
      Errors("[socket.http]\nlisten = \"http\"\n[program.web]\n"
             "command = \"x\"\nsockets = [\"http\"]\n"),
      (std::vector<std::string>{
          R"(workers.toml:2:10: listen: "http" has no port: write "HOST:PORT" such as "127.0.0.1:8080", "[::]:8080" or "unix:/run/app.sock")"}));
}

TEST(ConfigSocketErrorTest, UnknownFdPlaceholders) {
  const std::string sockets = "\nsockets = [\"http\", \"admin\"]";
  EXPECT_EQ(
      ProgramWithSocketsErrors(R"(command = "uvicorn app:app --fd {fd:htp}")" +
                               sockets),
      (std::vector<std::string>{
          R"(workers.toml:6:11: command: "{fd:htp}" is not one of the program's sockets (did you mean "{fd:http}"?))"}));
  EXPECT_EQ(
      ProgramWithSocketsErrors(R"(command = ["app", "--fd={fd:metrics}"])" +
                               sockets),
      (std::vector<std::string>{
          R"(workers.toml:6:11: command: "{fd:metrics}" is not one of the program's sockets; they are "http", "admin")"}));
  EXPECT_EQ(
      ProgramWithSocketsErrors(
          "command = \"app\"\nenv = { FD = \"{fd:admin}\" }\n"
          "sockets = [\"http\"]"),
      (std::vector<std::string>{
          R"(workers.toml:7:14: env.FD: "{fd:admin}" is not one of the program's sockets; add "admin" to its sockets to pass it to the workers)"}));
  EXPECT_EQ(
      ProgramError(R"(command = "app --fd {fd:http}")"),
      R"(workers.toml:2:11: command: "{fd:http}" names a socket, but the program has none; declare [socket.http] and list it in sockets = ["http"])");
  EXPECT_EQ(
      ProgramWithSocketsErrors(R"(command = "app --fd {fd:http}")"),
      (std::vector<std::string>{
          R"(workers.toml:6:11: command: "{fd:http}" is not one of the program's sockets; add "http" to its sockets to pass it to the workers)"}));
  EXPECT_EQ(
      ProgramWithSocketsErrors(R"(command = "app --fd {fd:}")" + sockets),
      (std::vector<std::string>{
          R"(workers.toml:6:11: command: "{fd:}" has no socket name; write "{fd:NAME}" with NAME one of the program's sockets)"}));
  // A name reported as unknown in `sockets` is not reported again.
  EXPECT_EQ(
      ProgramWithSocketsErrors(
          "command = \"app --fd {fd:htp}\"\nsockets = [\"htp\"]"),
      (std::vector<std::string>{
          R"(workers.toml:7:12: sockets: there is no socket "htp" (did you mean "http"?))"}));
}

TEST(ConfigSocketErrorTest, MisspelledFdPlaceholders) {
  EXPECT_EQ(
      ProgramError(R"(command = "app --fd {fd}")"),
      R"(workers.toml:2:11: command: "{fd}" is not a placeholder (did you mean "{fd:NAME}"?); only {instance}, {program} and {fd:NAME} are replaced)");
  EXPECT_EQ(
      ProgramError(R"(env = { FD = "{FD:http}" })"),
      R"(workers.toml:2:14: env.FD: "{FD:http}" is not a placeholder (did you mean "{fd:http}"?); only {instance}, {program} and {fd:NAME} are replaced)");
}

TEST(ConfigSocketErrorTest, Readiness) {
  EXPECT_EQ(
      ProgramError("ready = \"notfy\""),
      R"(workers.toml:2:9: ready must be one of "exec", "notify", not "notfy" (did you mean "notify"?))");
  EXPECT_EQ(
      ProgramError("ready_timeout = \"30s\""),
      R"(workers.toml:2:17: ready_timeout applies only to ready = "notify"; with ready = "exec" a worker is ready after start_period)");
  EXPECT_EQ(
      ProgramError("ready = \"exec\"\nready_timeout = \"30s\""),
      R"(workers.toml:3:17: ready_timeout applies only to ready = "notify"; with ready = "exec" a worker is ready after start_period)");
  // A bad `ready` is reported alone.
  EXPECT_EQ(
      ProgramError("ready = true\nready_timeout = \"30s\""),
      R"(workers.toml:2:9: ready must be one of "exec", "notify", not true)");
  EXPECT_EQ(ProgramError("ready = \"notify\"\nready_timeout = \"0s\""),
            "workers.toml:3:17: ready_timeout must be longer than 0s");
  EXPECT_EQ(
      ProgramError("ready = \"notify\"\nready_timeout = 30"),
      R"(workers.toml:3:17: ready_timeout must be a duration like "10s", "250ms" or "2m", not the integer 30)");
}

TEST(ConfigSocketErrorTest, Watchdog) {
  EXPECT_EQ(ProgramError("watchdog = \"0s\""),
            "workers.toml:2:12: watchdog must be longer than 0s");
  EXPECT_EQ(
      ProgramError("watchdog = \"10\""),
      R"(workers.toml:2:12: watchdog: "10" has no unit; write it like "10s", "250ms" or "2m")");
  EXPECT_EQ(
      ProgramError("watchdog = true"),
      R"(workers.toml:2:12: watchdog must be a duration like "10s", "250ms" or "2m", not true)");
  EXPECT_EQ(ProgramError(R"(env = { WATCHDOG_USEC = "1" })"),
            "workers.toml:2:9: env.WATCHDOG_USEC is set by workerd for each "
            "worker and cannot be set here");
}

// ---------------------------------------------------------------------------
// Program types and dependencies: type, depends_on and
// restart_with_dependency in [program.NAME].

// A oneshot "migrate" (lines 1-3) and a service "redis" (lines 4-5), then
// [program.web] on line 6: its body starts on line 7.
constexpr std::string_view kMigrateAndRedis =
    "[program.migrate]\ntype = \"oneshot\"\ncommand = \"migrate\"\n"
    "[program.redis]\ncommand = \"redis-server\"\n"
    "[program.web]\ncommand = \"app\"\n";

// [program.web] with `body` (from line 8), after kMigrateAndRedis.
ProgramSpec ParseDependent(const std::string& body) {
  Config config = Parse(std::string(kMigrateAndRedis) + body + "\n");
  const ProgramSpec* web = config.FindProgram("web");
  EXPECT_NE(web, nullptr);
  return web ? *web : ProgramSpec{};
}

std::vector<std::string> DependentErrors(const std::string& body) {
  return Errors(std::string(kMigrateAndRedis) + body + "\n");
}

Dependency Needs(std::string program, DependencyCondition condition,
                 SourcePosition position) {
  return Dependency{std::move(program), condition, position};
}

TEST(ConfigDependencyTest, NamesOfTypesAndConditions) {
  for (const auto& [name, type] :
       std::vector<std::pair<std::string, ProgramType>>{
           {"service", ProgramType::kService},
           {"oneshot", ProgramType::kOneshot}}) {
    EXPECT_EQ(ParseProgram("type = \"" + name + "\"").type, type);
    EXPECT_EQ(ProgramTypeName(type), name);
  }
  EXPECT_EQ(DependencyConditionName(DependencyCondition::kStarted), "started");
  EXPECT_EQ(DependencyConditionName(DependencyCondition::kReady), "ready");
  EXPECT_EQ(DependencyConditionName(DependencyCondition::kCompleted),
            "completed");
}

TEST(ConfigDependencyTest, OneshotRestartsNeverUnlessItSaysOtherwise) {
  EXPECT_EQ(ParseProgram("type = \"oneshot\"").restart, RestartPolicy::kNever);
  EXPECT_EQ(
      ParseProgram("type = \"oneshot\"\nrestart = \"on-failure\"").restart,
      RestartPolicy::kOnFailure);
  EXPECT_EQ(ParseProgram("restart = \"never\"\ntype = \"oneshot\"").restart,
            RestartPolicy::kNever);
  EXPECT_EQ(ParseProgram("type = \"service\"").restart, RestartPolicy::kAlways);
  // A oneshot may have several workers, or none, and sockets.
  const ProgramSpec none = ParseProgram("type = \"oneshot\"\nworkers = 0");
  EXPECT_EQ(none.workers, 0);
  EXPECT_EQ(ParseProgramWithSockets("type = \"oneshot\"\ncommand = \"x\"\n"
                                    "workers = 3\nsockets = [\"http\"]")
                .workers,
            3);
}

TEST(ConfigDependencyTest, ListFormGetsTheConditionOfTheDependencysType) {
  const ProgramSpec web = ParseDependent(
      "depends_on = [\"migrate\", \"redis\"]\nrestart_with_dependency = true");
  EXPECT_EQ(web.depends_on,
            (std::vector<Dependency>{
                Needs("migrate", DependencyCondition::kCompleted, {8, 15}),
                Needs("redis", DependencyCondition::kReady, {8, 26})}));
  EXPECT_TRUE(web.restart_with_dependency);
  EXPECT_TRUE(ParseDependent("depends_on = []").depends_on.empty());
  EXPECT_FALSE(ParseDependent("depends_on = [\"redis\"]\n"
                              "restart_with_dependency = false")
                   .restart_with_dependency);
}

TEST(ConfigDependencyTest, DependenciesMayComeLaterInTheFile) {
  const Config config = Parse(R"([program.web]
command = "app"
depends_on = ["migrate", "redis"]
[program.migrate]
command = "migrate"
type = "oneshot"
[program.redis]
command = "redis-server"
)");
  EXPECT_EQ(config.programs.at(0).depends_on,
            (std::vector<Dependency>{
                Needs("migrate", DependencyCondition::kCompleted, {3, 15}),
                Needs("redis", DependencyCondition::kReady, {3, 26})}));
}

TEST(ConfigDependencyTest, TableFormKeepsItsConditionsAndTheFilesOrder) {
  EXPECT_EQ(ParseDependent(
                R"(depends_on = { redis = "started", migrate = "completed" })")
                .depends_on,
            (std::vector<Dependency>{
                Needs("redis", DependencyCondition::kStarted, {8, 16}),
                Needs("migrate", DependencyCondition::kCompleted, {8, 35})}));
  EXPECT_EQ(
      ParseDependent(R"(depends_on = { migrate = "started", redis = "ready" })")
          .depends_on,
      (std::vector<Dependency>{
          Needs("migrate", DependencyCondition::kStarted, {8, 16}),
          Needs("redis", DependencyCondition::kReady, {8, 37})}));
  // `ready` on a oneshot is not checked here: what it means is the
  // supervisor's business.
  EXPECT_EQ(ParseDependent(R"(depends_on = { migrate = "ready" })").depends_on,
            (std::vector<Dependency>{
                Needs("migrate", DependencyCondition::kReady, {8, 16})}));
  EXPECT_TRUE(ParseDependent("depends_on = {}").depends_on.empty());
}

TEST(ConfigDependencyTest, TableFormMayBeASection) {
  const Config config = Parse(R"([program.web]
command = "app"
[program.web.depends_on]
migrate = "completed"
redis = "started"
[program.migrate]
command = "migrate"
type = "oneshot"
[program.redis]
command = "redis-server"
)");
  EXPECT_EQ(config.programs.at(0).depends_on,
            (std::vector<Dependency>{
                Needs("migrate", DependencyCondition::kCompleted, {4, 1}),
                Needs("redis", DependencyCondition::kStarted, {5, 1})}));
}

TEST(ConfigDependencyErrorTest, Type) {
  EXPECT_EQ(
      ProgramError("type = \"oneshott\""),
      R"(workers.toml:2:8: type must be one of "service", "oneshot", not "oneshott" (did you mean "oneshot"?))");
  EXPECT_EQ(
      ProgramError("type = \"task\""),
      R"(workers.toml:2:8: type must be one of "service", "oneshot", not "task")");
  EXPECT_EQ(
      ProgramError("type = 1"),
      R"(workers.toml:2:8: type must be one of "service", "oneshot", not the integer 1)");
  EXPECT_EQ(
      ProgramError("typ = \"oneshot\""),
      R"(workers.toml:2:1: unknown key "typ" in [program.web] (did you mean "type"?))");
}

TEST(ConfigDependencyErrorTest, OneshotCannotRestartAlways) {
  EXPECT_EQ(
      ProgramError("type = \"oneshot\"\nrestart = \"always\""),
      R"(workers.toml:3:11: restart = "always" would run a oneshot again each time it completes; use "on-failure" (retry with backoff) or "never")");
  EXPECT_EQ(
      ProgramError("restart = \"always\"\ntype = \"oneshot\""),
      R"(workers.toml:2:11: restart = "always" would run a oneshot again each time it completes; use "on-failure" (retry with backoff) or "never")");
}

TEST(ConfigDependencyErrorTest, ServiceKeysOnAOneshot) {
  EXPECT_EQ(ProgramError("type = \"oneshot\"\nstart_period = \"2s\""),
            "workers.toml:3:16: start_period applies to services; a oneshot is "
            "done when it exits 0");
  EXPECT_EQ(ProgramError("type = \"oneshot\"\nwatchdog = \"30s\""),
            "workers.toml:3:12: watchdog applies to services; a oneshot is "
            "done when it exits 0");
  // Reported as a service key whatever the value, and once: not also as
  // ready_timeout without ready = "notify".
  EXPECT_EQ(ProgramError("type = \"oneshot\"\nready_timeout = \"30s\""),
            "workers.toml:3:17: ready_timeout applies to services; a oneshot "
            "is done when it exits 0");
  EXPECT_EQ(ProgramError("type = \"oneshot\"\nwatchdog = \"0s\""),
            "workers.toml:3:12: watchdog applies to services; a oneshot is "
            "done when it exits 0");
  EXPECT_EQ(
      Errors("[program.web]\ncommand = \"app\"\ntype = \"oneshot\"\n"
             "ready = \"notify\"\nready_timeout = \"30s\"\n"),
      (std::vector<std::string>{
          "workers.toml:4:9: ready applies to services; a oneshot is done "
          "when it exits 0",
          "workers.toml:5:17: ready_timeout applies to services; a oneshot "
          "is done when it exits 0"}));
}

TEST(ConfigDependencyErrorTest, DependsOnOfTheWrongType) {
  EXPECT_EQ(
      ProgramError("depends_on = 3"),
      R"(workers.toml:2:14: depends_on must be an array of program names like ["migrate"] or a table like { migrate = "completed" }, not the integer 3)");
  EXPECT_EQ(
      ProgramError("depends_on = \"migrate\""),
      R"(workers.toml:2:14: depends_on must be an array of program names like ["migrate"] or a table like { migrate = "completed" }, not the string "migrate"; write ["migrate"])");
  // Reported once: not again as restart_with_dependency without depends_on.
  EXPECT_EQ(
      ProgramError("depends_on = true\nrestart_with_dependency = true"),
      R"(workers.toml:2:14: depends_on must be an array of program names like ["migrate"] or a table like { migrate = "completed" }, not true)");
}

TEST(ConfigDependencyErrorTest, ListEntries) {
  EXPECT_EQ(
      DependentErrors(R"(depends_on = ["migrate", 3, "", "migrate", "redis"])"),
      (std::vector<std::string>{
          "workers.toml:8:26: depends_on[1] must be a string, not the integer "
          "3",
          "workers.toml:8:29: depends_on[2] must not be empty",
          R"(workers.toml:8:33: depends_on: "migrate" is listed twice)"}));
}

TEST(ConfigDependencyErrorTest, Conditions) {
  EXPECT_EQ(
      DependentErrors(R"(depends_on = { migrate = "complete" })"),
      (std::vector<std::string>{
          R"(workers.toml:8:26: depends_on.migrate must be one of "started", "ready", "completed", not "complete" (did you mean "completed"?))"}));
  EXPECT_EQ(
      DependentErrors(R"(depends_on = { migrate = "done", redis = 1 })"),
      (std::vector<std::string>{
          R"(workers.toml:8:26: depends_on.migrate must be one of "started", "ready", "completed", not "done")",
          R"(workers.toml:8:42: depends_on.redis must be one of "started", "ready", "completed", not the integer 1)"}));
  EXPECT_EQ(
      DependentErrors(R"(depends_on = { "" = "ready" })"),
      (std::vector<std::string>{
          "workers.toml:8:16: depends_on: a program name must not be empty"}));
}

TEST(ConfigDependencyErrorTest, UnknownPrograms) {
  EXPECT_EQ(
      DependentErrors(R"(depends_on = ["migrat", "cache"])"),
      (std::vector<std::string>{
          R"(workers.toml:8:15: depends_on: there is no program "migrat" (did you mean "migrate"?))",
          R"(workers.toml:8:25: depends_on: there is no program "cache"; declare it with [program.cache])"}));
  EXPECT_EQ(
      DependentErrors(R"(depends_on = { redsi = "ready", "a b" = "ready" })"),
      (std::vector<std::string>{
          R"(workers.toml:8:16: depends_on: there is no program "redsi" (did you mean "redis"?))",
          R"(workers.toml:8:33: depends_on: there is no program "a b"; declare it with [program."a b"])"}));
  // A program is not suggested as its own dependency.
  EXPECT_EQ(
      ProgramError(R"(depends_on = ["wbe"])"),
      R"(workers.toml:2:15: depends_on: there is no program "wbe"; declare it with [program.wbe])");
}

TEST(ConfigDependencyErrorTest, ProgramCannotDependOnItself) {
  // A cycle of one, reported as what it is and not again as a cycle.
  EXPECT_EQ(ProgramError(R"(depends_on = ["web"])"),
            "workers.toml:2:15: depends_on: web cannot depend on itself");
  EXPECT_EQ(ProgramError(R"(depends_on = { web = "started" })"),
            "workers.toml:2:16: depends_on: web cannot depend on itself");
}

TEST(ConfigDependencyErrorTest, CompletedAppliesToOneshots) {
  EXPECT_EQ(
      DependentErrors(
          R"(depends_on = { migrate = "completed", redis = "completed" })"),
      (std::vector<std::string>{
          R"(workers.toml:8:39: depends_on: "completed" applies to oneshot programs, and redis is a service; use "ready" or "started")"}));
  // When the dependency's type is wrong, its own error is enough.
  EXPECT_EQ(
      Errors("[program.migrate]\ntype = \"oneshott\"\ncommand = \"migrate\"\n"
             "[program.web]\ncommand = \"app\"\n"
             "depends_on = { migrate = \"completed\" }\n"),
      (std::vector<std::string>{
          R"(workers.toml:2:8: type must be one of "service", "oneshot", not "oneshott" (did you mean "oneshot"?))"}));
}

TEST(ConfigDependencyErrorTest, RestartWithDependencyNeedsDependsOn) {
  EXPECT_EQ(
      ProgramError("restart_with_dependency = true"),
      "workers.toml:2:27: restart_with_dependency applies only to a program "
      "with depends_on");
  EXPECT_EQ(
      ProgramError("depends_on = []\nrestart_with_dependency = true"),
      "workers.toml:3:27: restart_with_dependency applies only to a program "
      "with depends_on");
  EXPECT_EQ(
      ProgramError("restart_with_dependency = \"yes\""),
      R"(workers.toml:2:27: restart_with_dependency must be true or false, not the string "yes")");
  EXPECT_FALSE(
      ParseProgram("restart_with_dependency = false").restart_with_dependency);
}

TEST(ConfigDependencyErrorTest, CycleOfTwo) {
  EXPECT_EQ(Error(R"([program.web]
command = "app"
depends_on = ["jobs"]
[program.jobs]
command = "jobs"
depends_on = { web = "started" }
)"),
            "workers.toml:3:15: depends_on makes a cycle: web -> jobs -> web");
}

TEST(ConfigDependencyErrorTest, CycleOfThreeToldFromItsFirstProgram) {
  // Reported at c's entry for a: c comes first in the file.
  EXPECT_EQ(Error(R"([program.c]
command = "c"
depends_on = ["x", "a"]
[program.a]
command = "a"
depends_on = ["b"]
[program.b]
command = "b"
depends_on = ["c"]
[program.x]
command = "x"
)"),
            "workers.toml:3:20: depends_on makes a cycle: c -> a -> b -> c");
}

TEST(ConfigDependencyErrorTest, CycleNextToValidPrograms) {
  // web needs migrate and redis, fine; jobs and mailer need each other.
  EXPECT_EQ(Error(std::string(kMigrateAndRedis) +
                  R"(depends_on = ["migrate", "redis"]
[program.jobs]
command = "jobs"
depends_on = ["web", "mailer"]
[program.mailer]
command = "mailer"
depends_on = { jobs = "ready", redis = "ready" }
)"),
            "workers.toml:11:22: depends_on makes a cycle: jobs -> mailer -> "
            "jobs");
}

TEST(ConfigDependencyErrorTest, NoCycleIsReportedOverEntryErrors) {
  EXPECT_EQ(
      Errors(R"([program.web]
command = "app"
depends_on = ["jobs", "migrat"]
[program.jobs]
command = "jobs"
depends_on = ["web"]
[program.migrate]
command = "migrate"
)"),
      (std::vector<std::string>{
          R"(workers.toml:3:23: depends_on: there is no program "migrat" (did you mean "migrate"?))"}));
}

// ---------------------------------------------------------------------------
// Output capture: log, log_dir, log_max_size, log_keep, log_timestamps and
// log_buffer in [program.NAME], log_dir in [daemon].

TEST(ConfigLogTest, DefaultsWhenTheFileSaysNothing) {
  const Config config = Parse("[program.web]\ncommand = \"app\"");
  EXPECT_EQ(config.daemon.log_dir, "/var/log/workerd");
  const ProgramSpec& web = config.programs.at(0);
  EXPECT_EQ(web.log, LogMode::kInherit);
  EXPECT_FALSE(web.log_written);
  EXPECT_EQ(web.log_dir, "/var/log/workerd");
  EXPECT_EQ(web.log_max_size, 100u << 20);
  EXPECT_EQ(web.log_keep, 5);
  EXPECT_TRUE(web.log_timestamps);
  EXPECT_EQ(web.log_buffer, 1u << 20);
}

TEST(ConfigLogTest, ReadsEveryLogMode) {
  for (const auto& [name, mode] : std::vector<std::pair<std::string, LogMode>>{
           {"file", LogMode::kFile},
           {"journal", LogMode::kJournal},
           {"inherit", LogMode::kInherit},
           {"null", LogMode::kNull}}) {
    const ProgramSpec web = ParseProgram("log = \"" + name + "\"");
    EXPECT_EQ(web.log, mode) << name;
    EXPECT_TRUE(web.log_written) << name;
    EXPECT_EQ(LogModeName(mode), name);
  }
}

TEST(ConfigLogTest, ReadsEveryLogKey) {
  const ProgramSpec web = ParseProgram(R"(log = "file"
log_dir = "/srv/log/web"
log_max_size = "10M"
log_keep = 0
log_timestamps = false
log_buffer = "64K")");
  EXPECT_EQ(web.log, LogMode::kFile);
  EXPECT_TRUE(web.log_written);
  EXPECT_EQ(web.log_dir, "/srv/log/web");
  EXPECT_EQ(web.log_max_size, 10u << 20);
  EXPECT_EQ(web.log_keep, 0);
  EXPECT_FALSE(web.log_timestamps);
  EXPECT_EQ(web.log_buffer, 64u << 10);
}

TEST(ConfigLogTest, SizesAreStringsWithAUnitOrIntegersOfBytes) {
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = 4096").log_max_size, 4096u);
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = \"4096\"").log_max_size, 4096u);
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = \"1K\"").log_max_size, 1024u);
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = 1024").log_max_size, 1024u);
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = \"2g\"").log_max_size, 2u << 30);
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = \"1024G\"").log_max_size,
            std::uint64_t{1} << 40);
  // 0: never rotate.
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = 0").log_max_size, 0u);
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_max_size = \"0\"").log_max_size, 0u);
  EXPECT_EQ(ParseProgram("log_buffer = 0").log_buffer, 0u);
  EXPECT_EQ(ParseProgram("log_buffer = 1").log_buffer, 1u);
  EXPECT_EQ(ParseProgram("log_buffer = \"1G\"").log_buffer, 1u << 30);
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_keep = 1000").log_keep, 1000);
}

TEST(ConfigLogTest, LogDirComesFromTheDaemonUnlessTheProgramSetsOne) {
  const Config config = Parse(R"(
[program.a]
command = "x"
[program.b]
command = "x"
log = "file"
log_dir = "/srv/b"
[daemon]
log_dir = "/srv/logs"
)");
  EXPECT_EQ(config.daemon.log_dir, "/srv/logs");
  ASSERT_EQ(config.programs.size(), 2u);
  // [daemon] counts wherever it is in the file.
  EXPECT_EQ(config.programs[0].log_dir, "/srv/logs");
  EXPECT_EQ(config.programs[1].log_dir, "/srv/b");
}

TEST(ConfigLogTest, RelativeLogDirsResolveAgainstTheFilesDirectory) {
  const TempDir dir;
  const std::string file = (dir.path() / "workers.toml").string();
  const Config config = Parse(R"(
[daemon]
log_dir = "logs/"
[program.a]
command = "x"
[program.b]
command = "x"
log = "file"
log_dir = "b/../b-logs/"
[program.c]
command = "x"
log = "file"
log_dir = "."
)",
                              file);
  EXPECT_EQ(config.daemon.log_dir, (dir.path() / "logs").string());
  ASSERT_EQ(config.programs.size(), 3u);
  EXPECT_EQ(config.programs[0].log_dir, (dir.path() / "logs").string());
  EXPECT_EQ(config.programs[1].log_dir, (dir.path() / "b-logs").string());
  EXPECT_EQ(config.programs[2].log_dir, dir.path().string());
  EXPECT_EQ(ParseProgram("log = \"file\"\nlog_dir = \"logs\"").log_dir,
            (fs::current_path() / "logs").string());
}

TEST(ConfigLogTest, DefaultLogModeIsTheJournalUnderSystemd) {
  const char* const plain[] = {"PATH=/usr/bin", "HOME=/root", nullptr};
  EXPECT_EQ(DefaultLogMode(plain), LogMode::kInherit);
  const char* const empty[] = {nullptr};
  EXPECT_EQ(DefaultLogMode(empty), LogMode::kInherit);
  EXPECT_EQ(DefaultLogMode(nullptr), LogMode::kInherit);
  const char* const journal[] = {"PATH=/usr/bin", "JOURNAL_STREAM=8:12345",
                                 nullptr};
  EXPECT_EQ(DefaultLogMode(journal), LogMode::kJournal);
  const char* const invocation[] = {"INVOCATION_ID=0123abcd", "HOME=/",
                                    nullptr};
  EXPECT_EQ(DefaultLogMode(invocation), LogMode::kJournal);
  const char* const empty_value[] = {"INVOCATION_ID=", nullptr};
  EXPECT_EQ(DefaultLogMode(empty_value), LogMode::kJournal);
  // Only those exact names count.
  const char* const lookalikes[] = {"JOURNAL_STREAMS=1", "XINVOCATION_ID=1",
                                    "JOURNAL_STREAM", "MY_JOURNAL_STREAM=1",
                                    nullptr};
  EXPECT_EQ(DefaultLogMode(lookalikes), LogMode::kInherit);
}

TEST(ConfigLogTest, ApplyLogDefaultLeavesModesTheFileSetAlone) {
  Config config = Parse(R"(
[program.a]
command = "x"
[program.b]
command = "x"
log = "null"
[program.c]
command = "x"
log = "inherit"
[program.d]
command = "x"
log = "file"
)");
  ApplyLogDefault(config, LogMode::kJournal);
  ASSERT_EQ(config.programs.size(), 4u);
  EXPECT_EQ(config.programs[0].log, LogMode::kJournal);
  EXPECT_EQ(config.programs[1].log, LogMode::kNull);
  EXPECT_EQ(config.programs[2].log, LogMode::kInherit);
  EXPECT_EQ(config.programs[3].log, LogMode::kFile);
  ApplyLogDefault(config, LogMode::kInherit);
  EXPECT_EQ(config.programs[0].log, LogMode::kInherit);
  EXPECT_EQ(config.programs[2].log, LogMode::kInherit);
  EXPECT_FALSE(config.programs[0].log_written);
}

TEST(ConfigLogErrorTest, Mode) {
  EXPECT_EQ(
      ProgramError(R"(log = "files")"),
      R"(workers.toml:2:7: log must be one of "file", "journal", "inherit", "null", not "files" (did you mean "file"?))");
  EXPECT_EQ(
      ProgramError(R"(log = "journald")"),
      R"(workers.toml:2:7: log must be one of "file", "journal", "inherit", "null", not "journald" (did you mean "journal"?))");
  EXPECT_EQ(
      ProgramError(R"(log = "syslog")"),
      R"(workers.toml:2:7: log must be one of "file", "journal", "inherit", "null", not "syslog")");
  EXPECT_EQ(
      ProgramError("log = true"),
      R"(workers.toml:2:7: log must be one of "file", "journal", "inherit", "null", not true)");
  // A bad mode alone is reported, not the settings that depend on it.
  EXPECT_EQ(
      ProgramError("log = \"fiel\"\nlog_dir = \"/l\"\nlog_timestamps = false"),
      R"(workers.toml:2:7: log must be one of "file", "journal", "inherit", "null", not "fiel" (did you mean "file"?))");
}

TEST(ConfigLogErrorTest, LogDir) {
  EXPECT_EQ(ProgramError(R"(log_dir = "")"),
            "workers.toml:2:11: log_dir must not be empty; leave it out to "
            "use [daemon]'s (/var/log/workerd)");
  EXPECT_EQ(Error("[daemon]\nlog_dir = \"/srv/logs\"\n[program.web]\n"
                  "command = \"x\"\nlog_dir = \"\""),
            "workers.toml:5:11: log_dir must not be empty; leave it out to "
            "use [daemon]'s (/srv/logs)");
  EXPECT_EQ(ProgramError("log_dir = 1"),
            "workers.toml:2:11: log_dir must be a string, not the integer 1");
  EXPECT_EQ(Error("[daemon]\nlog_dir = \"\""),
            "workers.toml:2:11: log_dir must not be empty; leave it out to "
            "use /var/log/workerd");
  EXPECT_EQ(Error("[daemon]\nlog_dir = false"),
            "workers.toml:2:11: log_dir must be a string, not false");
  EXPECT_EQ(
      Error("[daemon]\nlog_dri = \"/l\""),
      R"(workers.toml:2:1: unknown key "log_dri" in [daemon] (did you mean "log_dir"?))");
}

TEST(ConfigLogErrorTest, Sizes) {
  EXPECT_EQ(ProgramError("log_max_size = 1023"),
            "workers.toml:2:16: log_max_size must be from 1K to 1024G, or 0, "
            "not 1023");
  EXPECT_EQ(ProgramError("log_max_size = \"1023\""),
            "workers.toml:2:16: log_max_size must be from 1K to 1024G, or 0, "
            "not 1023");
  EXPECT_EQ(ProgramError("log_max_size = \"2048G\""),
            "workers.toml:2:16: log_max_size must be from 1K to 1024G, or 0, "
            "not 2048G");
  EXPECT_EQ(ProgramError("log_max_size = -1"),
            "workers.toml:2:16: log_max_size must be from 1K to 1024G, or 0, "
            "not -1");
  EXPECT_EQ(
      ProgramError(R"(log_max_size = "10MB")"),
      R"(workers.toml:2:16: log_max_size: "10MB" has an unknown unit "MB"; use K, M or G (powers of 1024), or no unit for bytes)");
  EXPECT_EQ(
      ProgramError(R"(log_max_size = "1.5M")"),
      R"(workers.toml:2:16: log_max_size: "1.5M" is not a whole number; write it like "512M", "1G", "64K" or a number of bytes)");
  EXPECT_EQ(
      ProgramError("log_max_size = true"),
      R"(workers.toml:2:16: log_max_size must be a size like "100M", "64K" or "1G", not true)");
  EXPECT_EQ(
      ProgramError("log_max_size = 1.5"),
      R"(workers.toml:2:16: log_max_size must be a size like "100M", "64K" or "1G", not the float 1.5)");
  EXPECT_EQ(ProgramError("log_buffer = \"2G\""),
            "workers.toml:2:14: log_buffer must be from 0 to 1G, not 2G");
  EXPECT_EQ(ProgramError("log_buffer = 1073741825"),
            "workers.toml:2:14: log_buffer must be from 0 to 1G, not "
            "1073741825");
}

TEST(ConfigLogErrorTest, KeepAndTimestamps) {
  EXPECT_EQ(ProgramError("log_keep = 1001"),
            "workers.toml:2:12: log_keep must be an integer from 0 to 1000, "
            "not 1001");
  EXPECT_EQ(ProgramError("log_keep = -1"),
            "workers.toml:2:12: log_keep must be an integer from 0 to 1000, "
            "not -1");
  EXPECT_EQ(ProgramError("log_keep = \"5\""),
            "workers.toml:2:12: log_keep must be an integer from 0 to 1000, "
            "not the string \"5\"");
  EXPECT_EQ(ProgramError("log_timestamps = \"yes\""),
            "workers.toml:2:18: log_timestamps must be true or false, not the "
            "string \"yes\"");
  EXPECT_EQ(
      ProgramError("log_timestamp = false"),
      R"(workers.toml:2:1: unknown key "log_timestamp" in [program.web] (did you mean "log_timestamps"?))");
}

TEST(ConfigLogErrorTest, FileSettingsNeedLogFile) {
  for (const std::string mode : {"journal", "inherit", "null"}) {
    const std::string has = "and this program has log = \"" + mode + "\"";
    EXPECT_EQ(
        Errors("[program.web]\ncommand = \"x\"\nlog = \"" + mode +
               "\"\nlog_dir = \"/l\"\nlog_max_size = \"1M\"\n"
               "log_keep = 2\n"),
        (std::vector<std::string>{
            "workers.toml:4:11: log_dir applies only to log = \"file\", " + has,
            "workers.toml:5:16: log_max_size applies only to log = "
            "\"file\", " +
                has,
            "workers.toml:6:12: log_keep applies only to log = "
            "\"file\", " +
                has}))
        << mode;
  }
  // Without log the mode is never "file".
  EXPECT_EQ(ProgramError("log_keep = 2"),
            "workers.toml:2:12: log_keep applies only to log = \"file\", and "
            "this program does not set log (add log = \"file\")");
  // The same keys with log = "file" are what they are for.
  const ProgramSpec web = ParseProgram(
      "log = \"file\"\nlog_dir = \"/l\"\nlog_max_size = \"1M\"\nlog_keep = 2");
  EXPECT_EQ(web.log_dir, "/l");
  EXPECT_EQ(web.log_max_size, 1u << 20);
  EXPECT_EQ(web.log_keep, 2);
}

TEST(ConfigLogErrorTest, TimestampsNeedAFileOrInherit) {
  EXPECT_EQ(ProgramError("log = \"journal\"\nlog_timestamps = true"),
            "workers.toml:3:18: log_timestamps applies only to log = \"file\" "
            "or \"inherit\", and this program has log = \"journal\" (the "
            "journal keeps its own times)");
  EXPECT_EQ(ProgramError("log = \"null\"\nlog_timestamps = false"),
            "workers.toml:3:18: log_timestamps applies only to log = \"file\" "
            "or \"inherit\", and this program has log = \"null\"");
  EXPECT_FALSE(
      ParseProgram("log = \"inherit\"\nlog_timestamps = false").log_timestamps);
  EXPECT_EQ(ProgramError("log = \"null\"\nlog_buffer = \"2M\""),
            "workers.toml:3:14: log_buffer applies only to log = \"file\" or "
            "\"inherit\" (workerd sees no other output), and this program has "
            "log = \"null\"");
  EXPECT_FALSE(
      ParseProgram("log = \"file\"\nlog_timestamps = false").log_timestamps);
}

// ---------------------------------------------------------------------------
// TOML syntax errors: one error, at toml++'s position, explained.

TEST(ConfigSyntaxTest, UnclosedArrayBeforeTheNextKey) {
  EXPECT_EQ(Error("[program.web]\ncommand = [\"a\", \"b\",\ninstances = 3\n"),
            "workers.toml:3:3: invalid TOML: the array starting at line 2, "
            "column 11 is missing its closing \"]\"");
  EXPECT_EQ(Error("[program.web]\ncommand = [\"a\", \"b\"\nworkers = 3\n"),
            "workers.toml:3:1: invalid TOML: the array starting at line 2, "
            "column 11 is missing its closing \"]\"");
  EXPECT_EQ(Error("[program.web]\ncommand = [\"a\",\n  \"b\"\n\n[daemon]\n"),
            "workers.toml:5:1: invalid TOML: the array starting at line 2, "
            "column 11 is missing its closing \"]\"");
  EXPECT_EQ(Error("a = [\n  \"x\",\n  nice = 1\n"),
            "workers.toml:3:4: invalid TOML: the array starting at line 1, "
            "column 5 is missing its closing \"]\"");
}

TEST(ConfigSyntaxTest, UnclosedArrayAtTheEnd) {
  EXPECT_EQ(Error("command = [\"a\",\n  \"b\",\n"),
            "workers.toml:2:8: invalid TOML: the array starting at line 1, "
            "column 11 is missing its closing \"]\"");
}

TEST(ConfigSyntaxTest, BadValueInsideAMultiLineArray) {
  // The array is closed later: the problem is the value, not the bracket.
  EXPECT_EQ(Error("command = [\n  \"a\",\n  b,\n]\n"),
            "workers.toml:3:3: invalid TOML: b is not a value; strings need "
            "quotes, like \"b\"");
}

TEST(ConfigSyntaxTest, UnclosedInlineTable) {
  EXPECT_EQ(Error("env = { A = \"1\",\n B = \"2\" }\n"),
            "workers.toml:1:17: invalid TOML: the inline table starting at "
            "column 7 is missing its closing \"}\" (an inline table must be "
            "on one line)");
  EXPECT_EQ(Error("env = { A = \"1\""),
            "workers.toml:1:16: invalid TOML: the inline table starting at "
            "column 7 is missing its closing \"}\" (an inline table must be "
            "on one line)");
}

TEST(ConfigSyntaxTest, UnclosedString) {
  EXPECT_EQ(Error("[program.web]\ncommand = \"app\nworkers = 2\n"),
            "workers.toml:2:15: invalid TOML: the string starting at column "
            "11 is missing its closing \"");
  EXPECT_EQ(Error("a = 'x"),
            "workers.toml:1:7: invalid TOML: the string starting at column 5 "
            "is missing its closing '");
  EXPECT_EQ(Error("a = \"\"\"one\ntwo"),
            "workers.toml:2:4: invalid TOML: the string starting at line 1, "
            "column 5 is missing its closing \"\"\"");
}

TEST(ConfigSyntaxTest, BadCharactersInsideAStringAreNotAMissingQuote) {
  EXPECT_EQ(Error(R"(command = "C:\app")"),
            "workers.toml:1:15: invalid TOML: unknown escape sequence '\\a' "
            "(write a backslash as \\\\, or use a 'literal string' in single "
            "quotes)");
  EXPECT_EQ(Error("a = \"x\x01y\""),
            "workers.toml:1:7: invalid TOML: unescaped control characters "
            "other than TAB (U+0009) are explicitly prohibited");
}

TEST(ConfigSyntaxTest, UnquotedValues) {
  EXPECT_EQ(Error("[program.web]\ncommand = gunicorn app\n"),
            "workers.toml:2:11: invalid TOML: gunicorn is not a value; "
            "strings need quotes, like \"gunicorn\"");
  EXPECT_EQ(Error("[program.web]\nuser = www-data\n"),
            "workers.toml:2:8: invalid TOML: www-data is not a value; "
            "strings need quotes, like \"www-data\"");
  EXPECT_EQ(Error("workers = four"),
            "workers.toml:1:12: invalid TOML: four is not a value; strings "
            "need quotes, like \"four\"");
  EXPECT_EQ(Error("autostart = True"),
            "workers.toml:1:13: invalid TOML: True is not a value; write true "
            "or false");
  EXPECT_EQ(Error("autostart = yes"),
            "workers.toml:1:13: invalid TOML: yes is not a value; write true "
            "or false");
}

TEST(ConfigSyntaxTest, MissingValues) {
  EXPECT_EQ(Error("[program.web]\nworkers = = 2\n"),
            "workers.toml:2:11: invalid TOML: expected a value here, such as "
            "\"text\", 42, true or [\"a\", \"b\"]");
  EXPECT_EQ(Error("workers = \n"),
            "workers.toml:1:11: invalid TOML: expected a value here, such as "
            "\"text\", 42, true or [\"a\", \"b\"]");
}

TEST(ConfigSyntaxTest, DurationsWithoutQuotes) {
  EXPECT_EQ(Error("[program.web]\nstop_timeout = 10s\n"),
            "workers.toml:2:18: invalid TOML: 10s is not a value; durations "
            "and sizes are strings, like \"10s\"");
  EXPECT_EQ(Error("start_period = 1.5s"),
            "workers.toml:1:19: invalid TOML: 1.5s is not a value; durations "
            "and sizes are strings, like \"1.5s\"");
}

TEST(ConfigSyntaxTest, ModesWithLeadingZeros) {
  EXPECT_EQ(Error("[daemon]\ncontrol_mode = 0660\n"),
            "workers.toml:2:20: invalid TOML: a number cannot start with 0 "
            "(write a mode as a string, like \"0660\")");
}

TEST(ConfigSyntaxTest, OtherErrorsKeepTomlsWords) {
  EXPECT_EQ(Error("[program.web]\ncommand = \"x\"\n[program.web]\n"),
            "workers.toml:3:1: invalid TOML: cannot redefine existing table "
            "'program.web'");
  EXPECT_EQ(Error("a = 1\na = 2"),
            "workers.toml:2:5: invalid TOML: cannot redefine existing "
            "integer 'a'");
  EXPECT_EQ(Error("[daemon"),
            "workers.toml:1:8: invalid TOML: the file ends in the middle of a "
            "table header");
  EXPECT_EQ(Error("a 1"),
            "workers.toml:1:3: invalid TOML: expected '=', saw '1'");
}

// ---------------------------------------------------------------------------
// Files.

TEST(LoadConfigFileTest, ReadsAFile) {
  const TempDir dir;
  const fs::path file =
      dir.Write("workers.toml", "[program.web]\ncommand = \"app\"\n");
  const ConfigLoad load = LoadConfigFile(file.string());
  ASSERT_TRUE(load.config.has_value());
  EXPECT_TRUE(load.errors.empty());
  EXPECT_EQ(load.config->path, file.string());
  EXPECT_EQ(load.config->programs.at(0).name, "web");
}

TEST(LoadConfigFileTest, ErrorsNameTheFileAsGiven) {
  const TempDir dir;
  const fs::path file = dir.Write("w.toml", "[program.web]\nworkers = 2\n");
  const ConfigLoad load = LoadConfigFile(file.string());
  EXPECT_FALSE(load.config.has_value());
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].file, file.string());
  EXPECT_EQ(load.errors[0].position.line, 1);
  EXPECT_EQ(load.errors[0].position.column, 1);
}

TEST(LoadConfigFileTest, MissingFile) {
  const ConfigLoad load = LoadConfigFile("/nonexistent/workers.toml");
  EXPECT_FALSE(load.config.has_value());
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].ToString(),
            "/nonexistent/workers.toml: cannot read: No such file or "
            "directory");
}

TEST(LoadConfigFileTest, Directory) {
  const TempDir dir;
  const ConfigLoad load = LoadConfigFile(dir.path().string());
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].ToString(),
            dir.path().string() + ": cannot read: Is a directory");
}

TEST(LoadConfigFileTest, UnreadableFile) {
  const TempDir dir;
  const fs::path file = dir.Write("workers.toml", "");
  fs::permissions(file, fs::perms::none);
  // Root reads any file: the load runs as nobody.
  const std::string errors = workerd::testing::AsNobody([&] {
    std::string text;
    for (const ConfigError& error : LoadConfigFile(file.string()).errors) {
      text += error.ToString() + "\n";
    }
    return text;
  });
  EXPECT_EQ(errors, file.string() + ": cannot read: Permission denied\n");
}

TEST(LoadConfigFileTest, ReadErrors) {
  // Reading /proc/self/mem at offset 0 fails: nothing is mapped there.
  const ConfigLoad load = LoadConfigFile("/proc/self/mem");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].ToString(),
            "/proc/self/mem: cannot read: Input/output error");
}

TEST(LoadConfigFileTest, TooLarge) {
  const TempDir dir;
  const fs::path file =
      dir.Write("workers.toml", std::string(kMaxConfigFileBytes + 1, '#'));
  const ConfigLoad load = LoadConfigFile(file.string());
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].ToString(),
            file.string() +
                ": is larger than 1M; a configuration is never that large");
  // Exactly the limit is fine.
  dir.Write("ok.toml", std::string(kMaxConfigFileBytes, '#'));
  EXPECT_TRUE(LoadConfigFile((dir.path() / "ok.toml").string()).config);
}

TEST(ConfigErrorToStringTest, LeavesOutAnUnknownPosition) {
  EXPECT_EQ((ConfigError{"w.toml", {3, 7}, "bad"}).ToString(),
            "w.toml:3:7: bad");
  EXPECT_EQ((ConfigError{"w.toml", {}, "bad"}).ToString(), "w.toml: bad");
}

}  // namespace
}  // namespace workerd
