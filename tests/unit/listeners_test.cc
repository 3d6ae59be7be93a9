#include "daemon/listeners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include "daemon/config_diff.h"

namespace workerd {
namespace {

using Family = ListenAddress::Family;

SocketSpec Tcp(const std::string& name, int port,
               Balance balance = Balance::kShared,
               const std::string& host = "127.0.0.1") {
  SocketSpec spec;
  spec.name = name;
  spec.listen.family =
      host.find(':') == std::string::npos ? Family::kInet : Family::kInet6;
  spec.listen.host = host;
  spec.listen.port = port;
  spec.balance = balance;
  return spec;
}

SocketSpec Unix(const std::string& name, const std::string& path,
                unsigned mode = 0666) {
  SocketSpec spec;
  spec.name = name;
  spec.listen.family = Family::kUnix;
  spec.listen.path = path;
  spec.mode = mode;
  return spec;
}

ProgramSpec Program(const std::string& name, int workers,
                    std::vector<std::string> sockets) {
  ProgramSpec program;
  program.name = name;
  program.command = {"/bin/true"};
  program.workers = workers;
  program.sockets = std::move(sockets);
  return program;
}

Listeners OpenOrDie(const Config& config,
                    std::vector<InheritedSocket> inherited = {}) {
  auto opened = Listeners::Open(config, std::move(inherited));
  if (auto* error = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << *error;
    return Listeners();
  }
  return std::move(std::get<Listeners>(opened));
}

std::string OpenError(const Config& config,
                      std::vector<InheritedSocket> inherited = {}) {
  auto opened = Listeners::Open(config, std::move(inherited));
  if (auto* error = std::get_if<std::string>(&opened)) return *error;
  return "(opened)";
}

WorkerSockets SocketsOf(Listeners& listeners, const ProgramSpec& program,
                        int instance) {
  auto sockets = listeners.ForWorker(program, instance);
  if (auto* error = std::get_if<std::string>(&sockets)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<WorkerSockets>(sockets);
}

int FdOf(Listeners& listeners, const ProgramSpec& program, int instance) {
  WorkerSockets sockets = SocketsOf(listeners, program, instance);
  return sockets.fds.size() == 1 ? sockets.fds[0] : -1;
}

int PortOf(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) < 0) {
    return -1;
  }
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6&>(address).sin6_port);
  }
  return -1;
}

int IntOption(int fd, int option) {
  int value = -1;
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) < 0) return -1;
  return value;
}

bool IsListening(int fd) { return IntOption(fd, SO_ACCEPTCONN) == 1; }

ino_t InodeOf(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

ino_t InodeOf(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// A TCP listener of our own on 127.0.0.1.
UniqueFd ListenOn(int port, bool reuseport = false) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int on = 1;
  if (reuseport)
    ::setsockopt(fd.Get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(
      ::bind(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0)
      << std::strerror(errno);
  EXPECT_EQ(::listen(fd.Get(), 16), 0);
  return fd;
}

// 0 on success, else errno.
int ConnectTcp(int port, UniqueFd* out = nullptr) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) < 0) {
    return errno;
  }
  if (out) *out = std::move(fd);
  return 0;
}

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  return address;
}

UniqueFd BindUnix(const std::string& path, bool listen) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address = UnixAddress(path);
  EXPECT_EQ(
      ::bind(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0)
      << std::strerror(errno);
  if (listen) {
    EXPECT_EQ(::listen(fd.Get(), 16), 0);
  }
  return fd;
}

int ConnectUnix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address = UnixAddress(path);
  if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) < 0) {
    return errno;
  }
  return 0;
}

// The peer of `fd` was closed: reading gives end of file at once.
bool PeerClosed(int fd) {
  char byte;
  return ::recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
}

// Runs `body` in a forked child (so that it may take fd 3, change its
// environment or drop privileges) and returns what it returned.
std::string InChild(const std::function<std::string()>& body) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    // Out of the way of fds 3, 4, ...
    int out = ::fcntl(pipe_fds[1], F_DUPFD_CLOEXEC, 100);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::string result = body();
    ssize_t written = ::write(out, result.data(), result.size());
    ::_exit(written == static_cast<ssize_t>(result.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string result;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
    result.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "child failed: " + result;
  }
  return result;
}

class ListenersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/listeners_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_F(ListenersTest, SharedSocketIsOneListenerForEveryWorker) {
  Config config;
  config.sockets = {Tcp("http", 0)};
  config.programs = {Program("web", 2, {"http"}), Program("api", 1, {"http"})};
  Listeners listeners = OpenOrDie(config);

  WorkerSockets first = SocketsOf(listeners, config.programs[0], 0);
  ASSERT_EQ(first.fds.size(), 1u);
  EXPECT_EQ(first.names, std::vector<std::string>{"http"});
  int fd = first.fds[0];
  EXPECT_TRUE(IsListening(fd));
  EXPECT_EQ(FdOf(listeners, config.programs[0], 1), fd);
  EXPECT_EQ(FdOf(listeners, config.programs[1], 0), fd);
  EXPECT_EQ(FdOf(listeners, config.programs[0], 7), fd);
  EXPECT_EQ(IntOption(fd, SO_REUSEPORT), 0);
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_FALSE(::fcntl(fd, F_GETFL) & O_NONBLOCK);

  int port = PortOf(fd);
  ASSERT_GT(port, 0);
  EXPECT_EQ(listeners.BoundAddress("http"),
            "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(ConnectTcp(port), 0);
}

TEST_F(ListenersTest, WorkerGetsSocketsInTheOrderOfItsProgram) {
  Config config;
  config.sockets = {Tcp("a", 0), Tcp("b", 0)};
  config.programs = {Program("web", 1, {"b", "a"}), Program("none", 1, {})};
  Listeners listeners = OpenOrDie(config);

  WorkerSockets sockets = SocketsOf(listeners, config.programs[0], 0);
  EXPECT_EQ(sockets.names, (std::vector<std::string>{"b", "a"}));
  ASSERT_EQ(sockets.fds.size(), 2u);
  EXPECT_EQ(std::to_string(PortOf(sockets.fds[0])),
            listeners.BoundAddress("b").substr(10));
  EXPECT_EQ(std::to_string(PortOf(sockets.fds[1])),
            listeners.BoundAddress("a").substr(10));
  EXPECT_TRUE(SocketsOf(listeners, config.programs[1], 0).fds.empty());
}

TEST_F(ListenersTest, SharedSocketNoProgramListsIsStillBound) {
  Config config;
  config.sockets = {Tcp("spare", 0)};
  Listeners listeners = OpenOrDie(config);
  std::string address = listeners.BoundAddress("spare");
  ASSERT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
  int port = std::stoi(address.substr(10));
  EXPECT_NE(port, 0);
  EXPECT_EQ(ConnectTcp(port), 0);
  EXPECT_EQ(listeners.BoundAddress("unknown"), "");
}

TEST_F(ListenersTest, ReuseportSocketNoProgramListsBindsNothing) {
  Config config;
  config.sockets = {Tcp("spare", 0, Balance::kReuseport)};
  Listeners listeners = OpenOrDie(config);
  EXPECT_EQ(listeners.BoundAddress("spare"), "127.0.0.1:0");
}

TEST_F(ListenersTest, IPv6AddressIsBracketed) {
  UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 loopback{};
  loopback.sin6_family = AF_INET6;
  loopback.sin6_addr = in6addr_loopback;
  const bool have_ipv6 =
      probe && ::bind(probe.Get(), reinterpret_cast<sockaddr*>(&loopback),
                      sizeof(loopback)) == 0;
  Config config;
  config.sockets = {Tcp("http", 0, Balance::kShared, "::1")};
  if (!have_ipv6) {
    // Without an IPv6 loopback the address still shows in brackets, in
    // the error.
    EXPECT_EQ(OpenError(config).rfind("socket \"http\": cannot listen on "
                                      "[::1]:0: ",
                                      0),
              0u)
        << OpenError(config);
    return;
  }
  Listeners listeners = OpenOrDie(config);
  std::string address = listeners.BoundAddress("http");
  EXPECT_EQ(address.rfind("[::1]:", 0), 0u) << address;
  EXPECT_NE(address, "[::1]:0");
}

TEST_F(ListenersTest, ReuseportGivesEachSlotItsOwnListenerOnOnePort) {
  Config config;
  config.sockets = {Tcp("http", 0, Balance::kReuseport)};
  config.programs = {Program("web", 3, {"http"}), Program("api", 1, {"http"})};
  Listeners listeners = OpenOrDie(config);

  std::vector<int> fds;
  for (int instance = 0; instance < 3; ++instance) {
    WorkerSockets sockets = SocketsOf(listeners, config.programs[0], instance);
    ASSERT_EQ(sockets.fds.size(), 1u);
    EXPECT_EQ(sockets.names, std::vector<std::string>{"http"});
    fds.push_back(sockets.fds[0]);
  }
  fds.push_back(FdOf(listeners, config.programs[1], 0));
  EXPECT_EQ(std::set<int>(fds.begin(), fds.end()).size(), 4u);

  int port = PortOf(fds[0]);
  ASSERT_GT(port, 0);
  EXPECT_EQ(listeners.BoundAddress("http"),
            "127.0.0.1:" + std::to_string(port));
  for (int fd : fds) {
    EXPECT_EQ(PortOf(fd), port);
    EXPECT_TRUE(IsListening(fd));
    EXPECT_EQ(IntOption(fd, SO_REUSEPORT), 1);
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_FALSE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  }
  // Asking again gives the slot's listener, not a new one.
  EXPECT_EQ(FdOf(listeners, config.programs[0], 1), fds[1]);

  UniqueFd client;
  ASSERT_EQ(ConnectTcp(port, &client), 0);
  std::vector<pollfd> polls;
  for (int fd : fds) polls.push_back({fd, POLLIN, 0});
  ASSERT_EQ(::poll(polls.data(), polls.size(), 5000), 1);
  for (const pollfd& poll : polls) {
    if (poll.revents & POLLIN) {
      UniqueFd accepted(::accept4(poll.fd, nullptr, nullptr, SOCK_CLOEXEC));
      EXPECT_TRUE(accepted.Valid()) << std::strerror(errno);
    }
  }
}

TEST_F(ListenersTest, ReuseportBindsANewSlotOnDemand) {
  Config config;
  config.sockets = {Tcp("http", 0, Balance::kReuseport)};
  config.programs = {Program("web", 1, {"http"})};
  Listeners listeners = OpenOrDie(config);
  int first = FdOf(listeners, config.programs[0], 0);

  // A scale up to 4: slot 3 was never bound.
  int added = FdOf(listeners, config.programs[0], 3);
  ASSERT_GE(added, 0);
  EXPECT_NE(added, first);
  EXPECT_TRUE(IsListening(added));
  EXPECT_EQ(PortOf(added), PortOf(first));
  EXPECT_EQ(IntOption(added, SO_REUSEPORT), 1);
  EXPECT_EQ(FdOf(listeners, config.programs[0], 3), added);
}

TEST_F(ListenersTest, ReleaseSlotsClosesTheirListeners) {
  Config config;
  config.sockets = {Tcp("http", 0, Balance::kReuseport)};
  config.programs = {Program("web", 3, {"http"}), Program("api", 1, {"http"})};
  Listeners listeners = OpenOrDie(config);
  const ProgramSpec& web = config.programs[0];
  const ProgramSpec& api = config.programs[1];
  int slot0 = FdOf(listeners, web, 0);
  ino_t slot0_inode = InodeOf(slot0);
  ino_t slot1_inode = InodeOf(FdOf(listeners, web, 1));
  ino_t api_inode = InodeOf(FdOf(listeners, api, 0));
  int port = PortOf(slot0);

  listeners.ReleaseSlots("web", 1);
  EXPECT_EQ(FdOf(listeners, web, 0), slot0);
  EXPECT_EQ(InodeOf(slot0), slot0_inode);
  int slot1 = FdOf(listeners, web, 1);  // bound again, a new socket
  EXPECT_TRUE(IsListening(slot1));
  EXPECT_NE(InodeOf(slot1), slot1_inode);
  EXPECT_EQ(PortOf(slot1), port);

  listeners.ReleaseSlots("web", 0);
  EXPECT_EQ(InodeOf(FdOf(listeners, api, 0)), api_inode);
  listeners.ReleaseSlots("api", 0);
  // Nothing listens on the port any more.
  EXPECT_EQ(ConnectTcp(port), ECONNREFUSED);
  UniqueFd probe = ListenOn(port);
  EXPECT_TRUE(IsListening(probe.Get()));
}

TEST_F(ListenersTest, AddressInUseIsASentence) {
  UniqueFd taken = ListenOn(0);
  int port = PortOf(taken.Get());
  std::string expected =
      "socket \"http\": cannot listen on 127.0.0.1:" + std::to_string(port) +
      ": Address already in use";

  Config shared;
  shared.sockets = {Tcp("http", port)};
  EXPECT_EQ(OpenError(shared), expected);

  Config reuseport;
  reuseport.sockets = {Tcp("http", port, Balance::kReuseport)};
  reuseport.programs = {Program("web", 2, {"http"})};
  EXPECT_EQ(OpenError(reuseport), expected);
}

TEST_F(ListenersTest, ScaleUpReportsAddressInUse) {
  Config config;
  config.sockets = {Tcp("http", 0, Balance::kReuseport)};
  config.programs = {Program("web", 1, {"http"})};
  Listeners listeners = OpenOrDie(config);
  int port = PortOf(FdOf(listeners, config.programs[0], 0));
  listeners.ReleaseSlots("web", 0);
  UniqueFd taken = ListenOn(port);  // without SO_REUSEPORT

  auto sockets = listeners.ForWorker(config.programs[0], 1);
  ASSERT_TRUE(std::holds_alternative<std::string>(sockets));
  EXPECT_EQ(std::get<std::string>(sockets),
            "socket \"http\": cannot listen on 127.0.0.1:" +
                std::to_string(port) + ": Address already in use");
}

TEST_F(ListenersTest, ErrorClosesWhatWasBound) {
  UniqueFd free_port = ListenOn(0);
  int port = PortOf(free_port.Get());
  free_port.Reset();
  UniqueFd taken = ListenOn(0);

  Config config;
  config.sockets = {Unix("api", Path("api.sock")), Tcp("a", port),
                    Tcp("b", 0, Balance::kReuseport),
                    Tcp("http", PortOf(taken.Get()))};
  config.programs = {Program("web", 2, {"b"})};
  EXPECT_EQ(OpenError(config), "socket \"http\": cannot listen on 127.0.0.1:" +
                                   std::to_string(PortOf(taken.Get())) +
                                   ": Address already in use");

  EXPECT_FALSE(std::filesystem::exists(Path("api.sock")));
  EXPECT_EQ(ConnectTcp(port), ECONNREFUSED);
}

TEST_F(ListenersTest, PrivilegedPortErrorHasAHint) {
  std::ifstream start_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int unprivileged_start = 1024;
  start_file >> unprivileged_start;
  // The highest privileged port; when the machine has none (the sysctl is
  // 0 or 1), binding a low port unprivileged must simply work.
  const int port = std::min(unprivileged_start, 1024) - 1;

  std::string error = InChild([port] {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) < 0 ||
                             ::setgid(65534) < 0 || ::setuid(65534) < 0)) {
      return std::string("cannot drop privileges");
    }
    Config config;
    config.sockets = {Tcp("http", port > 0 ? port : 80)};
    return OpenError(config);
  });
  if (port <= 0) {
    EXPECT_EQ(error, "(opened)") << "no port is privileged here";
    return;
  }
  EXPECT_EQ(
      error,
      "socket \"http\": cannot listen on 127.0.0.1:" + std::to_string(port) +
          ": Permission denied (a port below 1024 needs root or "
          "CAP_NET_BIND_SERVICE: run workerd as root, choose a port "
          "above 1023, or let a systemd .socket unit pass the socket)");
}

TEST_F(ListenersTest, UnixSocketGetsItsModeAndOwner) {
  uid_t owner = ::geteuid() == 0 ? 65534 : ::geteuid();
  gid_t group = ::geteuid() == 0 ? 65534 : ::getegid();
  std::string path = Path("run/app.sock");  // the directory is created
  Config config;
  config.sockets = {Unix("app", path, 0640)};
  config.sockets[0].owner_uid = owner;
  config.sockets[0].group_gid = group;
  config.programs = {Program("web", 2, {"app"})};
  {
    Listeners listeners = OpenOrDie(config);
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_uid, owner);
    EXPECT_EQ(st.st_gid, group);

    int fd = FdOf(listeners, config.programs[0], 0);
    EXPECT_EQ(FdOf(listeners, config.programs[0], 1), fd);
    EXPECT_TRUE(IsListening(fd));
    EXPECT_FALSE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
    // What the worker's getsockname says too (not a temporary name).
    EXPECT_EQ(listeners.BoundAddress("app"), "unix:" + path);
    EXPECT_EQ(ConnectUnix(path), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ListenersTest, StaleUnixSocketFileIsReplaced) {
  std::string path = Path("app.sock");
  ino_t stale = InodeOf(BindUnix(path, /*listen=*/false).Get());
  ASSERT_NE(InodeOf(path), 0u);
  EXPECT_EQ(ConnectUnix(path), ECONNREFUSED);

  Config config;
  config.sockets = {Unix("app", path)};
  Listeners listeners = OpenOrDie(config);
  EXPECT_NE(InodeOf(path), 0u);
  EXPECT_NE(InodeOf(path), stale);
  EXPECT_EQ(ConnectUnix(path), 0);
}

TEST_F(ListenersTest, LiveUnixSocketIsRefused) {
  std::string path = Path("app.sock");
  UniqueFd live = BindUnix(path, /*listen=*/true);
  ino_t inode = InodeOf(path);

  Config config;
  config.sockets = {Unix("app", path)};
  EXPECT_EQ(OpenError(config),
            "socket \"app\": another process is already listening on " + path +
                " (is workerd running already?)");
  EXPECT_EQ(InodeOf(path), inode);
}

TEST_F(ListenersTest, UnixFileReplacedByOthersIsLeftAlone) {
  std::string path = Path("app.sock");
  Config config;
  config.sockets = {Unix("app", path)};
  UniqueFd other;
  {
    Listeners listeners = OpenOrDie(config);
    ASSERT_EQ(::unlink(path.c_str()), 0);
    other = BindUnix(path, /*listen=*/true);
  }
  EXPECT_EQ(ConnectUnix(path), 0);
}

TEST_F(ListenersTest, ReuseportNeedsATcpAddress) {
  Config config;
  config.sockets = {Unix("app", Path("app.sock"))};
  config.sockets[0].balance = Balance::kReuseport;
  EXPECT_EQ(OpenError(config),
            "socket \"app\": balance = \"reuseport\" needs a TCP address, not "
            "unix:" +
                Path("app.sock"));
}

TEST_F(ListenersTest, InheritedSocketIsAdoptedByName) {
  UniqueFd passed = ListenOn(0);
  int fd = passed.Get();
  ino_t inode = InodeOf(fd);
  int port = PortOf(fd);

  Config config;
  // The address in the file is not bound: systemd's socket stands for it.
  config.sockets = {Tcp("http", 1)};
  config.programs = {Program("web", 2, {"http"})};
  std::vector<InheritedSocket> inherited;
  inherited.push_back({"http", std::move(passed)});
  Listeners listeners = OpenOrDie(config, std::move(inherited));

  EXPECT_EQ(FdOf(listeners, config.programs[0], 0), fd);
  EXPECT_EQ(FdOf(listeners, config.programs[0], 1), fd);
  EXPECT_EQ(InodeOf(fd), inode);
  EXPECT_EQ(listeners.BoundAddress("http"),
            "127.0.0.1:" + std::to_string(port));
}

TEST_F(ListenersTest, AdoptedUnixSocketFileIsNotRemoved) {
  std::string path = Path("app.sock");
  UniqueFd passed = BindUnix(path, /*listen=*/true);
  int fd = passed.Get();
  ino_t inode = InodeOf(path);

  Config config;
  config.sockets = {Unix("app", path)};
  config.programs = {Program("web", 1, {"app"})};
  {
    std::vector<InheritedSocket> inherited;
    inherited.push_back({"app", std::move(passed)});
    Listeners listeners = OpenOrDie(config, std::move(inherited));
    EXPECT_EQ(FdOf(listeners, config.programs[0], 0), fd);
    EXPECT_EQ(InodeOf(path), inode);  // not replaced by a bind of ours
  }
  EXPECT_EQ(InodeOf(path), inode);
}

TEST_F(ListenersTest, AdoptedReuseportSocketServesTheFirstSlot) {
  UniqueFd passed = ListenOn(0, /*reuseport=*/true);
  int fd = passed.Get();
  int port = PortOf(fd);

  Config config;
  config.sockets = {Tcp("http", 0, Balance::kReuseport)};
  config.programs = {Program("web", 2, {"http"}), Program("api", 1, {"http"})};
  std::vector<InheritedSocket> inherited;
  inherited.push_back({"http", std::move(passed)});
  Listeners listeners = OpenOrDie(config, std::move(inherited));

  EXPECT_EQ(FdOf(listeners, config.programs[0], 0), fd);
  int web1 = FdOf(listeners, config.programs[0], 1);
  int api0 = FdOf(listeners, config.programs[1], 0);
  EXPECT_NE(web1, fd);
  EXPECT_NE(api0, fd);
  EXPECT_NE(api0, web1);
  EXPECT_EQ(PortOf(web1), port);  // systemd's address, not the file's port 0
  EXPECT_EQ(PortOf(api0), port);

  // systemd holds it too: it stays the slot's listener.
  listeners.ReleaseSlots("web", 0);
  EXPECT_TRUE(IsListening(fd));
  EXPECT_EQ(FdOf(listeners, config.programs[0], 0), fd);
}

TEST_F(ListenersTest, AdoptedSocketWithoutReusePortNeedsTheUnitOption) {
  UniqueFd passed = ListenOn(0);
  int port = PortOf(passed.Get());
  Config config;
  config.sockets = {Tcp("http", port, Balance::kReuseport)};
  config.programs = {Program("web", 2, {"http"})};
  std::vector<InheritedSocket> inherited;
  inherited.push_back({"http", std::move(passed)});
  EXPECT_EQ(
      OpenError(config, std::move(inherited)),
      "socket \"http\": cannot listen on 127.0.0.1:" + std::to_string(port) +
          ": Address already in use (to bind more listeners beside the "
          "socket systemd passed as \"http\", its .socket unit needs "
          "ReusePort=yes and workerd must run as the user that created "
          "it)");
}

TEST_F(ListenersTest, InheritedSocketMustBeListening) {
  Config config;
  config.sockets = {Tcp("http", 8080)};
  std::vector<InheritedSocket> inherited;
  inherited.push_back(
      {"http", UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))});
  EXPECT_EQ(OpenError(config, std::move(inherited)),
            "socket \"http\": the socket passed by systemd as \"http\" is not "
            "a listening stream socket");

  inherited.clear();
  inherited.push_back(
      {"http", UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0))});
  EXPECT_EQ(OpenError(config, std::move(inherited)),
            "socket \"http\": the socket passed by systemd as \"http\" is not "
            "a listening stream socket");
}

TEST_F(ListenersTest, InheritedSocketMustBeOfTheRightFamily) {
  std::string path = Path("app.sock");
  Config config;
  config.sockets = {Tcp("http", 8080)};
  std::vector<InheritedSocket> inherited;
  inherited.push_back({"http", BindUnix(path, /*listen=*/true)});
  EXPECT_EQ(OpenError(config, std::move(inherited)),
            "socket \"http\": the socket passed by systemd as \"http\" listens "
            "on unix:" +
                path + ", which is not a TCP address like 127.0.0.1:8080");
}

TEST_F(ListenersTest, UnmatchedInheritedSocketsAreClosed) {
  int stray[2];
  int duplicate[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stray), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, duplicate), 0);
  UniqueFd stray_peer(stray[1]);
  UniqueFd duplicate_peer(duplicate[1]);
  UniqueFd passed = ListenOn(0);
  int fd = passed.Get();

  Config config;
  config.sockets = {Tcp("http", 0)};
  config.programs = {Program("web", 1, {"http"})};
  std::vector<InheritedSocket> inherited;
  inherited.push_back({"stray", UniqueFd(stray[0])});
  inherited.push_back({"http", std::move(passed)});
  inherited.push_back({"http", UniqueFd(duplicate[0])});
  Listeners listeners = OpenOrDie(config, std::move(inherited));

  EXPECT_TRUE(PeerClosed(stray_peer.Get()));
  EXPECT_TRUE(PeerClosed(duplicate_peer.Get()));
  EXPECT_EQ(FdOf(listeners, config.programs[0], 0), fd);
}

TEST_F(ListenersTest, MovedListenersKeepTheirSockets) {
  std::string path = Path("app.sock");
  Config config;
  config.sockets = {Unix("app", path)};
  Listeners outer;
  {
    Listeners inner = OpenOrDie(config);
    outer = std::move(inner);
  }
  EXPECT_EQ(ConnectUnix(path), 0);
  outer = Listeners();
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Reload: `running` is what `listeners` was opened (or last reloaded) with.
std::string ReloadError(Listeners& listeners, const Config& running,
                        const Config& next) {
  auto error = listeners.Reload(next, DiffConfigs(running, next));
  return error ? *error : "(reloaded)";
}

// `count` different ports that nothing listens on right now.
std::vector<int> FreePorts(int count) {
  std::vector<UniqueFd> probes;
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) {
    probes.push_back(ListenOn(0));
    ports.push_back(PortOf(probes.back().Get()));
  }
  return ports;
}

int FreePort() { return FreePorts(1)[0]; }

// A client connects to `port` (or `path`) and `listener` accepts it.
bool AcceptsOn(int listener, UniqueFd client) {
  if (!client) return false;
  pollfd poll{listener, POLLIN, 0};
  if (::poll(&poll, 1, 5000) != 1) return false;
  UniqueFd accepted(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  return accepted.Valid();
}

bool Accepts(int listener, int port) {
  UniqueFd client;
  if (ConnectTcp(port, &client) != 0) return false;
  return AcceptsOn(listener, std::move(client));
}

bool AcceptsUnix(int listener, const std::string& path) {
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address = UnixAddress(path);
  if (::connect(client.Get(), reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) < 0) {
    return false;
  }
  return AcceptsOn(listener, std::move(client));
}

// Nothing waits to be accepted on `listener`.
bool NothingPending(int listener) {
  pollfd poll{listener, POLLIN, 0};
  return ::poll(&poll, 1, 0) == 0;
}

// The kernel's backlog of a listening TCP socket (tcp_info reports it as
// tcpi_sacked in the listen state).
int BacklogOf(int fd) {
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) < 0) return -1;
  return static_cast<int>(info.tcpi_sacked);
}

unsigned ModeOf(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

TEST_F(ListenersTest, ReloadKeepsUnchangedSocketsAndTheirConnections) {
  std::string path = Path("app.sock");
  Config running;
  running.sockets = {Tcp("http", 0), Unix("app", path),
                     Tcp("fast", 0, Balance::kReuseport)};
  running.programs = {Program("web", 2, {"http", "app", "fast"})};
  Listeners listeners = OpenOrDie(running);
  const ProgramSpec& web = running.programs[0];
  WorkerSockets before0 = SocketsOf(listeners, web, 0);
  WorkerSockets before1 = SocketsOf(listeners, web, 1);
  ASSERT_EQ(before0.fds.size(), 3u);
  ASSERT_EQ(before0.holds.size(), 3u);
  const int http = before0.fds[0];
  const int fast = before0.fds[2];
  const int port = PortOf(http);
  const ino_t file = InodeOf(path);
  const std::string address = listeners.BoundAddress("fast");
  // Waiting in the backlog while the reload happens.
  UniqueFd early;
  ASSERT_EQ(ConnectTcp(port, &early), 0);

  Config next = running;
  next.sockets[0].position.line = 40;  // moved in the file: no change
  next.sockets.push_back(Tcp("admin", 0));
  ASSERT_EQ(DiffConfigs(running, next).FindSocket("http")->kind,
            SocketChangeKind::kUnchanged);
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");

  EXPECT_TRUE(AcceptsOn(http, std::move(early)));
  EXPECT_EQ(SocketsOf(listeners, next.programs[0], 0).fds, before0.fds);
  EXPECT_EQ(SocketsOf(listeners, next.programs[0], 1).fds, before1.fds);
  EXPECT_TRUE(Accepts(http, port));
  EXPECT_TRUE(AcceptsUnix(before0.fds[1], path));
  EXPECT_EQ(InodeOf(path), file);
  EXPECT_EQ(listeners.BoundAddress("fast"), address);
  EXPECT_EQ(PortOf(fast), std::stoi(address.substr(10)));
  EXPECT_EQ(listeners.BoundAddress("http"),
            "127.0.0.1:" + std::to_string(port));
}

TEST_F(ListenersTest, ReloadBindsAddedSockets) {
  std::string path = Path("run/admin.sock");
  Config running;
  running.sockets = {Tcp("http", 0)};
  running.programs = {Program("web", 2, {"http"})};
  Listeners listeners = OpenOrDie(running);

  Config next = running;
  next.sockets.push_back(Tcp("metrics", 0));
  next.sockets.push_back(Unix("admin", path, 0600));
  next.sockets.push_back(Tcp("fast", 0, Balance::kReuseport));
  next.programs[0].sockets = {"http", "metrics", "admin", "fast"};
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");

  // Reuseport listeners are bound for next's workers at once.
  std::string fast = listeners.BoundAddress("fast");
  ASSERT_EQ(fast.rfind("127.0.0.1:", 0), 0u) << fast;
  EXPECT_NE(fast, "127.0.0.1:0");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(listeners.BoundAddress("admin"), "unix:" + path);

  WorkerSockets sockets = SocketsOf(listeners, next.programs[0], 1);
  EXPECT_EQ(sockets.names, next.programs[0].sockets);
  ASSERT_EQ(sockets.fds.size(), 4u);
  EXPECT_EQ(sockets.holds.size(), 4u);
  EXPECT_TRUE(Accepts(sockets.fds[1], PortOf(sockets.fds[1])));
  EXPECT_EQ(listeners.BoundAddress("metrics"),
            "127.0.0.1:" + std::to_string(PortOf(sockets.fds[1])));
  EXPECT_TRUE(AcceptsUnix(sockets.fds[2], path));
  EXPECT_EQ(IntOption(sockets.fds[3], SO_REUSEPORT), 1);
  EXPECT_EQ("127.0.0.1:" + std::to_string(PortOf(sockets.fds[3])), fast);
  EXPECT_NE(FdOf(listeners, next.programs[0], 0), sockets.fds[3]);
}

TEST_F(ListenersTest, RemovedSocketStaysOpenUntilItsLastHoldGoes) {
  std::string path = Path("app.sock");
  Config running;
  running.sockets = {Tcp("http", 0), Unix("app", path), Tcp("kept", 0)};
  running.programs = {Program("web", 2, {"http", "app"})};
  Listeners listeners = OpenOrDie(running);
  WorkerSockets first = SocketsOf(listeners, running.programs[0], 0);
  WorkerSockets second = SocketsOf(listeners, running.programs[0], 1);
  ASSERT_EQ(first.fds.size(), 2u);
  const int http = first.fds[0];
  const int app = first.fds[1];
  const int port = PortOf(http);

  Config next;
  next.sockets = {Tcp("kept", 0)};
  next.programs = {Program("web", 2, {})};
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");
  EXPECT_EQ(listeners.BoundAddress("http"), "");
  EXPECT_EQ(listeners.BoundAddress("app"), "");
  auto old = listeners.ForWorker(running.programs[0], 0);
  ASSERT_TRUE(std::holds_alternative<std::string>(old));
  EXPECT_EQ(std::get<std::string>(old),
            "program \"web\" lists socket \"http\", which is not open");

  // The workers that have them still accept.
  EXPECT_TRUE(Accepts(http, port));
  EXPECT_TRUE(AcceptsUnix(app, path));
  first = {};
  EXPECT_TRUE(Accepts(http, port));
  EXPECT_TRUE(AcceptsUnix(app, path));

  second = {};  // the last hold
  EXPECT_EQ(ConnectTcp(port), ECONNREFUSED);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ListenersTest, ReloadChangesBacklogAndModeOnTheSameFds) {
  std::string path = Path("app.sock");
  Config running;
  running.sockets = {Tcp("http", 0), Unix("app", path, 0666),
                     Tcp("fast", 0, Balance::kReuseport)};
  running.sockets[0].backlog = 16;
  running.sockets[2].backlog = 16;
  running.programs = {Program("web", 2, {"http", "app", "fast"})};
  Listeners listeners = OpenOrDie(running);
  WorkerSockets before0 = SocketsOf(listeners, running.programs[0], 0);
  WorkerSockets before1 = SocketsOf(listeners, running.programs[0], 1);
  ASSERT_EQ(before0.fds.size(), 3u);
  ASSERT_EQ(BacklogOf(before0.fds[0]), 16);
  ASSERT_EQ(BacklogOf(before1.fds[2]), 16);
  const ino_t file = InodeOf(path);

  Config next = running;
  next.sockets[0].backlog = 32;
  next.sockets[1].backlog = 32;
  next.sockets[1].mode = 0600;
  next.sockets[2].backlog = 32;
  ASSERT_EQ(DiffConfigs(running, next).FindSocket("app")->changed_keys,
            (std::vector<std::string>{"backlog", "mode"}));
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");

  EXPECT_EQ(SocketsOf(listeners, next.programs[0], 0).fds, before0.fds);
  EXPECT_EQ(SocketsOf(listeners, next.programs[0], 1).fds, before1.fds);
  EXPECT_EQ(BacklogOf(before0.fds[0]), 32);
  EXPECT_EQ(BacklogOf(before0.fds[2]), 32);
  EXPECT_EQ(BacklogOf(before1.fds[2]), 32);
  EXPECT_EQ(InodeOf(path), file);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_TRUE(Accepts(before0.fds[0], PortOf(before0.fds[0])));
  EXPECT_TRUE(AcceptsUnix(before0.fds[1], path));
  // A slot bound later gets the new backlog too.
  WorkerSockets added = SocketsOf(listeners, next.programs[0], 2);
  ASSERT_EQ(added.fds.size(), 3u);
  EXPECT_EQ(BacklogOf(added.fds[2]), 32);
}

TEST_F(ListenersTest, ChangedAddressGetsANewListenerAndTheOldOneIsHeld) {
  std::string old_path = Path("old.sock");
  std::string new_path = Path("new.sock");
  Config running;
  running.sockets = {Tcp("http", 0), Unix("app", old_path)};
  running.programs = {Program("web", 1, {"http", "app"})};
  Listeners listeners = OpenOrDie(running);
  WorkerSockets old = SocketsOf(listeners, running.programs[0], 0);
  ASSERT_EQ(old.fds.size(), 2u);
  const int old_port = PortOf(old.fds[0]);
  const ino_t old_inode = InodeOf(old.fds[0]);

  Config next = running;
  const int new_port = FreePort();
  next.sockets[0].listen.port = new_port;
  next.sockets[1].listen.path = new_path;
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");

  WorkerSockets now = SocketsOf(listeners, next.programs[0], 0);
  ASSERT_EQ(now.fds.size(), 2u);
  EXPECT_NE(now.fds[0], old.fds[0]);
  EXPECT_NE(InodeOf(now.fds[0]), old_inode);
  EXPECT_EQ(PortOf(now.fds[0]), new_port);
  EXPECT_EQ(listeners.BoundAddress("http"),
            "127.0.0.1:" + std::to_string(new_port));
  EXPECT_EQ(listeners.BoundAddress("app"), "unix:" + new_path);
  EXPECT_TRUE(Accepts(now.fds[0], new_port));
  EXPECT_TRUE(AcceptsUnix(now.fds[1], new_path));
  // The old ones serve the worker that has them.
  EXPECT_TRUE(Accepts(old.fds[0], old_port));
  EXPECT_TRUE(AcceptsUnix(old.fds[1], old_path));

  old = {};
  EXPECT_EQ(ConnectTcp(old_port), ECONNREFUSED);
  EXPECT_FALSE(std::filesystem::exists(old_path));
  EXPECT_TRUE(AcceptsUnix(now.fds[1], new_path));
}

TEST_F(ListenersTest, FailedReloadChangesNothing) {
  std::string path = Path("app.sock");
  std::string added_path = Path("added.sock");
  Config running;
  running.sockets = {Tcp("http", 0), Unix("app", path),
                     Tcp("fast", 0, Balance::kReuseport)};
  running.programs = {Program("web", 2, {"http", "app", "fast"})};
  Listeners listeners = OpenOrDie(running);
  WorkerSockets before = SocketsOf(listeners, running.programs[0], 0);
  const int port = PortOf(before.fds[0]);
  const std::string http = listeners.BoundAddress("http");
  const std::string fast = listeners.BoundAddress("fast");
  UniqueFd taken = ListenOn(0);
  const int taken_port = PortOf(taken.Get());

  Config next = running;
  const std::vector<int> ports = FreePorts(2);
  const int added_port = ports[0];
  const int moved_port = ports[1];
  next.sockets[2].listen.port = moved_port;  // bound before the failure
  next.sockets.push_back(Unix("added", added_path));
  next.sockets.push_back(Tcp("extra", added_port));
  next.sockets.push_back(Tcp("admin", taken_port));
  next.programs[0].sockets = {"http", "app", "fast", "added", "extra"};
  EXPECT_EQ(ReloadError(listeners, running, next),
            "socket \"admin\": cannot listen on 127.0.0.1:" +
                std::to_string(taken_port) + ": Address already in use");

  EXPECT_FALSE(std::filesystem::exists(added_path));
  EXPECT_EQ(ConnectTcp(added_port), ECONNREFUSED);
  EXPECT_EQ(ConnectTcp(moved_port), ECONNREFUSED);
  EXPECT_EQ(listeners.BoundAddress("http"), http);
  EXPECT_EQ(listeners.BoundAddress("fast"), fast);
  EXPECT_EQ(listeners.BoundAddress("added"), "");
  EXPECT_EQ(SocketsOf(listeners, running.programs[0], 0).fds, before.fds);
  EXPECT_TRUE(Accepts(before.fds[0], port));
  EXPECT_TRUE(AcceptsUnix(before.fds[1], path));
  EXPECT_TRUE(IsListening(before.fds[2]));

  // The same reload, once the address is free, applies whole.
  taken.Reset();
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");
  EXPECT_TRUE(std::filesystem::exists(added_path));
}

TEST_F(ListenersTest, FailedInPlaceChangeIsUndone) {
  std::string path = Path("app.sock");
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  // Unprivileged, workerd cannot give its socket file to root.
  std::string result = InChild([&] {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) < 0 ||
                             ::setgid(65534) < 0 || ::setuid(65534) < 0)) {
      return std::string("cannot drop privileges");
    }
    Config running;
    running.sockets = {Unix("app", path, 0666)};
    auto opened = Listeners::Open(running);
    if (auto* error = std::get_if<std::string>(&opened)) return *error;
    Listeners& listeners = std::get<Listeners>(opened);
    Config next = running;
    next.sockets[0].mode = 0600;
    next.sockets[0].owner_uid = 0;
    std::string error = ReloadError(listeners, running, next);
    return error + " | mode " + std::to_string(ModeOf(path));
  });
  EXPECT_EQ(result, "socket \"app\": cannot set the owner of socket " + path +
                        ": Operation not permitted | mode " +
                        std::to_string(0666));
}

TEST_F(ListenersTest, ChangedReuseportSocketGetsNewSlotListeners) {
  Config running;
  running.sockets = {Tcp("fast", 0, Balance::kReuseport)};
  running.programs = {Program("web", 2, {"fast"})};
  Listeners listeners = OpenOrDie(running);
  WorkerSockets held = SocketsOf(listeners, running.programs[0], 0);
  const int old_slot0 = held.fds[0];
  const ino_t old_slot1 = InodeOf(FdOf(listeners, running.programs[0], 1));
  const int old_port = PortOf(old_slot0);

  Config next = running;
  const int new_port = FreePort();
  next.sockets[0].listen.port = new_port;
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");

  EXPECT_EQ(listeners.BoundAddress("fast"),
            "127.0.0.1:" + std::to_string(new_port));
  int slot0 = FdOf(listeners, next.programs[0], 0);
  int slot1 = FdOf(listeners, next.programs[0], 1);
  EXPECT_NE(slot0, old_slot0);
  EXPECT_NE(InodeOf(slot1), old_slot1);
  EXPECT_EQ(PortOf(slot0), new_port);
  EXPECT_EQ(PortOf(slot1), new_port);
  EXPECT_EQ(IntOption(slot1, SO_REUSEPORT), 1);
  // Slot 0's old listener is held: the old port still has it alone.
  EXPECT_TRUE(Accepts(old_slot0, old_port));
  held = {};
  EXPECT_EQ(ConnectTcp(old_port), ECONNREFUSED);
}

TEST_F(ListenersTest, RebindOnItsOwnAddressHasAHint) {
  const int port = FreePort();
  Config running;
  running.sockets = {Tcp("http", port)};
  running.programs = {Program("web", 2, {"http"})};
  Listeners listeners = OpenOrDie(running);
  int fd = FdOf(listeners, running.programs[0], 0);

  Config next = running;
  next.sockets[0].balance = Balance::kReuseport;
  EXPECT_EQ(
      ReloadError(listeners, running, next),
      "socket \"http\": cannot listen on 127.0.0.1:" + std::to_string(port) +
          ": Address already in use (workerd still listens there with "
          "the current definition of [socket.http], so this change "
          "needs a different address or a restart of workerd)");
  EXPECT_EQ(FdOf(listeners, running.programs[0], 1), fd);
  EXPECT_TRUE(Accepts(fd, port));
}

TEST_F(ListenersTest, RenamedUnixSocketOnTheSamePathHasAHint) {
  std::string path = Path("app.sock");
  Config running;
  running.sockets = {Unix("app", path)};
  Listeners listeners = OpenOrDie(running);
  Config probe;
  probe.programs = {Program("web", 1, {"app"})};
  int fd = FdOf(listeners, probe.programs[0], 0);
  const ino_t file = InodeOf(path);

  Config next;
  next.sockets = {Unix("api", path)};
  EXPECT_EQ(ReloadError(listeners, running, next),
            "socket \"api\": cannot listen on unix:" + path +
                ": Address already in use (workerd still listens there for "
                "[socket.app], which a reload closes only after binding the "
                "new sockets, so this needs a different address or a restart "
                "of workerd)");
  // Not even probed: no connection waits on the running socket.
  EXPECT_TRUE(NothingPending(fd));
  EXPECT_EQ(InodeOf(path), file);
  EXPECT_TRUE(AcceptsUnix(fd, path));
}

TEST_F(ListenersTest, AddressStillHeldByARetiredSocketHasAHint) {
  const int first_port = FreePort();
  Config first;
  first.sockets = {Tcp("http", first_port)};
  first.programs = {Program("web", 1, {"http"})};
  Listeners listeners = OpenOrDie(first);
  WorkerSockets old = SocketsOf(listeners, first.programs[0], 0);

  Config second = first;
  second.sockets[0].listen.port = FreePort();
  EXPECT_EQ(ReloadError(listeners, first, second), "(reloaded)");
  // Back before the old worker is gone.
  EXPECT_EQ(ReloadError(listeners, second, first),
            "socket \"http\": cannot listen on 127.0.0.1:" +
                std::to_string(first_port) +
                ": Address already in use (workerd still listens there with "
                "a previous definition of [socket.http] until the workers "
                "that have it are gone; reload again then, or choose a "
                "different address)");
  old = {};
  EXPECT_EQ(ReloadError(listeners, second, first), "(reloaded)");
  EXPECT_EQ(listeners.BoundAddress("http"),
            "127.0.0.1:" + std::to_string(first_port));
}

TEST_F(ListenersTest, RemovedSystemdSocketIsDropped) {
  UniqueFd passed = ListenOn(0);
  const int fd = passed.Get();
  Config running;
  running.sockets = {Tcp("http", 0)};
  running.programs = {Program("web", 1, {"http"})};
  std::vector<InheritedSocket> inherited;
  inherited.push_back({"http", std::move(passed)});
  Listeners listeners = OpenOrDie(running, std::move(inherited));
  WorkerSockets held = SocketsOf(listeners, running.programs[0], 0);
  ASSERT_EQ(held.fds, std::vector<int>{fd});

  Config next;
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");
  EXPECT_EQ(listeners.BoundAddress("http"), "");
  EXPECT_TRUE(IsListening(fd));
  held = {};
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST_F(ListenersTest, ReloadedSocketsCloseWithListeners) {
  std::string path = Path("added.sock");
  Config running;
  Listeners listeners = OpenOrDie(running);
  Config next;
  next.sockets = {Unix("added", path)};
  EXPECT_EQ(ReloadError(listeners, running, next), "(reloaded)");
  EXPECT_TRUE(std::filesystem::exists(path));
  listeners = Listeners();
  EXPECT_FALSE(std::filesystem::exists(path));
}

// systemd passes fds from 3 on; the child puts a listener there.
std::string TakeInChild(int count, const char* names, const char* pid) {
  return InChild([=] {
    for (int i = 0; i < count; ++i) {
      UniqueFd listener = ListenOn(0);
      int target = 3 + i;
      if (listener.Get() != target) {
        if (::dup2(listener.Get(), target) < 0) return std::string("dup2");
      } else {
        listener.Release();
      }
      ::fcntl(target, F_SETFD, 0);
    }
    ::setenv("LISTEN_FDS", std::to_string(count).c_str(), 1);
    ::setenv("LISTEN_PID", pid ? pid : std::to_string(::getpid()).c_str(), 1);
    if (names) ::setenv("LISTEN_FDNAMES", names, 1);

    std::vector<InheritedSocket> sockets = TakeInheritedSockets();
    std::string result;
    for (const InheritedSocket& socket : sockets) {
      result += socket.name + "@" + std::to_string(socket.fd.Get());
      if (!(::fcntl(socket.fd.Get(), F_GETFD) & FD_CLOEXEC))
        result += "!cloexec";
      if (!IsListening(socket.fd.Get())) result += "!listening";
      result += " ";
    }
    for (const char* name : {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"}) {
      if (::getenv(name)) result += std::string(name) + " is still set ";
    }
    return result;
  });
}

TEST(TakeInheritedSocketsTest, TakesNamedSocketsAndClearsTheEnvironment) {
  EXPECT_EQ(TakeInChild(2, "http:metrics", nullptr), "http@3 metrics@4 ");
}

TEST(TakeInheritedSocketsTest, UnnamedSocketsAreUnknown) {
  EXPECT_EQ(TakeInChild(1, nullptr, nullptr), "unknown@3 ");
}

TEST(TakeInheritedSocketsTest, SocketsForAnotherProcessAreNotTaken) {
  EXPECT_EQ(TakeInChild(1, "http", "1"), "");
}

TEST(TakeInheritedSocketsTest, NoneWithoutListenFds) {
  EXPECT_EQ(InChild([] {
              ::unsetenv("LISTEN_FDS");
              ::unsetenv("LISTEN_PID");
              return std::to_string(TakeInheritedSockets().size());
            }),
            "0");
}

}  // namespace
}  // namespace workerd
