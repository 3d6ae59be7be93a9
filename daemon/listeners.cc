#include "daemon/listeners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "daemon/config_diff.h"
#include "daemon/unix_socket.h"

namespace workerd {
namespace {

using Family = ListenAddress::Family;

// An address the kernel reports, written as ListenAddress::ToString does.
std::string Describe(const sockaddr_storage& address, socklen_t length) {
  char host[INET6_ADDRSTRLEN] = "";
  switch (address.ss_family) {
    case AF_INET: {
      const auto& in = reinterpret_cast<const sockaddr_in&>(address);
      ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof(host));
      return fmt::format("{}:{}", host, ntohs(in.sin_port));
    }
    case AF_INET6: {
      const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
      ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof(host));
      return fmt::format("[{}]:{}", host, ntohs(in6.sin6_port));
    }
    case AF_UNIX: {
      const auto& un = reinterpret_cast<const sockaddr_un&>(address);
      std::size_t offset = offsetof(sockaddr_un, sun_path);
      if (length <= offset) return "unix:";
      std::string path(un.sun_path, length - offset);
      if (path[0] == '\0') return "unix:@" + path.substr(1);  // abstract
      return "unix:" + path.substr(0, path.find('\0'));
    }
    default:
      return fmt::format("an address of family {}", address.ss_family);
  }
}

std::string DescribeBound(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) < 0) {
    return "";
  }
  return Describe(address, length);
}

std::string Prefix(const SocketSpec& spec) {
  return fmt::format("socket \"{}\": ", spec.name);
}

// The spec's TCP address as a sockaddr (the config parser checked the host;
// this only guards against a hand-made spec).
bool Resolve(const ListenAddress& listen, sockaddr_storage& address,
             socklen_t& length) {
  address = {};
  if (listen.port < 0 || listen.port > 65535) return false;
  if (listen.family == Family::kInet) {
    auto& in = reinterpret_cast<sockaddr_in&>(address);
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<uint16_t>(listen.port));
    length = sizeof(in);
    return ::inet_pton(AF_INET, listen.host.c_str(), &in.sin_addr) == 1;
  }
  if (listen.family == Family::kInet6) {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(address);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(listen.port));
    length = sizeof(in6);
    return ::inet_pton(AF_INET6, listen.host.c_str(), &in6.sin6_addr) == 1;
  }
  return false;
}

int PortOf(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return 0;
}

// The hint for an address in use beside a socket that systemd passed.
std::string BesideAdoptedHint(const SocketSpec& spec) {
  return fmt::format(
      "to bind more listeners beside the socket systemd passed as \"{}\", "
      "its .socket unit needs ReusePort=yes and workerd must run as the "
      "user that created it",
      spec.name);
}

// A blocking, close-on-exec TCP listener on `address`: workers decide
// whether they want O_NONBLOCK, and it is shared by all of them anyway.
// `in_use_hint`, when not empty, explains an address already in use.
std::variant<UniqueFd, std::string> ListenTcp(const SocketSpec& spec,
                                              const sockaddr_storage& address,
                                              socklen_t length, bool reuseport,
                                              const std::string& in_use_hint) {
  auto error = [&](int error_number) {
    std::string message =
        fmt::format("{}cannot listen on {}: {}", Prefix(spec),
                    Describe(address, length), std::strerror(error_number));
    int port = PortOf(address);
    if (error_number == EACCES && port > 0 && port < 1024) {
      message +=
          " (a port below 1024 needs root or CAP_NET_BIND_SERVICE: run "
          "workerd as root, choose a port above 1023, or let a systemd "
          ".socket unit pass the socket)";
    } else if (error_number == EADDRINUSE && !in_use_hint.empty()) {
      message += " (" + in_use_hint + ")";
    }
    return message;
  };
  UniqueFd fd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return error(errno);
  int on = 1;
  if (::setsockopt(fd.Get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
    return error(errno);
  }
  if (reuseport &&
      ::setsockopt(fd.Get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) {
    return error(errno);
  }
  if (::bind(fd.Get(), reinterpret_cast<const sockaddr*>(&address), length) <
      0) {
    return error(errno);
  }
  if (::listen(fd.Get(), spec.backlog) < 0) return error(errno);
  return fd;
}

bool Lists(const ProgramSpec& program, const std::string& socket) {
  return std::find(program.sockets.begin(), program.sockets.end(), socket) !=
         program.sockets.end();
}

bool IsWildcard(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(address).sin_addr.s_addr ==
           htonl(INADDR_ANY);
  }
  if (address.ss_family == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(
        &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr);
  }
  return false;
}

// Two TCP listeners on these addresses would take the same port.
bool Collide(const sockaddr_storage& a, const sockaddr_storage& b) {
  int port = PortOf(a);
  if (port == 0 || port != PortOf(b)) return false;
  if (IsWildcard(a) || IsWildcard(b)) return true;
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  }
  return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                     &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr,
                     sizeof(in6_addr)) == 0;
}

// A reload keeps a socket's fds when only these keys changed.
bool ChangesInPlace(const SocketDiff& diff) {
  return std::all_of(diff.changed_keys.begin(), diff.changed_keys.end(),
                     [](const std::string& key) {
                       return key == "backlog" || key == "mode" ||
                              key == "owner" || key == "group";
                     });
}

}  // namespace

std::vector<InheritedSocket> TakeInheritedSockets() {
  char** names = nullptr;
  int count = ::sd_listen_fds_with_names(/*unset_environment=*/1, &names);
  std::vector<InheritedSocket> sockets;
  if (count < 0) {
    spdlog::warn("ignoring the sockets passed in LISTEN_FDS: {}",
                 std::strerror(-count));
  }
  for (int i = 0; i < count; ++i) {
    int fd = SD_LISTEN_FDS_START + i;
    // systemd's default FileDescriptorName= is "unknown" too.
    std::string name = names && names[i] ? names[i] : "unknown";
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
      spdlog::warn(
          "ignoring the socket passed by systemd as \"{}\" (fd {}): "
          "{}",
          name, fd, std::strerror(errno));
      continue;
    }
    sockets.push_back({std::move(name), UniqueFd(fd)});
  }
  for (char** name = names; name && *name; ++name) std::free(*name);
  std::free(names);
  return sockets;
}

struct Listeners::Socket {
  SocketSpec spec;
  // kShared: the one listener. kReuseport: the socket passed by systemd,
  // if any, which serves slot 0 of `adopted_program` and stays open as
  // long as the socket (systemd holds it too, so closing ours would leave
  // it in the SO_REUSEPORT group with no one to accept).
  UniqueFd listener;
  bool adopted = false;         // from systemd; its file is never unlinked
  std::string adopted_program;  // kReuseport: the first program listing it
  // TCP: where further listeners bind, once the first one resolved the
  // address (port 0, or systemd's own address).
  sockaddr_storage address{};
  socklen_t address_length = 0;
  std::string unix_path;  // a file we created, unlinked with the socket
  ino_t unix_inode = 0;

  Socket() = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (unix_path.empty()) return;
    RemoveUnixListenerFile(
        UnixListener{.fd = UniqueFd(), .path = unix_path, .inode = unix_inode});
  }
};

Listeners::~Listeners() = default;

Listeners& Listeners::operator=(Listeners&& other) noexcept {
  if (this != &other) {
    slot_listeners_ = std::exchange(other.slot_listeners_, {});
    sockets_ = std::exchange(other.sockets_, {});
    retired_ = std::exchange(other.retired_, {});
  }
  return *this;
}

std::variant<Listeners, std::string> Listeners::Open(
    const Config& config, std::vector<InheritedSocket> inherited) {
  Listeners listeners;
  std::map<std::string, UniqueFd> passed;
  for (InheritedSocket& socket : inherited) {
    bool wanted = std::any_of(
        config.sockets.begin(), config.sockets.end(),
        [&](const SocketSpec& spec) { return spec.name == socket.name; });
    if (!wanted) {
      spdlog::warn(
          "closing the socket passed by systemd as \"{}\" (fd {}): "
          "{} has no [socket.{}]",
          socket.name, socket.fd.Get(),
          config.path.empty() ? "the configuration" : config.path, socket.name);
      socket.fd.Reset();
    } else if (passed.contains(socket.name)) {
      spdlog::warn(
          "closing the socket passed by systemd as \"{}\" (fd {}): "
          "[socket.{}] takes only the first socket of that name",
          socket.name, socket.fd.Get(), socket.name);
      socket.fd.Reset();
    } else {
      passed.emplace(socket.name, std::move(socket.fd));
    }
  }

  for (const SocketSpec& spec : config.sockets) {
    UniqueFd fd;
    if (auto found = passed.find(spec.name); found != passed.end()) {
      fd = std::move(found->second);
    }
    auto bound = Bind(spec, std::move(fd), config, /*in_use_hint=*/"");
    if (auto* error = std::get_if<std::string>(&bound)) return *error;
    auto& socket = std::get<std::shared_ptr<Socket>>(bound);
    listeners.sockets_.push_back(socket);
    if (auto error = BindSlots(socket, config, listeners.slot_listeners_, "")) {
      return *error;
    }
  }
  return listeners;
}

std::variant<std::shared_ptr<Listeners::Socket>, std::string> Listeners::Bind(
    const SocketSpec& spec, UniqueFd passed, const Config& config,
    const std::string& in_use_hint) {
  auto socket = std::make_shared<Socket>();
  socket->spec = spec;
  const bool is_unix = spec.listen.family == Family::kUnix;
  const bool reuseport = spec.balance == Balance::kReuseport;
  if (reuseport && is_unix) {
    return fmt::format(
        "{}balance = \"reuseport\" needs a TCP address, not "
        "{}",
        Prefix(spec), spec.listen.ToString());
  }
  if (passed) {
    if (::sd_is_socket(passed.Get(), AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
      return fmt::format(
          "{}the socket passed by systemd as \"{}\" is not "
          "a listening stream socket",
          Prefix(spec), spec.name);
    }
    socket->address_length = sizeof(socket->address);
    if (::getsockname(passed.Get(),
                      reinterpret_cast<sockaddr*>(&socket->address),
                      &socket->address_length) < 0) {
      return fmt::format(
          "{}cannot read the address of the socket passed "
          "by systemd as \"{}\": {}",
          Prefix(spec), spec.name, std::strerror(errno));
    }
    // An IPv4 address in the file and systemd's dual-stack [::] socket
    // (ListenStream=8080) are both fine; TCP for Unix is not.
    bool passed_unix = socket->address.ss_family == AF_UNIX;
    bool passed_ip = socket->address.ss_family == AF_INET ||
                     socket->address.ss_family == AF_INET6;
    if (is_unix ? !passed_unix : !passed_ip) {
      return fmt::format(
          "{}the socket passed by systemd as \"{}\" listens "
          "on {}, which is not a {} address like {}",
          Prefix(spec), spec.name,
          Describe(socket->address, socket->address_length),
          is_unix ? "Unix" : "TCP", spec.listen.ToString());
    }
    socket->listener = std::move(passed);
    socket->adopted = true;
    if (reuseport) {
      auto first = std::find_if(config.programs.begin(), config.programs.end(),
                                [&](const ProgramSpec& program) {
                                  return Lists(program, spec.name);
                                });
      if (first != config.programs.end()) {
        socket->adopted_program = first->name;
      }
    }
  } else if (is_unix) {
    // Never ListenUnix's probe: it would connect to our own listener.
    if (!in_use_hint.empty()) {
      return fmt::format("{}cannot listen on {}: {} ({})", Prefix(spec),
                         spec.listen.ToString(), std::strerror(EADDRINUSE),
                         in_use_hint);
    }
    auto bound =
        ListenUnix(spec.listen.path, UnixListenOptions{.mode = spec.mode,
                                                       .owner = spec.owner_uid,
                                                       .group = spec.group_gid,
                                                       .backlog = spec.backlog,
                                                       .nonblocking = false,
                                                       .in_place = true});
    if (auto* error = std::get_if<std::string>(&bound)) {
      return Prefix(spec) + *error;
    }
    auto& unix_listener = std::get<UnixListener>(bound);
    socket->listener = std::move(unix_listener.fd);
    socket->unix_path = unix_listener.path;
    socket->unix_inode = unix_listener.inode;
  } else {
    if (!Resolve(spec.listen, socket->address, socket->address_length)) {
      return fmt::format("{}cannot listen on {}: not a numeric address",
                         Prefix(spec), spec.listen.ToString());
    }
    if (!reuseport) {
      auto bound = ListenTcp(spec, socket->address, socket->address_length,
                             /*reuseport=*/false, in_use_hint);
      if (auto* error = std::get_if<std::string>(&bound)) return *error;
      socket->listener = std::move(std::get<UniqueFd>(bound));
    }
  }
  return socket;
}

std::optional<std::string> Listeners::BindSlots(
    const std::shared_ptr<Socket>& socket, const Config& config, SlotMap& slots,
    const std::string& in_use_hint) {
  if (socket->spec.balance != Balance::kReuseport) return std::nullopt;
  for (const ProgramSpec& program : config.programs) {
    if (!Lists(program, socket->spec.name)) continue;
    for (int instance = 0; instance < program.workers; ++instance) {
      auto slot =
          SlotListener(socket, slots, program.name, instance, in_use_hint);
      if (auto* error = std::get_if<std::string>(&slot)) return *error;
    }
  }
  return std::nullopt;
}

std::shared_ptr<Listeners::Socket> Listeners::Find(
    const std::string& name) const {
  for (const std::shared_ptr<Socket>& socket : sockets_) {
    if (socket->spec.name == name) return socket;
  }
  return nullptr;
}

std::variant<Listeners::Listener, std::string> Listeners::SlotListener(
    const std::shared_ptr<Socket>& socket, SlotMap& slots,
    const std::string& program, int instance, const std::string& in_use_hint) {
  if (socket->adopted && instance == 0 && program == socket->adopted_program) {
    return Listener(socket, &socket->listener);
  }
  SlotKey key{socket->spec.name, program, instance};
  if (auto found = slots.find(key); found != slots.end()) {
    return found->second;
  }
  std::string hint = in_use_hint.empty() && socket->adopted
                         ? BesideAdoptedHint(socket->spec)
                         : in_use_hint;
  auto bound = ListenTcp(socket->spec, socket->address, socket->address_length,
                         /*reuseport=*/true, hint);
  if (auto* error = std::get_if<std::string>(&bound)) return *error;
  UniqueFd& fd = std::get<UniqueFd>(bound);
  // The next slots bind exactly here, even when the spec said port 0.
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&address), &length) ==
      0) {
    socket->address = address;
    socket->address_length = length;
  }
  // A slot's holder keeps its socket too: a retired socket stays known
  // (InUseHint) while any of its listeners is open.
  auto owner = std::make_shared<std::pair<std::shared_ptr<Socket>, UniqueFd>>(
      socket, std::move(fd));
  Listener listener(owner, &owner->second);
  slots.emplace(std::move(key), listener);
  return listener;
}

std::variant<WorkerSockets, std::string> Listeners::ForWorker(
    const ProgramSpec& spec, int instance) {
  if (instance < 0) {
    return fmt::format("program \"{}\" has no instance {}", spec.name,
                       instance);
  }
  WorkerSockets result;
  for (const std::string& name : spec.sockets) {
    std::shared_ptr<Socket> socket = Find(name);
    if (!socket) {
      return fmt::format(
          "program \"{}\" lists socket \"{}\", which is not "
          "open",
          spec.name, name);
    }
    Listener listener(socket, &socket->listener);
    if (socket->spec.balance == Balance::kReuseport) {
      auto slot =
          SlotListener(socket, slot_listeners_, spec.name, instance, "");
      if (auto* error = std::get_if<std::string>(&slot)) return *error;
      listener = std::move(std::get<Listener>(slot));
    }
    result.fds.push_back(listener->Get());
    result.names.push_back(name);
    result.holds.push_back(std::move(listener));
  }
  return result;
}

void Listeners::ReleaseSlots(const std::string& program, int from) {
  std::erase_if(slot_listeners_, [&](const auto& entry) {
    const auto& [socket, slot_program, instance] = entry.first;
    return slot_program == program && instance >= from;
  });
}

void Listeners::ReleaseSlot(const std::string& program, int instance) {
  std::erase_if(slot_listeners_, [&](const auto& entry) {
    const auto& [socket, slot_program, slot_instance] = entry.first;
    return slot_program == program && slot_instance == instance;
  });
}

std::string Listeners::BoundAddress(const std::string& name) const {
  std::shared_ptr<Socket> socket = Find(name);
  if (!socket) return "";
  int fd = socket->listener.Get();
  if (fd < 0) {
    auto slot = slot_listeners_.lower_bound(SlotKey{name, "", INT_MIN});
    if (slot != slot_listeners_.end() && std::get<0>(slot->first) == name) {
      fd = slot->second->Get();
    }
  }
  if (fd >= 0) {
    std::string bound = DescribeBound(fd);
    if (!bound.empty()) return bound;
  }
  return socket->spec.listen.ToString();
}

std::string Listeners::InUseHint(const SocketSpec& spec) const {
  const bool is_unix = spec.listen.family == Family::kUnix;
  sockaddr_storage wanted{};
  socklen_t wanted_length = 0;
  if (!is_unix && !Resolve(spec.listen, wanted, wanted_length)) return "";
  auto occupies = [&](const Socket& socket) {
    if (is_unix) {
      return socket.listener &&
             DescribeBound(socket.listener.Get()) == "unix:" + spec.listen.path;
    }
    sockaddr_storage address = socket.address;
    if (socket.listener) {
      socklen_t length = sizeof(address);
      if (::getsockname(socket.listener.Get(),
                        reinterpret_cast<sockaddr*>(&address), &length) < 0) {
        return false;
      }
    }
    return Collide(wanted, address);
  };
  for (const std::shared_ptr<Socket>& socket : sockets_) {
    const std::string& name = socket->spec.name;
    auto slot = slot_listeners_.lower_bound(SlotKey{name, "", INT_MIN});
    bool slots =
        slot != slot_listeners_.end() && std::get<0>(slot->first) == name;
    if ((!socket->listener && !slots) || !occupies(*socket)) continue;
    if (name == spec.name) {
      return fmt::format(
          "workerd still listens there with the current definition of "
          "[socket.{}], so this change needs a different address or a "
          "restart of workerd",
          name);
    }
    return fmt::format(
        "workerd still listens there for [socket.{}], which a reload closes "
        "only after binding the new sockets, so this needs a different "
        "address or a restart of workerd",
        name);
  }
  for (const std::weak_ptr<Socket>& retired : retired_) {
    std::shared_ptr<Socket> socket = retired.lock();
    if (!socket || !occupies(*socket)) continue;
    return fmt::format(
        "workerd still listens there with a previous definition of "
        "[socket.{}] until the workers that have it are gone; reload again "
        "then, or choose a different address",
        socket->spec.name);
  }
  return "";
}

std::optional<std::string> Listeners::ChangeInPlace(
    const std::shared_ptr<Socket>& socket, const SocketSpec& spec,
    std::vector<std::function<void()>>& undo) {
  const SocketSpec& old = socket->spec;
  if (spec.backlog != old.backlog) {
    // systemd's socket keeps the unit's Backlog=.
    std::vector<int> fds;
    if (socket->listener && !socket->adopted) {
      fds.push_back(socket->listener.Get());
    }
    for (const auto& [key, listener] : slot_listeners_) {
      if (std::get<0>(key) == spec.name) fds.push_back(listener->Get());
    }
    for (int fd : fds) {
      if (::listen(fd, spec.backlog) < 0) {
        return fmt::format("{}cannot change the backlog of {}: {}",
                           Prefix(spec), DescribeBound(fd),
                           std::strerror(errno));
      }
      undo.push_back([fd, backlog = old.backlog] { ::listen(fd, backlog); });
    }
  }
  const bool owner_changed =
      spec.owner_uid != old.owner_uid || spec.group_gid != old.group_gid;
  if (socket->unix_path.empty() || (spec.mode == old.mode && !owner_changed)) {
    return std::nullopt;
  }
  const std::string path = socket->unix_path;
  struct stat current;
  if (::lstat(path.c_str(), &current) < 0 ||
      current.st_ino != socket->unix_inode) {
    return std::nullopt;  // no longer our file: not ours to change
  }
  if (spec.mode != old.mode) {
    if (::chmod(path.c_str(), spec.mode) < 0) {
      return fmt::format("{}cannot set the mode of socket {}: {}", Prefix(spec),
                         path, std::strerror(errno));
    }
    undo.push_back([path, mode = current.st_mode & 07777] {
      ::chmod(path.c_str(), mode);
    });
  }
  if (owner_changed) {
    // Without `owner` or `group`, the file is workerd's, as Open makes it.
    if (::chown(path.c_str(), spec.owner_uid.value_or(::geteuid()),
                spec.group_gid.value_or(::getegid())) < 0) {
      return fmt::format("{}cannot set the {} of socket {}: {}", Prefix(spec),
                         spec.owner_uid != old.owner_uid ? "owner" : "group",
                         path, std::strerror(errno));
    }
    undo.push_back([path, uid = current.st_uid, gid = current.st_gid] {
      [[maybe_unused]] int ignored = ::chown(path.c_str(), uid, gid);
    });
  }
  return std::nullopt;
}

void Listeners::Retire(const std::shared_ptr<Socket>& socket,
                       const Config& next) {
  const std::string& name = socket->spec.name;
  std::erase_if(slot_listeners_, [&](const auto& entry) {
    return std::get<0>(entry.first) == name;
  });
  if (socket->adopted) {
    spdlog::warn(
        "socket \"{}\": {} {}, so workerd drops the socket systemd passed for "
        "it ({}) once no worker has it; systemd still holds it: change or "
        "stop its .socket unit too",
        name, next.path.empty() ? "the configuration" : next.path,
        next.FindSocket(name) != nullptr
            ? "defines it anew"
            : fmt::format("has no [socket.{}] any more", name),
        DescribeBound(socket->listener.Get()));
  }
  retired_.push_back(socket);
}

std::optional<std::string> Listeners::Reload(const Config& next,
                                             const ConfigDiff& diff) {
  std::erase_if(retired_, [](const std::weak_ptr<Socket>& socket) {
    return socket.expired();
  });
  // Everything that can fail, first: new sockets (closed again, their
  // files removed, when dropped on an error) and in-place changes (undone).
  std::vector<std::shared_ptr<Socket>> sockets;  // next's, in its order
  std::vector<std::pair<std::shared_ptr<Socket>, const SocketSpec*>> kept;
  SlotMap slots;
  for (const SocketSpec& spec : next.sockets) {
    std::shared_ptr<Socket> running = Find(spec.name);
    const SocketDiff* change = diff.FindSocket(spec.name);
    if (running &&
        (change == nullptr || change->kind == SocketChangeKind::kUnchanged ||
         (change->kind == SocketChangeKind::kChanged &&
          ChangesInPlace(*change)))) {
      kept.emplace_back(running, &spec);
      sockets.push_back(std::move(running));
      continue;
    }
    const std::string hint = InUseHint(spec);
    auto bound = Bind(spec, UniqueFd(), next, hint);
    if (auto* error = std::get_if<std::string>(&bound)) return *error;
    auto& socket = std::get<std::shared_ptr<Socket>>(bound);
    if (auto error = BindSlots(socket, next, slots, hint)) return error;
    sockets.push_back(std::move(socket));
  }
  std::vector<std::function<void()>> undo;
  for (const auto& [socket, spec] : kept) {
    if (auto error = ChangeInPlace(socket, *spec, undo)) {
      for (auto step = undo.rbegin(); step != undo.rend(); ++step) (*step)();
      return error;
    }
  }

  for (const auto& [socket, spec] : kept) socket->spec = *spec;
  for (const std::shared_ptr<Socket>& socket : sockets_) {
    if (std::find(sockets.begin(), sockets.end(), socket) == sockets.end()) {
      Retire(socket, next);
    }
  }
  slot_listeners_.merge(slots);
  sockets_ = std::move(sockets);
  return std::nullopt;
}

}  // namespace workerd
