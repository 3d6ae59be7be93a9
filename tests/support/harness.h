// The end-to-end harness: a real workerd on a temporary workers.toml and a
// temporary control socket, driven through the proto client and the real
// workerctl, and a teardown that checks that no process the test started
// is left behind (dumb-init/tini style: the whole tree must go).
//
// Every wait polls against a deadline; nothing here sleeps a fixed time as
// the proof of anything.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "proto/message.h"

namespace workerd::e2e {

using proto::Json;
using Millis = std::chrono::milliseconds;

// Generous, because the suite runs under ASan on a noisy 2-core machine:
// a deadline only bounds how long a failing test takes, never how long a
// passing one does.
inline constexpr Millis kDeadline{10000};

inline constexpr const char* kWorkerdPath = WORKERD_PATH;
inline constexpr const char* kWorkerctlPath = WORKERCTL_PATH;
inline constexpr const char* kTestWorkerPath = TEST_WORKER_PATH;

// What a finished program said and how it ended.
struct CommandResult {
  // The exit status; 128 + N when killed by signal N; -1 when it had to be
  // killed for overrunning its deadline.
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` to completion with stdin from /dev/null, `extra_env` added
// to our environment. Killed (and reported as a test failure) if it is
// still running after `timeout`.
CommandResult RunProgram(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env = {},
                         Millis timeout = kDeadline);

// A directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Path(std::string_view name) const;
  // Writes `content` to Path(name) and returns that path.
  std::string Write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

// Reads a whole file; empty when it does not exist.
std::string ReadFile(const std::string& path);

// A test worker's --report file as key -> value ("pid", "env.HOME", ...).
using Report = std::map<std::string, std::string>;

// Waits until the test worker has written (atomically) its report.
std::optional<Report> WaitForReport(const std::string& path,
                                    Millis deadline = kDeadline);

// Whether `pid` is gone for good: no such process, or a zombie that some
// other parent (e.g. init after workerd died) will collect.
bool ProcessGone(pid_t pid);

// The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), or nullopt.
std::optional<char> ProcessState(pid_t pid);

// The raw bytes of `workers.toml` text with the harness's placeholders:
//   @DIR@     the test's temporary directory
//   @WORKER@  the test worker's path
//   @SOCKET@  the control socket's path
// workerd's own "{instance}" and "{program}" are left alone.
std::string FillPlaceholders(std::string_view text, const std::string& dir,
                             const std::string& socket);

// A connection to the control socket that speaks bytes, not messages, for
// tests that send garbage on purpose. Every call has a deadline.
class RawConnection {
 public:
  // Connects; check connected().
  explicit RawConnection(const std::string& socket_path);
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&&) = delete;
  RawConnection(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Writes all of `bytes`. On failure a sentence; `errno_out` gets the
  // error (EPIPE, ECONNRESET, ETIMEDOUT for the deadline).
  std::optional<std::string> Send(std::string_view bytes,
                                  Millis deadline = kDeadline,
                                  int* errno_out = nullptr);
  // The next line without its '\n'; nullopt on EOF, error or deadline
  // (eof() tells which).
  std::optional<std::string> ReadLine(Millis deadline = kDeadline);
  // Sends `line` + '\n' and parses the next line as JSON (null if none).
  // The line is read even if the send failed: the daemon may have said
  // why before it closed.
  Json Ask(std::string_view line, Millis deadline = kDeadline);
  // Whether the daemon closed the connection (seen while reading).
  bool eof() const { return eof_; }
  // Waits for EOF, discarding anything that arrives before it.
  bool WaitForEof(Millis deadline = kDeadline);
  void Close();

 private:
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

// One workerd for one test, in its own temporary directory.
class Daemon {
 public:
  // `config` is workers.toml with placeholders (see FillPlaceholders).
  // The control socket is set here: inserted into the test's [daemon]
  // table, or in a [daemon] table of its own when the text has none.
  explicit Daemon(std::string_view config);
  // Stops workerd if still running (SIGTERM, then SIGKILL), then fails the
  // test if any process the test learned of, or any process that refers
  // to the temporary directory, is still alive. Such processes are then
  // killed so that one broken test does not poison the others.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // How long the teardown lets processes finish dying before it calls
  // them leftovers; shortened only by the harness's own tests.
  void set_teardown_deadline(Millis deadline) { teardown_deadline_ = deadline; }

  // Adds KEY=VALUE to workerd's environment (before Start). workerd never
  // gets the suite's own JOURNAL_STREAM or INVOCATION_ID.
  void AddEnvironment(std::string assignment) {
    extra_env_.push_back(std::move(assignment));
  }

  // Adds an argument to workerd's command line, after "-c CONFIG" (before
  // Start): "--dev", for instance.
  void AddArgument(std::string argument) {
    extra_args_.push_back(std::move(argument));
  }

  // Starts workerd and waits until its control socket answers `version`.
  // On failure, adds a test failure with the log and returns false.
  bool Start(Millis deadline = kDeadline);

  // Replaces workers.toml by `config`, prepared as the constructor does
  // (placeholders filled, the control socket set), in one rename, so that
  // a reload never reads half of it. For `reload` and SIGHUP.
  void RewriteConfig(std::string_view config);

  const TempDir& dir() const { return dir_; }
  std::string Path(std::string_view name) const { return dir_.Path(name); }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& config_path() const { return config_path_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // One request over a fresh proto::Client connection. A string when there
  // was no valid answer (connection refused, timeout, broken line).
  std::variant<proto::Response, std::string> Call(
      const std::string& command, const Json& args = Json::object(),
      Millis timeout = kDeadline);
  // The result of `status` (null plus a test failure when it failed). Every
  // pid seen is remembered for the teardown's check.
  Json Status();
  // Polls `status` every ~20 ms until `predicate` holds, and returns
  // whether it did. On timeout, adds a failure naming `what` and showing
  // the last status. `last_status`, when given, receives the status the
  // predicate accepted (or the last one seen).
  bool WaitFor(const std::function<bool(const Json& status)>& predicate,
               const std::string& what, Millis deadline = kDeadline,
               Json* last_status = nullptr);

  // Runs the real workerctl against this daemon's socket ("-s SOCKET" is
  // put before `args`).
  CommandResult RunCtl(const std::vector<std::string>& args,
                       Millis timeout = kDeadline);

  // workerd's stdout and stderr so far (workers' output lands here too).
  std::string Log() const;
  // Polls the log until it contains `text`; adds a failure on timeout.
  bool WaitForLog(std::string_view text, Millis deadline = kDeadline);

  // Sends `signal` to workerd.
  void Signal(int signal);
  // SIGTERM, then waits for the exit. The exit status (128 + N when
  // killed by signal N), or nullopt (plus a failure) after the deadline.
  std::optional<int> Stop(Millis deadline = kDeadline);
  // Waits for workerd to exit by itself (e.g. after `shutdown`).
  std::optional<int> WaitForExit(Millis deadline = kDeadline);

  // Reads a pid the test worker wrote, waiting for the file to appear; the
  // pid is remembered for the teardown's check.
  std::optional<pid_t> ReadPidfile(const std::string& path,
                                   Millis deadline = kDeadline);
  // Remembers `pid` for the teardown's check (with its start time, so that
  // a recycled pid is not mistaken for it).
  void Track(pid_t pid);
  // Polls until ProcessGone(pid); adds a failure naming `what` on timeout.
  bool WaitGone(pid_t pid, const std::string& what,
                Millis deadline = kDeadline);
  // Stricter: polls until `pid` does not exist at all, not even as a
  // zombie. For processes that workerd itself must reap (it is their
  // parent or their subreaper while it runs).
  bool WaitReaped(pid_t pid, const std::string& what,
                  Millis deadline = kDeadline);

  // Kills the worker `program:instance` with SIGKILL and waits until the
  // slot has a new process that is `ready`. Returns the new pid, or
  // nullopt with a failure. Proves workerd still supervises.
  std::optional<pid_t> KillAndWaitReplaced(std::string_view program,
                                           int instance,
                                           Millis deadline = kDeadline);

 private:
  // `config` with placeholders filled and the control socket set.
  std::string ConfigText(std::string_view config) const;
  void CheckNothingLeft();
  // Live processes (not zombies) other than us that carry our marker in
  // their environment or mention the temporary directory on their command
  // line: pid -> command line.
  std::map<pid_t, std::string> ProcessesOfThisTest() const;

  TempDir dir_;
  std::string socket_path_;
  std::string config_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  Millis teardown_deadline_ = kDeadline;
  std::vector<std::string> extra_env_;
  std::vector<std::string> extra_args_;
  // pid -> start time in clock ticks since boot (field 22 of stat).
  std::map<pid_t, unsigned long long> tracked_;
};

// Lookups in a `status` result; nullptr / empty when absent.
const Json* FindProgram(const Json& status, std::string_view program);
const Json* FindWorker(const Json& status, std::string_view program,
                       int instance);
// The instances of `program`, in order.
std::vector<Json> Workers(const Json& status, std::string_view program);
// A worker's field, or null: Field(status, "web", 0, "state").
Json Field(const Json& status, std::string_view program, int instance,
           const char* field);
// The `workers` wanted for `program`; -1 when absent.
int WantedOf(const Json& status, std::string_view program);
// A worker's pid; 0 when it has none (null in the protocol).
pid_t PidOf(const Json& worker);
// PidOf the worker `program:instance`; 0 when absent or without a process.
pid_t PidOf(const Json& status, std::string_view program, int instance);
// A worker's state; "" when absent.
std::string StateOf(const Json& status, std::string_view program, int instance);
// Whether every instance of `program` is in `state` and there are `count`.
bool AllInState(const Json& status, std::string_view program, int count,
                std::string_view state);

}  // namespace workerd::e2e
