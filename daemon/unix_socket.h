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

// Binds `path` with `mode` (and `group`, when given) and listens. A stale
// socket file is replaced atomically; a live one (something answers) is an
// error, and so is a file that is not a socket. The parent directory is
// created when missing. Errors are sentences naming the path.
std::variant<UnixListener, std::string> ListenUnix(
    const std::string& path, unsigned mode, std::optional<gid_t> group,
    int backlog = 128);

// Removes the socket file if it is still the one ListenUnix created.
void RemoveUnixListenerFile(const UnixListener& listener);

}  // namespace workerd
