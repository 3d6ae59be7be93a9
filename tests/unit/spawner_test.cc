// The real ProcessSpawner starting the real test worker, which writes down
// what it received (tests/support/README.md).

#include "daemon/spawner.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace workerd {
namespace {

using std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(10);
const char* const kWorker = TEST_WORKER_PATH;

void SleepBriefly() {
  timespec delay{0, 5 * 1000 * 1000};
  nanosleep(&delay, nullptr);
}

// The report as written by the worker: key -> value, plus the raw text for
// checks that a key appears only once.
struct Report {
  std::map<std::string, std::string> values;
  std::string text;

  const std::string& operator[](const std::string& key) const {
    static const std::string kMissing = "<missing>";
    auto it = values.find(key);
    return it == values.end() ? kMissing : it->second;
  }
  std::map<std::string, std::string> Env() const {
    std::map<std::string, std::string> env;
    for (const auto& [key, value] : values) {
      if (key.rfind("env.", 0) == 0) env[key.substr(4)] = value;
    }
    return env;
  }
};

// Polls until the worker has renamed its report into place.
std::optional<Report> WaitForReport(const std::string& path) {
  const auto deadline = steady_clock::now() + kDeadline;
  while (access(path.c_str(), F_OK) != 0) {
    if (steady_clock::now() > deadline) return std::nullopt;
    SleepBriefly();
  }
  std::ifstream in(path);
  Report report;
  std::ostringstream text;
  text << in.rdbuf();
  report.text = text.str();
  std::istringstream lines(report.text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    report.values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return report;
}

std::string Inode(int fd, const char* kind) {
  struct stat st;
  if (fstat(fd, &st) != 0) return "?";
  return std::string(kind) + ":[" + std::to_string(st.st_ino) + "]";
}

// A Unix socket at fd 50 or above.
int HighSocket() {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 50);
  close(fd);
  return high;
}

// True when this process has no child at all, exited or running.
bool HasNoChildren() {
  siginfo_t info;
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 &&
         errno == ECHILD;
}

// Puts `source` at fd `target` (CLOEXEC) for the object's life and restores
// whatever was there before.
class FdOverride {
 public:
  FdOverride(int source, int target) : target_(target) {
    saved_ = fcntl(target, F_DUPFD_CLOEXEC, 100);
    EXPECT_EQ(dup3(source, target, O_CLOEXEC), target);
  }
  ~FdOverride() {
    if (saved_ >= 0) {
      dup2(saved_, target_);
      close(saved_);
    } else {
      close(target_);
    }
  }

 private:
  int target_;
  int saved_;
};

class SpawnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/spawner_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    for (pid_t pid : running_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
    EXPECT_TRUE(HasNoChildren()) << "a spawned process was left unreaped";
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // A request for the worker that writes its report to `report`.
  SpawnRequest WorkerRequest(const std::string& report) const {
    SpawnRequest request;
    request.argv = {kWorker, "--report", report};
    request.env = {"PATH=/usr/bin:/bin"};
    return request;
  }

  // Spawns, expecting success; the process is killed and reaped at the end
  // unless the test waits for it.
  SpawnedProcess MustSpawn(const SpawnRequest& request) {
    SpawnResult result = spawner_.Spawn(request);
    if (auto* error = std::get_if<SpawnError>(&result)) {
      ADD_FAILURE() << "spawn failed: " << error->ToString();
      return {};
    }
    SpawnedProcess process = std::move(std::get<SpawnedProcess>(result));
    running_.push_back(process.pid);
    return process;
  }

  SpawnError MustFail(const SpawnRequest& request) {
    SpawnResult result = spawner_.Spawn(request);
    if (auto* process = std::get_if<SpawnedProcess>(&result)) {
      ADD_FAILURE() << "spawn unexpectedly started pid " << process->pid;
      running_.push_back(process->pid);
      return {};
    }
    return std::get<SpawnError>(result);
  }

  // Waits for the exit through the pidfd, then reaps; returns the status.
  int WaitExit(SpawnedProcess& process) {
    pollfd pfd{process.pidfd.Get(), POLLIN, 0};
    int timeout_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline)
            .count());
    int ready = poll(&pfd, 1, timeout_ms);
    EXPECT_EQ(ready, 1) << "worker did not exit in time";
    int status = -1;
    EXPECT_EQ(waitpid(process.pid, &status, 0), process.pid);
    std::erase(running_, process.pid);
    return status;
  }

  ProcessSpawner spawner_;
  std::string dir_;
  std::vector<pid_t> running_;
};

TEST_F(SpawnerTest, PassesArgvAndEnvExactly) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv.insert(request.argv.end(),
                      {"--", "two  spaces", "", "quote\"d", "x=y"});
  request.env = {"FOO=bar", "EMPTY=", "WITH_EQ=a=b", "PATH=/usr/bin:/bin"};
  SpawnedProcess process = MustSpawn(request);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);

  EXPECT_EQ((*report)["pid"], std::to_string(process.pid));
  EXPECT_EQ((*report)["argc"], std::to_string(request.argv.size()));
  for (size_t i = 0; i < request.argv.size(); ++i) {
    EXPECT_EQ((*report)["argv" + std::to_string(i)], request.argv[i]) << i;
  }
  std::map<std::string, std::string> expected_env = {{"FOO", "bar"},
                                                     {"EMPTY", ""},
                                                     {"WITH_EQ", "a=b"},
                                                     {"PATH", "/usr/bin:/bin"}};
  EXPECT_EQ(report->Env(), expected_env);
}

TEST_F(SpawnerTest, AppliesDirectory) {
  std::filesystem::create_directory(Path("work"));
  SpawnRequest request = WorkerRequest(Path("report"));
  request.directory = Path("work");
  MustSpawn(request);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["cwd"], Path("work"));
}

TEST_F(SpawnerTest, RelativeProgramIsResolvedInDirectory) {
  std::filesystem::create_directories(Path("work/bin"));
  std::filesystem::create_symlink(kWorker, Path("work/bin/worker"));
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv[0] = "bin/worker";
  request.directory = Path("work");
  MustSpawn(request);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["argv0"], "bin/worker");
}

TEST_F(SpawnerTest, LooksUpProgramInRequestPath) {
  // The first directory holds a non-executable file of the same name: like
  // execvp, the lookup moves past it to the next match.
  std::filesystem::create_directory(Path("noexec"));
  std::ofstream(Path("noexec/worker-in-path")) << "not a program\n";
  std::filesystem::create_directory(Path("bin"));
  std::filesystem::create_symlink(kWorker, Path("bin/worker-in-path"));
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv[0] = "worker-in-path";
  request.env = {"PATH=/nonexistent:" + Path("noexec") + ":" + Path("bin")};
  MustSpawn(request);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["argv0"], "worker-in-path");
}

TEST_F(SpawnerTest, ReportsMissingProgram) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv[0] = "gunicornn";
  request.env = {"PATH=" + dir_};
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(), "exec \"gunicornn\": No such file or directory");
  EXPECT_EQ(error.error, ENOENT);
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, ReportsMissingProgramOnDefaultPath) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv[0] = "workerd-test-no-such-program";
  request.env = {};
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(),
            "exec \"workerd-test-no-such-program\": No such file or directory");
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, ReportsNonExecutableFile) {
  std::ofstream(Path("plain")) << "#!/bin/sh\nexit 0\n";
  chmod(Path("plain").c_str(), 0644);
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv[0] = Path("plain");
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(),
            "exec \"" + Path("plain") + "\": Permission denied");
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, ReportsNonExecutableFileFoundInPath) {
  std::ofstream(Path("plain")) << "#!/bin/sh\nexit 0\n";
  chmod(Path("plain").c_str(), 0644);
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv[0] = "plain";
  request.env = {"PATH=" + dir_ + ":/nonexistent"};
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(), "exec \"plain\": Permission denied");
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, ReportsMissingDirectory) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.directory = Path("nope");
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(),
            "chdir \"" + Path("nope") + "\": No such file or directory");
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, ReportsBadStdoutFd) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.stdout_fd = 999;  // not open
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(), "dup 999: Bad file descriptor");
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, RejectsNegativeListenFdWithoutStartingAnything) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.listen_fds = {-1};
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(), "dup -1: Bad file descriptor");
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, RejectsEmptyArgvWithoutStartingAnything) {
  SpawnRequest request;
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.stage, "exec");
  EXPECT_EQ(error.error, EINVAL);
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, ReportsSetuidFailure) {
  // Needs an unprivileged caller. As root, a child of the test drops to
  // nobody and spawns from there, handing the message back over a pipe.
  auto attempt = [this]() -> std::string {
    SpawnRequest request = WorkerRequest(Path("report"));
    request.uid = 33;
    request.gid = getegid();  // its own gid is allowed: the uid is what fails
    SpawnResult result = spawner_.Spawn(request);
    if (auto* process = std::get_if<SpawnedProcess>(&result)) {
      kill(process->pid, SIGKILL);
      waitpid(process->pid, nullptr, 0);
      return "started";
    }
    return std::get<SpawnError>(result).ToString();
  };
  const std::string expected = "setuid 33: Operation not permitted";
  if (geteuid() != 0) {
    EXPECT_EQ(attempt(), expected);
    return;
  }
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    std::string message = "could not drop privileges";
    if (setgroups(0, nullptr) == 0 && setgid(65534) == 0 &&
        setuid(65534) == 0) {
      message = attempt();
    }
    ssize_t ignored = write(fds[1], message.data(), message.size());
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  std::string message;
  char buffer[256];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) {
    message.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  ASSERT_EQ(waitpid(helper, nullptr, 0), helper);
  EXPECT_EQ(message, expected);
}

TEST_F(SpawnerTest, SwitchesUserAndGroups) {
  SpawnRequest request = WorkerRequest(Path("report"));
  if (geteuid() != 0) {
    // Without root the switch must fail as a SpawnError, never run as us.
    request.uid = 65534;
    request.gid = 65534;
    SpawnResult result = spawner_.Spawn(request);
    ASSERT_TRUE(std::holds_alternative<SpawnError>(result));
    EXPECT_EQ(std::get<SpawnError>(result).error, EPERM);
    return;
  }
  request.uid = 65534;
  request.gid = 65534;
  // Changing credentials clears it: it must be armed after the switch.
  request.parent_death_signal = SIGTERM;
  // The report lands in a directory the new user may write to.
  chmod(dir_.c_str(), 0777);
  MustSpawn(request);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["pdeathsig"], std::to_string(SIGTERM));
  EXPECT_EQ((*report)["uid"], "65534");
  EXPECT_EQ((*report)["euid"], "65534");
  EXPECT_EQ((*report)["gid"], "65534");
  EXPECT_EQ((*report)["egid"], "65534");
  // root's supplementary groups are gone.
  EXPECT_EQ((*report)["groups"], "65534");
}

TEST_F(SpawnerTest, RefusesUidWithoutGroupToSwitchTo) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.uid = 4123456;  // no passwd entry, and no gid given
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(), "getpwuid 4123456: No such file or directory");
  EXPECT_TRUE(HasNoChildren());
}

TEST_F(SpawnerTest, StartsInOwnProcessGroup) {
  SpawnedProcess process = MustSpawn(WorkerRequest(Path("report")));
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["pgid"], std::to_string(process.pid));
  EXPECT_EQ(getpgid(process.pid), process.pid);
  EXPECT_NE(getpgid(0), process.pid);
}

TEST_F(SpawnerTest, StdinIsDevNull) {
  // Give the test a stdin that is not /dev/null, so the worker's cannot be
  // /dev/null by inheritance.
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  {
    FdOverride stdin_override(fds[0], 0);
    MustSpawn(WorkerRequest(Path("report")));
  }
  close(fds[0]);
  close(fds[1]);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["fd.0"], "/dev/null");
}

TEST_F(SpawnerTest, RedirectsStdoutAndStderr) {
  int out[2];
  int err[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv.insert(request.argv.end(),
                      {"--print", "hello", "--exit-after", "0"});
  request.stdout_fd = out[1];
  request.stderr_fd = err[1];
  SpawnedProcess process = MustSpawn(request);
  close(out[1]);
  close(err[1]);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["fd.1"], Inode(out[0], "pipe"));
  EXPECT_EQ((*report)["fd.2"], Inode(err[0], "pipe"));

  // EOF once the worker is gone and nothing else holds the write end.
  std::string printed;
  char buffer[256];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof(buffer))) > 0) {
    printed.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_EQ(printed, "hello\n");
  int status = WaitExit(process);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(out[0]);
  close(err[0]);
}

// Everything one accepted connection sends until EOF.
std::string ReadUntilEof(int fd) {
  std::string data;
  char buffer[256];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

TEST_F(SpawnerTest, OpensJournalStreamsFromTheWorkersOwnProcess) {
  // A stand-in for journald's stream socket.
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = Path("stdout");
  path.copy(address.sun_path, path.size());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address),
                 sizeof address),
            0);
  ASSERT_EQ(listen(listener, 8), 0);

  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv.insert(request.argv.end(), {"--print", "to the journal",
                                           "--print-err", "trouble",
                                           "--exit-after", "0"});
  request.journal = JournalStreams{path, "out-header\n", "err-header\n"};
  SpawnedProcess process = MustSpawn(request);

  // The child connected before exec: for stdout first, then stderr, each
  // as the worker's own pid (what the journal records as _PID).
  std::vector<std::string> received;
  for (int i = 0; i < 2; ++i) {
    int connection = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(connection, 0);
    ucred peer{};
    socklen_t length = sizeof peer;
    ASSERT_EQ(getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &length),
              0);
    EXPECT_EQ(peer.pid, process.pid);
    received.push_back(ReadUntilEof(connection));
    close(connection);
  }
  EXPECT_EQ(received[0], "out-header\nto the journal\n");
  EXPECT_EQ(received[1], "err-header\ntrouble\n");
  int status = WaitExit(process);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(listener);
}

TEST_F(SpawnerTest, ReportsAMissingJournal) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.journal = JournalStreams{Path("no-journald"), "a\n", "b\n"};
  SpawnError error = MustFail(request);
  EXPECT_EQ(error.ToString(), "journal \"" + Path("no-journald") +
                                  "\": No such file or directory");
}

TEST_F(SpawnerTest, ClosesEveryOtherFd) {
  // Stray fds without CLOEXEC, as libraries or workerd's own parent leave
  // them: one low, one far up.
  int stray_low = open("/dev/null", O_RDONLY);
  ASSERT_GE(stray_low, 0);
  int stray_high = dup2(stray_low, 200);
  ASSERT_EQ(stray_high, 200);
  MustSpawn(WorkerRequest(Path("report")));
  close(stray_low);
  close(stray_high);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["fds"], "0,1,2");
}

TEST_F(SpawnerTest, PlacesCrossedListenFdsInOrder) {
  // Made far from 3 and 4, which the test sets up below.
  int a = HighSocket();
  int b = HighSocket();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  const std::string a_inode = Inode(a, "socket");
  const std::string b_inode = Inode(b, "socket");
  SpawnedProcess process;
  {
    // `a` sits at 4 and must become 3, `b` sits at 3 and must become 4: a
    // naive dup2(4, 3) would overwrite b before it moved.
    FdOverride a_at_4(a, 4);
    FdOverride b_at_3(b, 3);
    SpawnRequest request = WorkerRequest(Path("report"));
    request.listen_fds = {4, 3};
    request.listen_fd_names = {"http", "admin"};
    // A stale value the spawner must replace, not duplicate.
    request.env.push_back("LISTEN_PID=1");
    process = MustSpawn(request);
    // workerd's own table is untouched.
    EXPECT_EQ(Inode(4, "socket"), a_inode);
    EXPECT_EQ(Inode(3, "socket"), b_inode);
  }
  close(a);
  close(b);
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["fds"], "0,1,2,3,4");
  EXPECT_EQ((*report)["fd.3"], a_inode);
  EXPECT_EQ((*report)["fd.4"], b_inode);
  EXPECT_EQ((*report)["env.LISTEN_FDS"], "2");
  EXPECT_EQ((*report)["env.LISTEN_PID"], std::to_string(process.pid));
  EXPECT_EQ((*report)["env.LISTEN_FDNAMES"], "http:admin");
  size_t count = 0;
  for (size_t at = 0;
       (at = report->text.find("env.LISTEN_PID=", at)) != std::string::npos;
       ++at) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
}

TEST_F(SpawnerTest, SetsNoListenVariablesWithoutListenFds) {
  MustSpawn(WorkerRequest(Path("report")));
  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->text.find("env.LISTEN_"), std::string::npos);
}

void CountSignal(int) {}

TEST_F(SpawnerTest, ResetsSignalMaskAndDispositions) {
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGUSR1);
  sigset_t saved_mask;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &blocked, &saved_mask), 0);
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction handle = {};
  handle.sa_handler = CountSignal;
  struct sigaction saved_term, saved_pipe, saved_usr2;
  sigaction(SIGTERM, &ignore, &saved_term);
  sigaction(SIGPIPE, &ignore, &saved_pipe);
  sigaction(SIGUSR2, &handle, &saved_usr2);

  SpawnedProcess process = MustSpawn(WorkerRequest(Path("report")));

  // The spawner puts the caller's own mask back.
  sigset_t after;
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  EXPECT_TRUE(sigismember(&after, SIGTERM));
  EXPECT_TRUE(sigismember(&after, SIGUSR1));
  EXPECT_FALSE(sigismember(&after, SIGINT));
  EXPECT_FALSE(sigismember(&after, SIGCHLD));

  sigaction(SIGTERM, &saved_term, nullptr);
  sigaction(SIGPIPE, &saved_pipe, nullptr);
  sigaction(SIGUSR2, &saved_usr2, nullptr);
  pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);

  auto report = WaitForReport(Path("report"));
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["sigblk"], "0000000000000000");
  EXPECT_EQ((*report)["sigign"], "0000000000000000");
  // And SIGTERM does reach it: the worker exits 0 on it.
  ASSERT_EQ(kill(process.pid, SIGTERM), 0);
  int status = WaitExit(process);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(SpawnerTest, ReturnsPidfdOfTheWorker) {
  SpawnedProcess process = MustSpawn(WorkerRequest(Path("report")));
  ASSERT_TRUE(process.pidfd);
  EXPECT_TRUE(fcntl(process.pidfd.Get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_TRUE(WaitForReport(Path("report")));

  // Running: not readable yet.
  pollfd pfd{process.pidfd.Get(), POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 0), 0);
  // The pidfd names this very process: a signal through it ends the worker.
  ASSERT_EQ(
      syscall(SYS_pidfd_send_signal, process.pidfd.Get(), SIGTERM, nullptr, 0),
      0);
  int status = WaitExit(process);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(SpawnerTest, PidfdReportsExitStatus) {
  SpawnRequest request = WorkerRequest(Path("report"));
  request.argv.insert(request.argv.end(),
                      {"--exit-after", "50", "--exit-code", "3"});
  SpawnedProcess process = MustSpawn(request);
  int status = WaitExit(process);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
}

TEST(SpawnErrorTest, FormatsStageSubjectAndError) {
  EXPECT_EQ((SpawnError{"exec", "gunicornn", ENOENT}).ToString(),
            "exec \"gunicornn\": No such file or directory");
  EXPECT_EQ((SpawnError{"chdir", "/srv/nope", ENOENT}).ToString(),
            "chdir \"/srv/nope\": No such file or directory");
  EXPECT_EQ((SpawnError{"setuid", "33", EPERM}).ToString(),
            "setuid 33: Operation not permitted");
  EXPECT_EQ((SpawnError{"clone", "", EAGAIN}).ToString(),
            "clone: Resource temporarily unavailable");
}

}  // namespace
}  // namespace workerd
