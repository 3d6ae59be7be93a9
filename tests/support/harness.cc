#include "tests/support/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>
#include <utility>

#include "proto/client.h"

extern char** environ;

namespace workerd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// How often status and files are polled. Short enough that a test
// finishes soon after the awaited event, long enough not to load the
// daemon under test.
constexpr Millis kPollInterval{20};

// Set in workerd's environment (and so inherited by every worker and
// everything they start): the teardown finds strays by it, even ones
// that daemonized away from the tree.
constexpr const char* kMarkerVariable = "WORKERD_E2E_DIR";

void SleepFor(Millis duration) { std::this_thread::sleep_for(duration); }

Millis Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
  return left.count() < 0 ? Millis(0) : left;
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// KEY=VALUE strings: ours, with `extra` replacing or adding keys; an
// entry of `extra` without "=" removes that key.
std::vector<std::string> MakeEnvironment(
    const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto key_of = [](const std::string& assignment) {
    return assignment.substr(0, assignment.find('='));
  };
  for (char** p = environ; *p != nullptr; ++p) {
    std::string assignment(*p);
    bool replaced = false;
    for (const std::string& e : extra) {
      if (key_of(e) == key_of(assignment)) replaced = true;
    }
    if (!replaced) env.push_back(std::move(assignment));
  }
  for (const std::string& e : extra) {
    if (e.find('=') != std::string::npos) env.push_back(e);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// fork + execve with the given stdio. Between fork and exec only
// async-signal-safe calls: gtest or a test may have started threads.
// `die_with_parent`: SIGTERM when the test process dies, so that a test
// killed by ctest's timeout does not leave a workerd running forever.
pid_t Spawn(std::vector<std::string> argv, std::vector<std::string> env,
            int stdin_fd, int stdout_fd, int stderr_fd, bool die_with_parent) {
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
  }
  // The child must start as a shell would start it: default dispositions
  // and an empty mask, whatever the test process did to its own.
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // dup2 clears FD_CLOEXEC on the target; the sources are all CLOEXEC.
  if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 ||
      dup2(stderr_fd, 2) < 0) {
    _exit(127);
  }
  execve(c_argv[0], c_argv.data(), c_env.data());
  _exit(127);
}

struct ProcStat {
  char state = '?';
  pid_t ppid = 0;
  unsigned long long start_time = 0;
};

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::string text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  // "PID (COMM) S PPID ...": COMM may hold spaces and parentheses.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  std::vector<std::string> values{std::istream_iterator<std::string>(fields),
                                  std::istream_iterator<std::string>()};
  // values[0] is field 3 (state); starttime is field 22.
  if (values.size() < 20) return std::nullopt;
  ProcStat stat;
  stat.state = values[0].empty() ? '?' : values[0][0];
  stat.ppid = static_cast<pid_t>(std::stol(values[1]));
  stat.start_time = std::stoull(values[19]);
  return stat;
}

std::string CommandLine(pid_t pid) {
  std::string text = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::string Describe(pid_t pid) {
  std::optional<ProcStat> stat = ReadProcStat(pid);
  std::ostringstream out;
  out << "pid " << pid;
  if (stat) out << " (state " << stat->state << ", ppid " << stat->ppid << ")";
  out << ": " << CommandLine(pid);
  return out.str();
}

// The last lines of a log, enough to see why a test failed.
std::string Tail(const std::string& text, size_t max_bytes = 6000) {
  if (text.size() <= max_bytes) return text;
  size_t start = text.find('\n', text.size() - max_bytes);
  return "...\n" + text.substr(start == std::string::npos ? 0 : start + 1);
}

}  // namespace

CommandResult RunProgram(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env,
                         Millis timeout) {
  CommandResult result;
  int out_pipe[2];
  int err_pipe[2];
  int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (dev_null < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
    ADD_FAILURE() << "cannot set up " << argv[0] << ": " << strerror(errno);
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC) < 0) {
    ADD_FAILURE() << "cannot set up " << argv[0] << ": " << strerror(errno);
    return result;
  }
  const auto deadline = Clock::now() + timeout;
  pid_t pid = Spawn(argv, MakeEnvironment(extra_env), dev_null, out_pipe[1],
                    err_pipe[1], /*die_with_parent=*/true);
  close(dev_null);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    ADD_FAILURE() << "cannot fork for " << argv[0] << ": " << strerror(errno);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }

  // Both pipes at once: a program that fills one while we block on the
  // other would otherwise deadlock with us.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_pipes = 2;
  bool timed_out = false;
  while (open_pipes > 0) {
    int left = static_cast<int>(Remaining(deadline).count());
    if (left == 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[65536];
      ssize_t got = read(fds[i].fd, buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
        continue;
      }
      sinks[i]->append(buffer, static_cast<size_t>(got));
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }

  int status = 0;
  while (!timed_out) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      result.exit_code = DecodeWaitStatus(status);
      return result;
    }
    if (Remaining(deadline).count() == 0) {
      timed_out = true;
      break;
    }
    SleepFor(Millis(2));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  ADD_FAILURE() << argv[0] << " did not finish within " << timeout.count()
                << " ms; killed it. stdout:\n"
                << result.out << "\nstderr:\n"
                << result.err;
  result.exit_code = -1;
  return result;
}

// ---------------------------------------------------------------- TempDir

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      std::string(base && *base ? base : "/tmp") + "/workerd-e2e-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << strerror(errno);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Path(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::string TempDir::Write(std::string_view name,
                           std::string_view content) const {
  std::string path = Path(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) ADD_FAILURE() << "cannot write " << path;
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<Report> WaitForReport(const std::string& path, Millis deadline) {
  const auto until = Clock::now() + deadline;
  // The worker renames the report into place, so existing means complete.
  while (access(path.c_str(), F_OK) != 0) {
    if (Clock::now() > until) {
      ADD_FAILURE() << "no report at " << path << " after " << deadline.count()
                    << " ms";
      return std::nullopt;
    }
    SleepFor(Millis(5));
  }
  Report report;
  std::istringstream lines(ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    report[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return report;
}

std::optional<char> ProcessState(pid_t pid) {
  std::optional<ProcStat> stat = ReadProcStat(pid);
  if (!stat) return std::nullopt;
  return stat->state;
}

bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) < 0 && errno == ESRCH) return true;
  std::optional<ProcStat> stat = ReadProcStat(pid);
  if (!stat) return true;  // exited between the two looks
  // A zombie is dead; one whose parent is not us is for that parent (init,
  // once workerd has gone) to collect, not a leak of the test's.
  return stat->state == 'Z' && stat->ppid != getpid();
}

std::string FillPlaceholders(std::string_view text, const std::string& dir,
                             const std::string& socket) {
  const std::pair<std::string_view, std::string> replacements[] = {
      {"@DIR@", dir}, {"@WORKER@", kTestWorkerPath}, {"@SOCKET@", socket}};
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    for (const auto& [from, to] : replacements) {
      if (text.substr(i, from.size()) == from) {
        out += to;
        i += from.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

// ---------------------------------------------------------- RawConnection

RawConnection::RawConnection(const std::string& socket_path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) {
    close(fd);
    return;
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int r;
  do {
    r = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    close(fd);
    return;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fd_ = fd;
}

RawConnection::~RawConnection() { Close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      eof_(other.eof_) {}

void RawConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

std::optional<std::string> RawConnection::Send(std::string_view bytes,
                                               Millis deadline,
                                               int* errno_out) {
  const auto until = Clock::now() + deadline;
  auto fail = [&](int error) -> std::optional<std::string> {
    if (errno_out) *errno_out = error;
    return std::string("send: ") + strerror(error);
  };
  if (fd_ < 0) return fail(ENOTCONN);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return fail(errno);
    int left = static_cast<int>(Remaining(until).count());
    if (left == 0) return fail(ETIMEDOUT);
    pollfd p{fd_, POLLOUT, 0};
    poll(&p, 1, left);
  }
  return std::nullopt;
}

std::optional<std::string> RawConnection::ReadLine(Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (fd_ < 0 || eof_) return std::nullopt;
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      eof_ = true;
      continue;  // a last complete line may still be buffered
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return std::nullopt;
    int left = static_cast<int>(Remaining(until).count());
    if (left == 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    poll(&p, 1, left);
  }
}

Json RawConnection::Ask(std::string_view line, Millis deadline) {
  // A failed send is not the end: the daemon may have answered already
  // (too_many_clients on connect) and closed, and the answer is readable.
  Send(std::string(line) + "\n", deadline);
  std::optional<std::string> answer = ReadLine(deadline);
  if (!answer) return nullptr;
  Json json = Json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  return json.is_discarded() ? Json(nullptr) : json;
}

bool RawConnection::WaitForEof(Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (!eof_) {
    if (!ReadLine(Remaining(until)) && !eof_) {
      if (Remaining(until).count() == 0 || fd_ < 0) return false;
    }
  }
  return true;
}

// ----------------------------------------------------------------- Daemon

Daemon::Daemon(std::string_view config) {
  socket_path_ = dir_.Path("control.sock");
  log_path_ = dir_.Path("workerd.log");
  config_path_ = dir_.Write("workers.toml", ConfigText(config));
}

void Daemon::RewriteConfig(std::string_view config) {
  const std::string staged = dir_.Write("workers.toml.new", ConfigText(config));
  if (std::rename(staged.c_str(), config_path_.c_str()) != 0) {
    ADD_FAILURE() << "cannot rename " << staged << " to " << config_path_
                  << ": " << std::strerror(errno);
  }
}

std::string Daemon::ConfigText(std::string_view config) const {
  std::string text = FillPlaceholders(config, dir_.path(), socket_path_);
  const std::string socket_line = "control_socket = \"" + socket_path_ + "\"\n";
  // TOML allows a table once: join the test's [daemon] table if it has one.
  size_t header = text.find("[daemon]\n");
  if (header != std::string::npos &&
      (header == 0 || text[header - 1] == '\n')) {
    text.insert(header + std::strlen("[daemon]\n"), socket_line);
  } else {
    text = "[daemon]\n" + socket_line + "\n" + text;
  }
  return text;
}

bool Daemon::Start(Millis deadline) {
  int log_fd =
      open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || dev_null < 0) {
    ADD_FAILURE() << "cannot open " << log_path_ << ": " << strerror(errno);
    return false;
  }
  // Whether the suite itself runs under systemd must not change where
  // workers' output goes (the default log mode depends on these).
  std::vector<std::string> env = {"JOURNAL_STREAM", "INVOCATION_ID",
                                  std::string(kMarkerVariable) + "=" +
                                      dir_.path()};
  env.insert(env.end(), extra_env_.begin(), extra_env_.end());
  std::vector<std::string> argv = {kWorkerdPath, "-c", config_path_};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  pid_ = Spawn(std::move(argv), MakeEnvironment(env), dev_null, log_fd, log_fd,
               /*die_with_parent=*/true);
  close(log_fd);
  close(dev_null);
  if (pid_ < 0) {
    ADD_FAILURE() << "cannot fork workerd: " << strerror(errno);
    return false;
  }

  const auto until = Clock::now() + deadline;
  while (true) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "workerd exited with status " << DecodeWaitStatus(status)
                    << " before its socket answered; log:\n"
                    << Tail(Log());
      return false;
    }
    auto answer = Call("version", Json::object(), Millis(2000));
    if (auto* response = std::get_if<proto::Response>(&answer)) {
      if (response->ok) return true;
      ADD_FAILURE() << "version failed: " << response->error->message;
      return false;
    }
    if (Clock::now() > until) {
      ADD_FAILURE() << "workerd's socket did not answer within "
                    << deadline.count() << " ms ("
                    << std::get<std::string>(answer) << "); log:\n"
                    << Tail(Log());
      return false;
    }
    SleepFor(Millis(10));
  }
}

Daemon::~Daemon() {
  if (pid_ > 0) {
    Signal(SIGTERM);
    const auto until = Clock::now() + kDeadline;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) != pid_) {
      if (Clock::now() > until) {
        ADD_FAILURE() << "workerd did not exit within " << kDeadline.count()
                      << " ms of SIGTERM; killing it";
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      SleepFor(Millis(5));
    }
    pid_ = -1;
  }
  CheckNothingLeft();
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- workerd log (" << log_path_ << ") ----\n"
              << Tail(Log(), 20000) << "---- end of workerd log ----\n";
  }
}

std::map<pid_t, std::string> Daemon::ProcessesOfThisTest() const {
  std::map<pid_t, std::string> found;
  const std::string marker = std::string(kMarkerVariable) + "=" + dir_.path();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == getpid()) continue;
    std::optional<ProcStat> stat = ReadProcStat(static_cast<pid_t>(pid));
    if (!stat || stat->state == 'Z') continue;
    std::string environment =
        ReadFile("/proc/" + std::to_string(pid) + "/environ");
    std::string command = CommandLine(static_cast<pid_t>(pid));
    bool ours = command.find(dir_.path()) != std::string::npos;
    size_t at = 0;
    while (!ours && (at = environment.find(marker, at)) != std::string::npos) {
      // A whole variable: starts an entry and ends at its NUL.
      bool starts = at == 0 || environment[at - 1] == '\0';
      size_t after = at + marker.size();
      bool ends = after == environment.size() || environment[after] == '\0';
      ours = starts && ends;
      at = after;
    }
    if (ours)
      found[static_cast<pid_t>(pid)] = Describe(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return found;
}

void Daemon::CheckNothingLeft() {
  auto tracked_alive = [this] {
    std::vector<pid_t> alive;
    for (const auto& [pid, start_time] : tracked_) {
      std::optional<ProcStat> stat = ReadProcStat(pid);
      // A different start time: the pid was recycled for someone else.
      if (!stat || stat->start_time != start_time) continue;
      if (!ProcessGone(pid)) alive.push_back(pid);
    }
    return alive;
  };
  // Processes are allowed a moment to finish dying (a SIGKILLed group is
  // gone soon, not at once): poll, then judge.
  const auto until = Clock::now() + teardown_deadline_;
  std::vector<pid_t> alive = tracked_alive();
  std::map<pid_t, std::string> strays = ProcessesOfThisTest();
  while ((!alive.empty() || !strays.empty()) && Clock::now() < until) {
    SleepFor(kPollInterval);
    alive = tracked_alive();
    strays = ProcessesOfThisTest();
  }
  for (pid_t pid : alive) {
    if (strays.count(pid) == 0) strays[pid] = Describe(pid);
  }
  if (strays.empty()) return;
  std::ostringstream list;
  for (const auto& [pid, description] : strays)
    list << "  " << description << "\n";
  ADD_FAILURE() << strays.size()
                << " process(es) of this test outlived workerd:\n"
                << list.str();
  for (const auto& [pid, description] : strays) kill(pid, SIGKILL);
}

std::variant<proto::Response, std::string> Daemon::Call(
    const std::string& command, const Json& args, Millis timeout) {
  auto connected = proto::Client::Connect(socket_path_);
  if (auto* error = std::get_if<proto::ConnectError>(&connected)) {
    return error->message;
  }
  proto::Request request;
  request.command = command;
  request.args = args;
  return std::get<proto::Client>(connected).Call(request, {}, timeout);
}

Json Daemon::Status() {
  auto answer = Call("status");
  if (auto* why = std::get_if<std::string>(&answer)) {
    ADD_FAILURE() << "status: " << *why;
    return nullptr;
  }
  proto::Response& response = std::get<proto::Response>(answer);
  if (!response.ok) {
    ADD_FAILURE() << "status failed: " << response.error->code << ": "
                  << response.error->message;
    return nullptr;
  }
  for (const Json& program : response.result["programs"]) {
    for (const Json& worker : program["instances"]) {
      // Tracked afresh each time: should the pid be recycled for a later
      // worker, the newer start time is the one to check.
      if (pid_t pid = PidOf(worker); pid > 0) Track(pid);
    }
  }
  return response.result;
}

bool Daemon::WaitFor(const std::function<bool(const Json&)>& predicate,
                     const std::string& what, Millis deadline,
                     Json* last_status) {
  const auto until = Clock::now() + deadline;
  Json status;
  while (true) {
    status = Status();
    if (!status.is_null() && predicate(status)) {
      if (last_status) *last_status = status;
      return true;
    }
    if (Clock::now() > until) break;
    SleepFor(kPollInterval);
  }
  if (last_status) *last_status = status;
  ADD_FAILURE() << "timed out after " << deadline.count() << " ms waiting for "
                << what << "; last status:\n"
                << status.dump(2);
  return false;
}

CommandResult Daemon::RunCtl(const std::vector<std::string>& args,
                             Millis timeout) {
  std::vector<std::string> argv = {kWorkerctlPath, "-s", socket_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, {}, timeout);
}

std::string Daemon::Log() const { return ReadFile(log_path_); }

bool Daemon::WaitForLog(std::string_view text, Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (Log().find(text) == std::string::npos) {
    if (Clock::now() > until) {
      ADD_FAILURE() << "the log did not show \"" << text << "\" within "
                    << deadline.count() << " ms";
      return false;
    }
    SleepFor(kPollInterval);
  }
  return true;
}

void Daemon::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

std::optional<int> Daemon::Stop(Millis deadline) {
  Signal(SIGTERM);
  return WaitForExit(deadline);
}

std::optional<int> Daemon::WaitForExit(Millis deadline) {
  if (pid_ <= 0) {
    ADD_FAILURE() << "workerd is not running";
    return std::nullopt;
  }
  const auto until = Clock::now() + deadline;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return DecodeWaitStatus(status);
    }
    if (Clock::now() > until) {
      ADD_FAILURE() << "workerd did not exit within " << deadline.count()
                    << " ms";
      return std::nullopt;
    }
    SleepFor(Millis(5));
  }
}

std::optional<pid_t> Daemon::ReadPidfile(const std::string& path,
                                         Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (true) {
    // Written atomically (rename), so a complete line or nothing.
    std::string text = ReadFile(path);
    if (!text.empty() && text.back() == '\n') {
      pid_t pid = static_cast<pid_t>(std::stol(text));
      Track(pid);
      return pid;
    }
    if (Clock::now() > until) {
      ADD_FAILURE() << "no pid in " << path << " after " << deadline.count()
                    << " ms";
      return std::nullopt;
    }
    SleepFor(Millis(5));
  }
}

void Daemon::Track(pid_t pid) {
  std::optional<ProcStat> stat = ReadProcStat(pid);
  // Already gone and collected: nothing to check later.
  if (!stat) return;
  tracked_[pid] = stat->start_time;
}

bool Daemon::WaitGone(pid_t pid, const std::string& what, Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (!ProcessGone(pid)) {
    if (Clock::now() > until) {
      ADD_FAILURE() << what << " (" << Describe(pid)
                    << ") is still there after " << deadline.count() << " ms";
      return false;
    }
    SleepFor(Millis(5));
  }
  return true;
}

bool Daemon::WaitReaped(pid_t pid, const std::string& what, Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (!(kill(pid, 0) < 0 && errno == ESRCH)) {
    if (Clock::now() > until) {
      ADD_FAILURE() << what << " (" << Describe(pid)
                    << ") was not reaped within " << deadline.count() << " ms";
      return false;
    }
    SleepFor(Millis(5));
  }
  return true;
}

std::optional<pid_t> Daemon::KillAndWaitReplaced(std::string_view program,
                                                 int instance,
                                                 Millis deadline) {
  const std::string label =
      std::string(program) + ":" + std::to_string(instance);
  Json status = Status();
  pid_t old_pid = PidOf(status, program, instance);
  if (old_pid <= 0) {
    ADD_FAILURE() << label << " has no process to kill; status:\n"
                  << status.dump(2);
    return std::nullopt;
  }
  if (kill(old_pid, SIGKILL) < 0) {
    ADD_FAILURE() << "kill " << old_pid << ": " << strerror(errno);
    return std::nullopt;
  }
  Json last;
  bool replaced = WaitFor(
      [&](const Json& s) {
        pid_t pid = PidOf(s, program, instance);
        return pid > 0 && pid != old_pid &&
               StateOf(s, program, instance) == "ready";
      },
      label + " replaced after kill -9 of pid " + std::to_string(old_pid),
      deadline, &last);
  if (!replaced) return std::nullopt;
  return PidOf(last, program, instance);
}

// ---------------------------------------------------------- status lookups

int WantedOf(const Json& status, std::string_view program) {
  const Json* p = FindProgram(status, program);
  if (p == nullptr || !p->contains("workers") ||
      !(*p)["workers"].is_number_integer()) {
    return -1;
  }
  return (*p)["workers"].get<int>();
}

pid_t PidOf(const Json& worker) {
  if (!worker.is_object()) return 0;
  auto it = worker.find("pid");
  if (it == worker.end() || !it->is_number_integer()) return 0;
  return it->get<pid_t>();
}

pid_t PidOf(const Json& status, std::string_view program, int instance) {
  const Json* worker = FindWorker(status, program, instance);
  return worker ? PidOf(*worker) : 0;
}

std::string StateOf(const Json& status, std::string_view program,
                    int instance) {
  const Json* worker = FindWorker(status, program, instance);
  if (worker == nullptr) return "";
  auto it = worker->find("state");
  return it != worker->end() && it->is_string() ? it->get<std::string>() : "";
}

const Json* FindProgram(const Json& status, std::string_view program) {
  if (!status.is_object() || !status.contains("programs")) return nullptr;
  for (const Json& p : status["programs"]) {
    if (p.is_object() && p.contains("name") && p["name"].is_string() &&
        p["name"].get<std::string>() == program) {
      return &p;
    }
  }
  return nullptr;
}

const Json* FindWorker(const Json& status, std::string_view program,
                       int instance) {
  const Json* p = FindProgram(status, program);
  if (p == nullptr || !p->contains("instances")) return nullptr;
  for (const Json& worker : (*p)["instances"]) {
    if (worker.is_object() && worker.contains("instance") &&
        worker["instance"] == instance) {
      return &worker;
    }
  }
  return nullptr;
}

std::vector<Json> Workers(const Json& status, std::string_view program) {
  const Json* p = FindProgram(status, program);
  if (p == nullptr || !p->contains("instances")) return {};
  return std::vector<Json>((*p)["instances"].begin(), (*p)["instances"].end());
}

Json Field(const Json& status, std::string_view program, int instance,
           const char* field) {
  const Json* worker = FindWorker(status, program, instance);
  if (worker == nullptr || !worker->contains(field)) return nullptr;
  return (*worker)[field];
}

bool AllInState(const Json& status, std::string_view program, int count,
                std::string_view state) {
  std::vector<Json> workers = Workers(status, program);
  if (static_cast<int>(workers.size()) != count) return false;
  for (const Json& worker : workers) {
    if (!worker.contains("state") || !worker["state"].is_string() ||
        worker["state"].get<std::string>() != state) {
      return false;
    }
  }
  return true;
}

}  // namespace workerd::e2e
