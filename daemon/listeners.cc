#include "daemon/listeners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>

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

// A blocking, close-on-exec TCP listener on `address`: workers decide
// whether they want O_NONBLOCK, and it is shared by all of them anyway.
std::variant<UniqueFd, std::string> ListenTcp(const SocketSpec& spec,
                                              const sockaddr_storage& address,
                                              socklen_t length, bool reuseport,
                                              bool beside_adopted) {
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
    } else if (error_number == EADDRINUSE && reuseport && beside_adopted) {
      message += fmt::format(
          " (to bind more listeners beside the socket systemd passed as "
          "\"{}\", its .socket unit needs ReusePort=yes and workerd must "
          "run as the user that created it)",
          spec.name);
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

Listeners::~Listeners() { Close(); }

Listeners& Listeners::operator=(Listeners&& other) noexcept {
  if (this != &other) {
    Close();
    sockets_ = std::move(other.sockets_);
    slot_listeners_ = std::move(other.slot_listeners_);
    other.sockets_.clear();
    other.slot_listeners_.clear();
  }
  return *this;
}

void Listeners::Close() {
  for (const Socket& socket : sockets_) {
    if (socket.adopted || socket.unix_path.empty()) continue;
    RemoveUnixListenerFile(UnixListener{.fd = UniqueFd(),
                                        .path = socket.unix_path,
                                        .inode = socket.unix_inode});
  }
  slot_listeners_.clear();
  sockets_.clear();
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
    Socket socket;
    socket.spec = spec;
    const bool is_unix = spec.listen.family == Family::kUnix;
    const bool reuseport = spec.balance == Balance::kReuseport;
    if (reuseport && is_unix) {
      return fmt::format(
          "{}balance = \"reuseport\" needs a TCP address, not "
          "{}",
          Prefix(spec), spec.listen.ToString());
    }
    if (auto found = passed.find(spec.name); found != passed.end()) {
      UniqueFd fd = std::move(found->second);
      if (::sd_is_socket(fd.Get(), AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
        return fmt::format(
            "{}the socket passed by systemd as \"{}\" is not "
            "a listening stream socket",
            Prefix(spec), spec.name);
      }
      socket.address_length = sizeof(socket.address);
      if (::getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&socket.address),
                        &socket.address_length) < 0) {
        return fmt::format(
            "{}cannot read the address of the socket passed "
            "by systemd as \"{}\": {}",
            Prefix(spec), spec.name, std::strerror(errno));
      }
      // An IPv4 address in the file and systemd's dual-stack [::] socket
      // (ListenStream=8080) are both fine; TCP for Unix is not.
      bool passed_unix = socket.address.ss_family == AF_UNIX;
      bool passed_ip = socket.address.ss_family == AF_INET ||
                       socket.address.ss_family == AF_INET6;
      if (is_unix ? !passed_unix : !passed_ip) {
        return fmt::format(
            "{}the socket passed by systemd as \"{}\" listens "
            "on {}, which is not a {} address like {}",
            Prefix(spec), spec.name,
            Describe(socket.address, socket.address_length),
            is_unix ? "Unix" : "TCP", spec.listen.ToString());
      }
      socket.listener = std::move(fd);
      socket.adopted = true;
      if (reuseport) {
        auto first =
            std::find_if(config.programs.begin(), config.programs.end(),
                         [&](const ProgramSpec& program) {
                           return Lists(program, spec.name);
                         });
        if (first != config.programs.end())
          socket.adopted_program = first->name;
      }
    } else if (is_unix) {
      auto bound = ListenUnix(spec.listen.path,
                              UnixListenOptions{.mode = spec.mode,
                                                .owner = spec.owner_uid,
                                                .group = spec.group_gid,
                                                .backlog = spec.backlog,
                                                .nonblocking = false,
                                                .in_place = true});
      if (auto* error = std::get_if<std::string>(&bound)) {
        return Prefix(spec) + *error;
      }
      auto& unix_listener = std::get<UnixListener>(bound);
      socket.listener = std::move(unix_listener.fd);
      socket.unix_path = unix_listener.path;
      socket.unix_inode = unix_listener.inode;
    } else {
      if (!Resolve(spec.listen, socket.address, socket.address_length)) {
        return fmt::format("{}cannot listen on {}: not a numeric address",
                           Prefix(spec), spec.listen.ToString());
      }
      if (!reuseport) {
        auto bound = ListenTcp(spec, socket.address, socket.address_length,
                               /*reuseport=*/false, /*beside_adopted=*/false);
        if (auto* error = std::get_if<std::string>(&bound)) return *error;
        socket.listener = std::move(std::get<UniqueFd>(bound));
      }
    }
    listeners.sockets_.push_back(std::move(socket));

    if (!reuseport) continue;
    for (const ProgramSpec& program : config.programs) {
      if (!Lists(program, spec.name)) continue;
      for (int instance = 0; instance < program.workers; ++instance) {
        auto slot = listeners.SlotListener(listeners.sockets_.back(),
                                           program.name, instance);
        if (auto* error = std::get_if<std::string>(&slot)) return *error;
      }
    }
  }
  return listeners;
}

Listeners::Socket* Listeners::Find(const std::string& name) {
  for (Socket& socket : sockets_) {
    if (socket.spec.name == name) return &socket;
  }
  return nullptr;
}

const Listeners::Socket* Listeners::Find(const std::string& name) const {
  return const_cast<Listeners*>(this)->Find(name);
}

std::variant<int, std::string> Listeners::SlotListener(
    Socket& socket, const std::string& program, int instance) {
  if (socket.adopted && instance == 0 && program == socket.adopted_program) {
    return socket.listener.Get();
  }
  SlotKey key{socket.spec.name, program, instance};
  if (auto found = slot_listeners_.find(key); found != slot_listeners_.end()) {
    return found->second.Get();
  }
  auto bound = ListenTcp(socket.spec, socket.address, socket.address_length,
                         /*reuseport=*/true, socket.adopted);
  if (auto* error = std::get_if<std::string>(&bound)) return *error;
  UniqueFd& fd = std::get<UniqueFd>(bound);
  // The next slots bind exactly here, even when the spec said port 0.
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&address), &length) ==
      0) {
    socket.address = address;
    socket.address_length = length;
  }
  int result = fd.Get();
  slot_listeners_.emplace(std::move(key), std::move(fd));
  return result;
}

std::variant<WorkerSockets, std::string> Listeners::ForWorker(
    const ProgramSpec& spec, int instance) {
  if (instance < 0) {
    return fmt::format("program \"{}\" has no instance {}", spec.name,
                       instance);
  }
  WorkerSockets result;
  for (const std::string& name : spec.sockets) {
    Socket* socket = Find(name);
    if (!socket) {
      return fmt::format(
          "program \"{}\" lists socket \"{}\", which is not "
          "open",
          spec.name, name);
    }
    int fd = socket->listener.Get();
    if (socket->spec.balance == Balance::kReuseport) {
      auto slot = SlotListener(*socket, spec.name, instance);
      if (auto* error = std::get_if<std::string>(&slot)) return *error;
      fd = std::get<int>(slot);
    }
    result.fds.push_back(fd);
    result.names.push_back(name);
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
  const Socket* socket = Find(name);
  if (!socket) return "";
  int fd = socket->listener.Get();
  if (fd < 0) {
    auto slot = slot_listeners_.lower_bound(SlotKey{name, "", INT_MIN});
    if (slot != slot_listeners_.end() && std::get<0>(slot->first) == name) {
      fd = slot->second.Get();
    }
  }
  if (fd >= 0) {
    std::string bound = DescribeBound(fd);
    if (!bound.empty()) return bound;
  }
  return socket->spec.listen.ToString();
}

}  // namespace workerd
