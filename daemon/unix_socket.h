// Listening Unix stream sockets, created so that no one ever connects to a
// socket with the wrong permissions, and never stealing a live one.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "daemon/unique_fd.h"

namespace workerd {

struct UnixListener {
  UniqueFd fd;
  std::string path;
  ino_t inode = 0;  // to remove the file at exit only while it is ours
};

struct UnixListenOptions {
  unsigned mode = 0660;
  std::optional<uid_t> owner;  // the file's owner and group, when given
  std::optional<gid_t> group;
  int backlog = 128;
  // The control socket is served by the event loop; sockets handed to
  // workers stay blocking (the workers choose).
  bool nonblocking = true;
  // Bind at `path` itself, after removing a stale file, instead of at a
  // temporary name renamed into place: the socket's own address (what
  // getsockname tells a worker) is then `path`, at the cost of an instant
  // with no file and one with the file not yet chowned.
  bool in_place = false;
};

// Binds `path` with the options' mode and owner and listens. A stale
// socket file is replaced (atomically unless `in_place`); a live one
// (something answers) is an error, and so is a file that is not a socket.
// The parent directory is created when missing. Errors are sentences
// naming the path.
std::variant<UnixListener, std::string> ListenUnix(
    const std::string& path, const UnixListenOptions& options);

// The control socket: non-blocking, owned by workerd's user.
std::variant<UnixListener, std::string> ListenUnix(
    const std::string& path, unsigned mode, std::optional<gid_t> group,
    int backlog = 128);

// Removes the socket file if it is still the one ListenUnix created.
void RemoveUnixListenerFile(const UnixListener& listener);

}  // namespace workerd
