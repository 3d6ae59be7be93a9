// A worker for the tests to supervise: it reports what it was started with
// and misbehaves on command. See tests/support/README.md for the options.
// Only libc and libstdc++, so it runs anywhere the tests do.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Options {
  std::optional<std::string> pidfile;
  std::vector<std::string> prints;
  std::optional<long> exit_after_ms;
  int exit_code = 0;
  std::optional<long> crash_after_ms;
  bool ignore_term = false;
  int term_exit_code = 0;
  std::optional<std::string> fork_child;
  std::optional<std::string> daemonize_child;
  std::optional<std::string> report;
};

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr, "test_worker: %s\n", message);
  std::exit(2);
}

long ParseNumber(const char* option, const char* text) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0) {
    Usage((std::string(option) + " wants a non-negative number").c_str());
  }
  return value;
}

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string option = argv[i];
    // Everything after "--" is only there to be reported.
    if (option == "--") break;
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Usage((option + " wants a value").c_str());
      return argv[++i];
    };
    if (option == "--pidfile") {
      options.pidfile = value();
    } else if (option == "--print") {
      options.prints.push_back(value());
    } else if (option == "--exit-after") {
      options.exit_after_ms = ParseNumber("--exit-after", value());
    } else if (option == "--exit-code") {
      options.exit_code = static_cast<int>(ParseNumber("--exit-code", value()));
    } else if (option == "--crash-after") {
      options.crash_after_ms = ParseNumber("--crash-after", value());
    } else if (option == "--ignore-term") {
      options.ignore_term = true;
    } else if (option == "--term-exit-code") {
      options.term_exit_code =
          static_cast<int>(ParseNumber("--term-exit-code", value()));
    } else if (option == "--fork-child") {
      options.fork_child = value();
    } else if (option == "--daemonize-child") {
      options.daemonize_child = value();
    } else if (option == "--report") {
      options.report = value();
    } else {
      Usage(("unknown option " + option).c_str());
    }
  }
  return options;
}

// Readers poll for these files, so they must never see half of one.
void WriteAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(temp.c_str());
    std::_Exit(3);
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::perror(temp.c_str());
      std::_Exit(3);
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (rename(temp.c_str(), path.c_str()) < 0) {
    std::perror(path.c_str());
    std::_Exit(3);
  }
}

std::string ReadLink(const std::string& path) {
  char buffer[4096];
  ssize_t n = readlink(path.c_str(), buffer, sizeof(buffer) - 1);
  if (n < 0) return "?";
  return std::string(buffer, static_cast<size_t>(n));
}

// The numbers of the fds open right now, without the one used to list them.
std::vector<int> OpenFds() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::atoi(entry->d_name);
    if (fd != dirfd(dir)) fds.push_back(fd);
  }
  closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

std::string StatusField(const std::string& status, const std::string& name) {
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      size_t start = line.find_first_not_of(" \t", name.size() + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "?";
}

// Everything about how the process was started, one key=value a line.
// Gathered before the worker touches its own signals or opens a file.
std::string Report(int argc, char** argv) {
  std::vector<int> fds = OpenFds();
  std::ostringstream out;
  out << "pid=" << getpid() << "\n";
  out << "ppid=" << getppid() << "\n";
  out << "pgid=" << getpgid(0) << "\n";
  out << "sid=" << getsid(0) << "\n";
  char cwd[4096];
  out << "cwd=" << (getcwd(cwd, sizeof(cwd)) ? cwd : "?") << "\n";
  out << "argc=" << argc << "\n";
  for (int i = 0; i < argc; ++i) out << "argv" << i << "=" << argv[i] << "\n";
  for (char** env = environ; *env != nullptr; ++env) {
    out << "env." << *env << "\n";
  }
  out << "fds=";
  for (size_t i = 0; i < fds.size(); ++i) out << (i ? "," : "") << fds[i];
  out << "\n";
  for (int fd : fds) {
    out << "fd." << fd << "=" << ReadLink("/proc/self/fd/" + std::to_string(fd))
        << "\n";
  }
  std::ifstream status_file("/proc/self/status");
  std::string status((std::istreambuf_iterator<char>(status_file)),
                     std::istreambuf_iterator<char>());
  out << "sigblk=" << StatusField(status, "SigBlk") << "\n";
  out << "sigign=" << StatusField(status, "SigIgn") << "\n";
  out << "uid=" << getuid() << "\n";
  out << "euid=" << geteuid() << "\n";
  out << "gid=" << getgid() << "\n";
  out << "egid=" << getegid() << "\n";
  std::vector<gid_t> groups(static_cast<size_t>(getgroups(0, nullptr)));
  int count = getgroups(static_cast<int>(groups.size()), groups.data());
  out << "groups=";
  for (int i = 0; i < count; ++i) out << (i ? "," : "") << groups[i];
  out << "\n";
  return out.str();
}

void SleepForever() {
  while (true) pause();
}

void ForkChild(const std::string& path) {
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(3);
  }
  if (pid > 0) return;
  // Stays in the worker's process group and outlives a polite SIGTERM, so
  // only a kill of the whole group gets rid of it.
  signal(SIGTERM, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  WriteAtomically(path, std::to_string(getpid()) + "\n");
  SleepForever();
}

void DaemonizeChild(const std::string& path) {
  pid_t middle = fork();
  if (middle < 0) {
    std::perror("fork");
    std::exit(3);
  }
  if (middle == 0) {
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(grandchild < 0 ? 3 : 0);
    // Orphaned once the middle process exits: reaping it falls to the
    // nearest subreaper, not to the worker.
    setsid();
    WriteAtomically(path, std::to_string(getpid()) + "\n");
    timespec delay{0, 200L * 1000 * 1000};
    while (nanosleep(&delay, &delay) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  while (waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
  }
}

long NowMs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = Parse(argc, argv);
  if (options.report) WriteAtomically(*options.report, Report(argc, argv));

  // Signals are taken synchronously with sigtimedwait, so they are blocked
  // from here on; the handlers are in place before the pidfile says "up".
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGINT);
  if (options.ignore_term) {
    signal(SIGTERM, SIG_IGN);
  } else {
    sigaddset(&waited, SIGTERM);
  }
  sigprocmask(SIG_BLOCK, &waited, nullptr);

  for (const std::string& text : options.prints) {
    std::printf("%s\n", text.c_str());
  }
  std::fflush(stdout);
  if (options.fork_child) ForkChild(*options.fork_child);
  if (options.daemonize_child) DaemonizeChild(*options.daemonize_child);
  if (options.pidfile) {
    WriteAtomically(*options.pidfile, std::to_string(getpid()) + "\n");
  }

  const long start = NowMs();
  while (true) {
    long timeout_ms = -1;
    if (options.exit_after_ms) timeout_ms = *options.exit_after_ms;
    if (options.crash_after_ms &&
        (timeout_ms < 0 || *options.crash_after_ms < timeout_ms)) {
      timeout_ms = *options.crash_after_ms;
    }
    if (timeout_ms >= 0) {
      long left = timeout_ms - (NowMs() - start);
      if (left <= 0) {
        if (timeout_ms == options.crash_after_ms) {
          // No core file to litter the test's directory.
          rlimit no_core{0, 0};
          setrlimit(RLIMIT_CORE, &no_core);
          std::abort();
        }
        std::exit(options.exit_code);
      }
      timespec wait{left / 1000, (left % 1000) * 1000000};
      int sig = sigtimedwait(&waited, nullptr, &wait);
      if (sig == SIGTERM) std::exit(options.term_exit_code);
      if (sig == SIGINT) std::exit(0);
    } else {
      int sig = sigwaitinfo(&waited, nullptr);
      if (sig == SIGTERM) std::exit(options.term_exit_code);
      if (sig == SIGINT) std::exit(0);
    }
  }
}
