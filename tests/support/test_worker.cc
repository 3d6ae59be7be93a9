// A worker for the tests to supervise: it reports what it was started with
// and misbehaves on command. See tests/support/README.md for the options.
// Only libc and libstdc++, so it runs anywhere the tests do: sd_notify and
// the LISTEN_FDS protocol are done by hand, not with libsystemd.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace {

struct Options {
  std::optional<std::string> pidfile;
  std::vector<std::string> prints;
  std::vector<std::string> error_prints;
  std::optional<std::string> partial;
  bool print_pid = false;
  long flood_lines = 0;
  long line_bytes = 100;
  std::optional<long> exit_after_ms;
  int exit_code = 0;
  std::optional<long> crash_after_ms;
  bool ignore_term = false;
  int term_exit_code = 0;
  std::optional<std::string> fork_child;
  std::optional<std::string> daemonize_child;
  std::optional<std::string> report;
  // HTTP on the inherited listener at fd 3.
  bool http = false;
  std::optional<long> http_delay_ms;
  // sd_notify. --notify-ready is --ready-after 0.
  std::optional<long> ready_after_ms;
  std::optional<std::string> notify_status;
  bool notify_from_child = false;
  bool notify_stopping = false;
  std::optional<long> watchdog_every_ms;
  std::optional<long> watchdog_stop_after_ms;
};

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "test_worker: %s\n", message.c_str());
  std::exit(2);
}

long ParseNumber(const std::string& option, const char* text) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0) {
    Usage(option + " wants a non-negative number");
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
      if (i + 1 >= argc) Usage(option + " wants a value");
      return argv[++i];
    };
    auto number = [&]() { return ParseNumber(option, value()); };
    if (option == "--pidfile") {
      options.pidfile = value();
    } else if (option == "--print") {
      options.prints.push_back(value());
    } else if (option == "--print-err") {
      options.error_prints.push_back(value());
    } else if (option == "--partial") {
      options.partial = value();
    } else if (option == "--print-pid") {
      options.print_pid = true;
    } else if (option == "--flood") {
      options.flood_lines = number();
    } else if (option == "--line-bytes") {
      options.line_bytes = number();
      if (options.line_bytes < 20) Usage(option + " wants at least 20");
    } else if (option == "--exit-after") {
      options.exit_after_ms = number();
    } else if (option == "--exit-code") {
      options.exit_code = static_cast<int>(number());
    } else if (option == "--crash-after") {
      options.crash_after_ms = number();
    } else if (option == "--ignore-term") {
      options.ignore_term = true;
    } else if (option == "--term-exit-code") {
      options.term_exit_code = static_cast<int>(number());
    } else if (option == "--fork-child") {
      options.fork_child = value();
    } else if (option == "--daemonize-child") {
      options.daemonize_child = value();
    } else if (option == "--report") {
      options.report = value();
    } else if (option == "--http") {
      options.http = true;
    } else if (option == "--http-delay") {
      options.http_delay_ms = number();
    } else if (option == "--notify-ready") {
      options.ready_after_ms = 0;
    } else if (option == "--ready-after") {
      options.ready_after_ms = number();
    } else if (option == "--notify-status") {
      options.notify_status = value();
    } else if (option == "--notify-from-child") {
      options.notify_from_child = true;
    } else if (option == "--notify-stopping") {
      options.notify_stopping = true;
    } else if (option == "--watchdog-every") {
      options.watchdog_every_ms = number();
      if (*options.watchdog_every_ms == 0) Usage(option + " wants at least 1");
    } else if (option == "--watchdog-stop-after") {
      options.watchdog_stop_after_ms = number();
    } else {
      Usage("unknown option " + option);
    }
  }
  if (options.http_delay_ms && !options.http) {
    Usage("--http-delay needs --http");
  }
  if (options.watchdog_stop_after_ms && !options.watchdog_every_ms) {
    Usage("--watchdog-stop-after needs --watchdog-every");
  }
  if (options.notify_from_child && !options.ready_after_ms &&
      !options.notify_status) {
    Usage(
        "--notify-from-child needs --notify-ready, --ready-after or "
        "--notify-status");
  }
  return options;
}

long NowMs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

// ---------------------------------------------------------------------------
// Files and the report

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

bool IsSocket(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int SocketOption(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, option, &value, &length) < 0) return -1;
  return value;
}

std::string SocketType(int fd) {
  switch (SocketOption(fd, SO_TYPE)) {
    case SOCK_STREAM:
      return "stream";
    case SOCK_DGRAM:
      return "dgram";
    case SOCK_SEQPACKET:
      return "seqpacket";
    default:
      return "?";
  }
}

// The local address in workers.toml's spelling: "127.0.0.1:8080",
// "[::1]:8080", "unix:/run/app.sock", "unix:@abstract", "unix:" (unnamed).
std::string SocketAddress(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  auto* address = reinterpret_cast<sockaddr*>(&storage);
  if (getsockname(fd, address, &length) < 0) return "?";
  char host[INET6_ADDRSTRLEN] = "";
  switch (storage.ss_family) {
    case AF_INET: {
      auto* in = reinterpret_cast<sockaddr_in*>(&storage);
      inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
      return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
    }
    case AF_INET6: {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
      inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
      return "[" + std::string(host) +
             "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<sockaddr_un*>(&storage);
      size_t header = offsetof(sockaddr_un, sun_path);
      if (length <= header) return "unix:";
      size_t size = length - header;
      if (un->sun_path[0] == '\0') {
        return "unix:@" + std::string(un->sun_path + 1, size - 1);
      }
      return "unix:" + std::string(un->sun_path, strnlen(un->sun_path, size));
    }
    default:
      return "family " + std::to_string(storage.ss_family);
  }
}

// Everything about how the process was started, one key=value a line.
// Gathered before the worker touches its own signals or opens a file.
// LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, NOTIFY_SOCKET, WATCHDOG_USEC and
// WATCHDOG_PID show up, when set, with the rest of the environment.
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
    if (!IsSocket(fd)) continue;
    out << "fd." << fd << ".type=" << SocketType(fd) << "\n";
    out << "fd." << fd << ".listening="
        << (SocketOption(fd, SO_ACCEPTCONN) == 1 ? "yes" : "no") << "\n";
    out << "fd." << fd << ".address=" << SocketAddress(fd) << "\n";
  }
  std::ifstream status_file("/proc/self/status");
  std::string status((std::istreambuf_iterator<char>(status_file)),
                     std::istreambuf_iterator<char>());
  out << "sigblk=" << StatusField(status, "SigBlk") << "\n";
  out << "sigign=" << StatusField(status, "SigIgn") << "\n";
  int pdeathsig = 0;
  prctl(PR_GET_PDEATHSIG, &pdeathsig);
  out << "pdeathsig=" << pdeathsig << "\n";
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

// ---------------------------------------------------------------------------
// Signals: SIGTERM and SIGINT stay blocked except inside ppoll(), whose
// mask lets them in; the handlers only raise a flag, so a signal can never
// slip in between checking the flags and going to sleep.

volatile sig_atomic_t got_term = 0;
volatile sig_atomic_t got_int = 0;

void OnTerm(int) { got_term = 1; }
void OnInt(int) { got_int = 1; }

// Blocks the signals, installs the handlers and returns the mask for
// ppoll().
sigset_t TakeSignals(bool ignore_term) {
  sigset_t taken;
  sigemptyset(&taken);
  sigaddset(&taken, SIGINT);
  if (!ignore_term) sigaddset(&taken, SIGTERM);
  sigset_t during_poll;
  sigprocmask(SIG_BLOCK, &taken, &during_poll);
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = OnInt;
  sigaction(SIGINT, &action, nullptr);
  if (ignore_term) {
    signal(SIGTERM, SIG_IGN);
  } else {
    action.sa_handler = OnTerm;
    sigaction(SIGTERM, &action, nullptr);
  }
  sigdelset(&during_poll, SIGINT);
  if (!ignore_term) sigdelset(&during_poll, SIGTERM);
  return during_poll;
}

// ---------------------------------------------------------------------------
// Children

[[noreturn]] void SleepForever() {
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
  // only a kill of the whole group gets rid of it. SIGINT still kills it.
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_DFL);
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
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    WriteAtomically(path, std::to_string(getpid()) + "\n");
    timespec delay{0, 200L * 1000 * 1000};
    while (nanosleep(&delay, &delay) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  while (waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// ---------------------------------------------------------------------------
// sd_notify(3) by hand

// Sends one datagram to $NOTIFY_SOCKET: "@name" is the abstract name
// "\0name", "/path" a socket file. Empty on success, else a sentence.
std::string SendNotify(const std::string& message) {
  const char* target = std::getenv("NOTIFY_SOCKET");
  if (target == nullptr || *target == '\0') return "NOTIFY_SOCKET is not set";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  size_t length = std::strlen(target);
  if ((target[0] != '@' && target[0] != '/') || length < 2 ||
      length > sizeof(address.sun_path)) {
    return "NOTIFY_SOCKET=" + std::string(target) +
           " is not a unix socket address";
  }
  std::memcpy(address.sun_path, target, length);
  // Abstract: the leading NUL and the name, no terminator. A path may fill
  // sun_path to the last byte, so it goes without its NUL too.
  if (target[0] == '@') address.sun_path[0] = '\0';
  auto address_length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  ssize_t sent;
  do {
    sent = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                  reinterpret_cast<sockaddr*>(&address), address_length);
  } while (sent < 0 && errno == EINTR);
  int error = errno;
  close(fd);
  if (sent < 0) {
    return "cannot send to NOTIFY_SOCKET=" + std::string(target) + ": " +
           std::strerror(error);
  }
  return "";
}

class Notifier {
 public:
  // Sends each message as a datagram of its own, in order; with
  // `from_child`, from a forked child in the worker's process group.
  void Send(const std::vector<std::string>& messages, bool from_child,
            long now) {
    if (!from_child) {
      for (const std::string& message : messages) SendHere(message);
      return;
    }
    pid_t child = fork();
    if (child < 0) {
      std::perror("fork");
      std::exit(3);
    }
    if (child == 0) {
      for (const std::string& message : messages) SendHere(message);
      _exit(0);
    }
    // The child exits at once but is reaped only later: until then its pid
    // (a zombie) still names the worker's process group, which is how
    // workerd tells whose message it was.
    children_.push_back({child, now + kReapDelayMs});
  }

  // Reaps the children whose time has come.
  void Reap(long now) {
    std::erase_if(children_, [now](const std::pair<pid_t, long>& child) {
      if (now < child.second) return false;
      while (waitpid(child.first, nullptr, 0) < 0 && errno == EINTR) {
      }
      return true;
    });
  }

  std::optional<long> NextDeadline() const {
    std::optional<long> next;
    for (const auto& child : children_) {
      if (!next || child.second < *next) next = child.second;
    }
    return next;
  }

 private:
  static constexpr long kReapDelayMs = 1000;

  // Failures are reported once per kind ("READY", "WATCHDOG", ...) so a
  // watchdog without a listener does not flood stderr.
  void SendHere(const std::string& message) {
    std::string error = SendNotify(message);
    if (error.empty()) return;
    std::string kind = message.substr(0, message.find('='));
    if (warned_.insert(kind).second) {
      std::fprintf(stderr, "test_worker: %s not sent: %s\n", kind.c_str(),
                   error.c_str());
    }
  }

  std::vector<std::pair<pid_t, long>> children_;  // pid, when to reap
  std::set<std::string> warned_;
};

// ---------------------------------------------------------------------------
// HTTP

// The listener at fd 3 from the LISTEN_FDS protocol; exits 2 with a
// sentence when there is none.
int TakeListener() {
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  if (fds == nullptr || std::atoi(fds) < 1) {
    Usage("--http needs a listening socket at fd 3, but LISTEN_FDS is " +
          std::string(fds ? "\"" + std::string(fds) + "\"" : "not set"));
  }
  if (pid == nullptr || std::to_string(getpid()) != pid) {
    Usage("--http: LISTEN_PID is " +
          std::string(pid ? "\"" + std::string(pid) + "\"" : "not set") +
          ", not this process's pid " + std::to_string(getpid()) +
          ", so fd 3 is not meant for it");
  }
  constexpr int kListener = 3;
  if (!IsSocket(kListener) || SocketOption(kListener, SO_ACCEPTCONN) != 1 ||
      SocketOption(kListener, SO_TYPE) != SOCK_STREAM) {
    Usage("--http: fd 3 is not a listening stream socket");
  }
  // The listener's file description is shared with workerd and with every
  // other worker of the socket, so O_NONBLOCK is set for all of them. That
  // is needed: after poll() says "readable", another worker may take the
  // connection first, and a blocking accept() would then hang until the
  // next one. Every test worker does the same and workerd never accepts on
  // it, so nobody is surprised.
  int flags = fcntl(kListener, F_GETFL);
  if (flags < 0 || fcntl(kListener, F_SETFL, flags | O_NONBLOCK) < 0) {
    std::perror("fcntl(3, O_NONBLOCK)");
    std::exit(3);
  }
  return kListener;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string_view Trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(start, end - start + 1);
}

// Just enough HTTP/1.x: the request line, Connection and Content-Length
// (the body is skipped).
struct Request {
  enum class State { kIncomplete, kComplete, kBad } state = State::kIncomplete;
  size_t length = 0;  // kComplete: bytes of head and body
  bool head = false;  // HEAD: no body in the answer
  bool keep_alive = false;
  int status = 400;  // kBad: the answer
};

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxBody = 1024 * 1024;

Request ParseRequest(const std::string& in) {
  Request request;
  auto bad = [&request](int status) {
    request.state = Request::State::kBad;
    request.status = status;
    return request;
  };
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) {
    return in.size() > kMaxHead ? bad(431) : request;
  }
  if (end > kMaxHead) return bad(431);
  std::string_view head(in.data(), end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t space1 = line.find(' ');
  size_t space2 = line.rfind(' ');
  if (space1 == std::string_view::npos || space1 == space2) return bad(400);
  std::string_view method = line.substr(0, space1);
  std::string_view version = line.substr(space2 + 1);
  if (version.rfind("HTTP/", 0) != 0) return bad(400);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return bad(505);
  bool close = false;
  bool keep_alive = false;
  size_t body = 0;
  while (line_end != std::string_view::npos) {
    size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    line = head.substr(start, line_end == std::string_view::npos
                                  ? std::string_view::npos
                                  : line_end - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad(400);
    std::string name = Lower(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (name == "connection") {
      std::string tokens = Lower(value);
      std::istringstream list(tokens);
      std::string token;
      while (std::getline(list, token, ',')) {
        std::string_view option = Trim(token);
        if (option == "close") close = true;
        if (option == "keep-alive") keep_alive = true;
      }
    } else if (name == "content-length") {
      std::string digits(value);
      char* digits_end = nullptr;
      errno = 0;
      unsigned long long n = std::strtoull(digits.c_str(), &digits_end, 10);
      if (digits.empty() || *digits_end != '\0' || errno != 0 ||
          digits[0] == '-') {
        return bad(400);
      }
      if (n > kMaxBody) return bad(413);
      body = static_cast<size_t>(n);
    } else if (name == "transfer-encoding") {
      return bad(501);
    }
  }
  request.length = end + 4 + body;
  if (in.size() < request.length) return request;  // the body is on its way
  request.state = Request::State::kComplete;
  request.head = method == "HEAD";
  request.keep_alive = version == "HTTP/1.1" ? !close : keep_alive && !close;
  return request;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Bad Request";
  }
}

std::string Response(int status, const std::string& body, bool head,
                     bool close) {
  std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  response += "Content-Type: text/plain\r\n";
  response += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  response += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
  response += "\r\n";
  if (!head) response += body;
  return response;
}

struct Connection {
  int fd = -1;
  std::string in;        // received, not yet answered
  std::string out;       // to be sent
  bool eof = false;      // the client sends no more
  bool pending = false;  // a whole request waits for due_ms to be answered
  Request request;       // pending: the request
  long due_ms = 0;
  bool close_after_out = false;
  bool done = false;  // to be closed
  long idle_since_ms = 0;  // accepted, or last read from or answered
};

// While stopping, a connection without a request in progress is closed
// once it has been idle this long. Not at once: a client that just
// connected, or a keep-alive client between two requests, may have its
// next request on the way, and closing under it would fail that request.
constexpr long kStopIdleGraceMs = 250;

// A single-threaded server for any number of keep-alive connections,
// driven by the worker's poll loop.
class HttpServer {
 public:
  HttpServer(int listener, long delay_ms)
      : listener_(listener),
        delay_ms_(delay_ms),
        body_("instance=" + Env("WORKERD_INSTANCE") +
              " pid=" + std::to_string(getpid()) + "\n") {}

  // Stops accepting; answers what was received, and what arrives on open
  // connections meanwhile, with "Connection: close"; closes connections
  // idle for kStopIdleGraceMs.
  void BeginStop(long now) {
    stopping_ = true;
    // A request may sit unread in a socket buffer: it counts as received.
    for (Connection& c : connections_) Read(c);
    Advance(now);
  }

  bool Stopped() const { return stopping_ && connections_.empty(); }

  // Appends what to poll; Handle() gets the same entries back.
  void Prepare(std::vector<pollfd>& fds) {
    first_ = fds.size();
    listener_polled_ = !stopping_;
    if (listener_polled_) fds.push_back({listener_, POLLIN, 0});
    for (const Connection& c : connections_) {
      short events = 0;
      if (!c.eof && c.in.size() < kMaxHead + kMaxBody) events |= POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
    }
  }

  void Handle(const pollfd* fds, long now) {
    const pollfd* at = fds + first_;
    bool accept = listener_polled_ && (at++)->revents != 0;
    for (Connection& c : connections_) {
      short revents = (at++)->revents;
      if (revents & POLLERR) {
        c.done = true;
      } else if (revents & (POLLIN | POLLHUP)) {
        Read(c);
        c.idle_since_ms = now;
        // POLLHUP: gone both ways (not just done sending), so there is no
        // one left to answer, and it would be reported on every poll.
        if (revents & POLLHUP) c.done = true;
      }
    }
    if (accept) Accept(now);
    Advance(now);
  }

  // Answers due requests, sends, closes the connections that are done.
  void Advance(long now) {
    for (Connection& c : connections_) Progress(c, now);
    std::erase_if(connections_, [](const Connection& c) {
      if (c.done) close(c.fd);
      return c.done;
    });
  }

  std::optional<long> NextDeadline() const {
    std::optional<long> next;
    auto consider = [&](long due) {
      if (!next || due < *next) next = due;
    };
    for (const Connection& c : connections_) {
      if (c.pending && c.out.empty()) consider(c.due_ms);
      if (stopping_ && Idle(c)) consider(c.idle_since_ms + kStopIdleGraceMs);
    }
    return next;
  }

 private:
  static std::string Env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "?";
  }

  static bool Idle(const Connection& c) {
    return c.in.empty() && !c.pending && c.out.empty();
  }

  void Accept(long now) {
    // Bounded, so a flood of connections cannot starve the others.
    for (int i = 0; i < 64; ++i) {
      int fd =
          accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        Connection& c = connections_.emplace_back();
        c.fd = fd;
        c.idle_since_ms = now;
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // EAGAIN: none left, or another worker took it.
      if (errno != EAGAIN && errno != EWOULDBLOCK) std::perror("accept4");
      return;
    }
  }

  void Read(Connection& c) {
    char buffer[16384];
    while (!c.done && !c.eof && c.in.size() < kMaxHead + kMaxBody) {
      ssize_t n = recv(c.fd, buffer, sizeof(buffer), 0);
      if (n > 0) {
        c.in.append(buffer, static_cast<size_t>(n));
      } else if (n == 0) {
        c.eof = true;
      } else if (errno != EINTR) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) c.done = true;
        return;
      }
    }
  }

  // Sends what it can; false while the rest has to wait for POLLOUT.
  bool Flush(Connection& c) {
    while (!c.out.empty()) {
      ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        c.out.erase(0, static_cast<size_t>(n));
      } else if (errno != EINTR) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) c.done = true;
        return false;
      }
    }
    return true;
  }

  // One request at a time per connection: parse, wait until due, answer,
  // send, then the next one (pipelined requests wait in `in`).
  void Progress(Connection& c, long now) {
    while (!c.done) {
      if (!c.out.empty()) {
        if (!Flush(c)) return;
        continue;
      }
      if (c.close_after_out) {
        c.done = true;
        return;
      }
      if (c.pending) {
        if (now < c.due_ms) return;
        c.pending = false;
        c.close_after_out = !c.request.keep_alive || stopping_;
        c.out = Response(200, body_, c.request.head, c.close_after_out);
        c.idle_since_ms = now;
        continue;
      }
      // Stray CRLFs between requests are allowed (RFC 9112, 2.2).
      size_t start = c.in.find_first_not_of("\r\n");
      c.in.erase(0, start == std::string::npos ? c.in.size() : start);
      Request request = ParseRequest(c.in);
      switch (request.state) {
        case Request::State::kComplete:
          c.in.erase(0, request.length);
          c.request = request;
          c.pending = true;
          c.due_ms = now + delay_ms_;
          continue;
        case Request::State::kBad:
          c.in.clear();
          c.close_after_out = true;
          c.out =
              Response(request.status,
                       std::string(Reason(request.status)) + "\n", false, true);
          continue;
        case Request::State::kIncomplete:
          // Nothing more will come, or idle too long while stopping.
          if (c.eof || (stopping_ && c.in.empty() &&
                        now - c.idle_since_ms >= kStopIdleGraceMs)) {
            c.done = true;
          }
          return;
      }
    }
  }

  int listener_;
  long delay_ms_;
  std::string body_;
  bool stopping_ = false;
  std::vector<Connection> connections_;
  // What the last Prepare() added; Handle() must come before any change to
  // connections_.
  size_t first_ = 0;
  bool listener_polled_ = false;
};

// ---------------------------------------------------------------------------
// The event loop: timers, signals and the HTTP server in one ppoll().

class Worker {
 public:
  Worker(const Options& options, sigset_t poll_mask,
         std::optional<HttpServer> http)
      : options_(options), poll_mask_(poll_mask), http_(std::move(http)) {}

  [[noreturn]] void Run() {
    const long start = NowMs();
    if (options_.exit_after_ms) exit_at_ = start + *options_.exit_after_ms;
    if (options_.crash_after_ms) crash_at_ = start + *options_.crash_after_ms;
    std::vector<std::string> at_start;
    if (options_.notify_status) {
      at_start.push_back("STATUS=" + *options_.notify_status);
    }
    if (options_.ready_after_ms == 0) {
      // With the status, so that one child sends both, in order.
      at_start.push_back("READY=1");
    } else if (options_.ready_after_ms) {
      ready_at_ = start + *options_.ready_after_ms;
    }
    if (!at_start.empty()) {
      notifier_.Send(at_start, options_.notify_from_child, start);
    }
    if (options_.watchdog_every_ms) watchdog_at_ = start;
    if (options_.watchdog_stop_after_ms) {
      watchdog_stop_at_ = start + *options_.watchdog_stop_after_ms;
    }
    while (true) {
      // Checked before sleeping, with the signals blocked: one that came
      // before (even before the handlers were in place) is not missed.
      if (got_int) std::exit(0);
      if (got_term && !stopping_) BeginStop();
      long now = NowMs();
      FireTimers(now);
      if (http_) http_->Advance(now);
      if (stopping_ && (!http_ || http_->Stopped())) {
        std::exit(options_.term_exit_code);
      }
      std::vector<pollfd> fds;
      if (http_) http_->Prepare(fds);
      timespec timeout;
      timespec* timeout_pointer = nullptr;
      if (std::optional<long> next = NextDeadline()) {
        long left = std::max(0L, *next - NowMs());
        timeout = {left / 1000, (left % 1000) * 1000000};
        timeout_pointer = &timeout;
      }
      int ready = ppoll(fds.data(), fds.size(), timeout_pointer, &poll_mask_);
      if (ready < 0 && errno != EINTR) {
        std::perror("ppoll");
        std::exit(3);
      }
      // A signal is acted on at the top, before `fds` could go stale.
      if (ready > 0 && http_) http_->Handle(fds.data(), NowMs());
    }
  }

 private:
  void BeginStop() {
    stopping_ = true;
    if (options_.notify_stopping) {
      notifier_.Send({"STOPPING=1"}, false, NowMs());
    }
    if (http_) http_->BeginStop(NowMs());
  }

  void FireTimers(long now) {
    // The earlier of exit and crash wins; a crash on a tie.
    std::optional<long> end = Earliest(exit_at_, crash_at_);
    if (end && now >= *end) {
      if (end == crash_at_) Crash();
      std::exit(options_.exit_code);
    }
    if (ready_at_ && now >= *ready_at_) {
      ready_at_.reset();
      notifier_.Send({"READY=1"}, options_.notify_from_child, now);
    }
    if (watchdog_at_ && now >= *watchdog_at_) {
      if (watchdog_stop_at_ && now >= *watchdog_stop_at_) {
        watchdog_at_.reset();
      } else {
        notifier_.Send({"WATCHDOG=1"}, false, now);
        *watchdog_at_ += *options_.watchdog_every_ms;
        if (*watchdog_at_ <= now) {
          *watchdog_at_ = now + *options_.watchdog_every_ms;
        }
      }
    }
    notifier_.Reap(now);
  }

  [[noreturn]] static void Crash() {
    // No core file to litter the test's directory.
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    std::abort();
  }

  static std::optional<long> Earliest(std::optional<long> a,
                                      std::optional<long> b) {
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
  }

  std::optional<long> NextDeadline() const {
    std::optional<long> next = Earliest(exit_at_, crash_at_);
    next = Earliest(next, ready_at_);
    next = Earliest(next, watchdog_at_);
    next = Earliest(next, notifier_.NextDeadline());
    if (http_) next = Earliest(next, http_->NextDeadline());
    return next;
  }

  const Options& options_;
  sigset_t poll_mask_;
  std::optional<HttpServer> http_;
  Notifier notifier_;
  bool stopping_ = false;
  std::optional<long> exit_at_;
  std::optional<long> crash_at_;
  std::optional<long> ready_at_;
  std::optional<long> watchdog_at_;
  std::optional<long> watchdog_stop_at_;
};

// Writes all of `data` to `fd`, as a blocking write must.
void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) std::exit(3);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// `lines` numbered lines of `line_bytes` bytes (newline included) to each
// of stdout and stderr, in chunks that alternate between the two, so both
// pipes are busy at once: "stdout 00000042 xxxx...".
void Flood(long lines, long line_bytes) {
  constexpr std::size_t kChunkBytes = 16 * 1024;
  long next[2] = {0, 0};
  std::string chunk;
  while (next[0] < lines || next[1] < lines) {
    for (int stream = 0; stream < 2; ++stream) {
      chunk.clear();
      while (next[stream] < lines && chunk.size() < kChunkBytes) {
        char head[32];
        std::snprintf(head, sizeof head, "%s %08ld ",
                      stream == 0 ? "stdout" : "stderr", next[stream]++);
        std::string line = head;
        line.resize(static_cast<std::size_t>(line_bytes) - 1, 'x');
        line.push_back('\n');
        chunk += line;
      }
      WriteAll(stream == 0 ? STDOUT_FILENO : STDERR_FILENO, chunk);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options = Parse(argc, argv);
  if (options.report) WriteAtomically(*options.report, Report(argc, argv));

  // The handlers are in place before the pidfile says "up".
  sigset_t poll_mask = TakeSignals(options.ignore_term);

  for (const std::string& text : options.prints) {
    std::printf("%s\n", text.c_str());
  }
  if (options.print_pid) std::printf("pid %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  for (const std::string& text : options.error_prints) {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  if (options.flood_lines > 0) Flood(options.flood_lines, options.line_bytes);
  if (options.partial) WriteAll(STDOUT_FILENO, *options.partial);
  if (options.fork_child) ForkChild(*options.fork_child);
  if (options.daemonize_child) DaemonizeChild(*options.daemonize_child);
  std::optional<HttpServer> http;
  if (options.http) {
    http.emplace(TakeListener(), options.http_delay_ms.value_or(0));
  }
  if (options.pidfile) {
    WriteAtomically(*options.pidfile, std::to_string(getpid()) + "\n");
  }
  Worker(options, poll_mask, std::move(http)).Run();
}
