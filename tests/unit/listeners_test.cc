#include "daemon/listeners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
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
  EXPECT_EQ(error,
            "socket \"http\": cannot listen on 127.0.0.1:" +
                std::to_string(port) +
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
