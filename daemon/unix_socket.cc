#include "daemon/unix_socket.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace workerd {
namespace {

std::string Errno() { return std::strerror(errno); }

bool FillAddress(const std::string& path, sockaddr_un& address) {
  if (path.size() >= sizeof(address.sun_path)) return false;
  address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Something answers on `path`.
bool SomeoneListens(const sockaddr_un& address) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  return ::connect(probe.Get(), reinterpret_cast<const sockaddr*>(&address),
                   sizeof(address)) == 0;
}

}  // namespace

std::variant<UnixListener, std::string> ListenUnix(
    const std::string& path, unsigned mode, std::optional<gid_t> group,
    int backlog) {
  UnixListenOptions options;
  options.mode = mode;
  options.group = group;
  options.backlog = backlog;
  return ListenUnix(path, options);
}

std::variant<UnixListener, std::string> ListenUnix(
    const std::string& path, const UnixListenOptions& options) {
  const unsigned mode = options.mode;
  sockaddr_un address;
  std::string temporary = fmt::format("{}.{}.tmp", path, ::getpid());
  sockaddr_un temporary_address;
  // Bound under a temporary name and renamed, the path needs room for
  // the suffix too.
  if (!FillAddress(path, address) ||
      (!options.in_place && !FillAddress(temporary, temporary_address))) {
    return fmt::format("socket path {} is too long ({} bytes at most)", path,
                       options.in_place ? sizeof(address.sun_path) - 1
                                        : sizeof(address.sun_path) - 16);
  }

  std::error_code error;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    return fmt::format("cannot create the directory {} for socket {}: {}",
                       parent.string(), path, error.message());
  }

  struct stat existing;
  bool stale = false;
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return fmt::format("{} exists and is not a socket; remove it or choose "
                         "another path",
                         path);
    }
    if (SomeoneListens(address)) {
      return fmt::format("another process is already listening on {} (is "
                         "workerd running already?)",
                         path);
    }
    stale = true;
  }

  UniqueFd fd(::socket(
      AF_UNIX,
      SOCK_STREAM | SOCK_CLOEXEC | (options.nonblocking ? SOCK_NONBLOCK : 0),
      0));
  if (!fd) return fmt::format("cannot create socket {}: {}", path, Errno());
  const std::string& bind_path = options.in_place ? path : temporary;
  const sockaddr_un& bind_address =
      options.in_place ? address : temporary_address;
  if (!options.in_place) {
    ::unlink(temporary.c_str());
  } else if (stale) {
    ::unlink(path.c_str());
  }
  // The mode is right from the first instant: the umask applies to bind.
  mode_t old_umask = ::umask(~mode & 0777);
  int bound = ::bind(fd.Get(), reinterpret_cast<const sockaddr*>(&bind_address),
                     sizeof(bind_address));
  int bind_errno = errno;
  ::umask(old_umask);
  if (bound < 0) {
    return fmt::format("cannot bind socket {}: {}", path,
                       std::strerror(bind_errno));
  }
  auto fail = [&](const char* what) {
    std::string message = fmt::format("cannot {} socket {}: {}", what, path,
                                      Errno());
    ::unlink(bind_path.c_str());
    return message;
  };
  if (::chmod(bind_path.c_str(), mode) < 0) return fail("set the mode of");
  if ((options.owner || options.group) &&
      ::chown(bind_path.c_str(), options.owner.value_or(-1),
              options.group.value_or(-1)) < 0) {
    return fail(options.owner ? "set the owner of" : "set the group of");
  }
  if (::listen(fd.Get(), options.backlog) < 0) return fail("listen on");
  if (!options.in_place && ::rename(temporary.c_str(), path.c_str()) < 0) {
    return fail("install");
  }

  UnixListener listener;
  struct stat installed;
  if (::stat(path.c_str(), &installed) == 0) listener.inode = installed.st_ino;
  listener.fd = std::move(fd);
  listener.path = path;
  return listener;
}

void RemoveUnixListenerFile(const UnixListener& listener) {
  struct stat current;
  if (::stat(listener.path.c_str(), &current) == 0 &&
      current.st_ino == listener.inode) {
    ::unlink(listener.path.c_str());
  }
}

}  // namespace workerd
