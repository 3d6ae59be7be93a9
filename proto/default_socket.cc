#include "proto/default_socket.h"

#include <unistd.h>

#include <cstdlib>

namespace workerd::proto {

std::string DefaultControlSocketPath() {
  return DefaultControlSocketPath(::geteuid(), std::getenv("XDG_RUNTIME_DIR"));
}

std::string DefaultControlSocketPath(uid_t euid, const char* xdg_runtime_dir) {
  if (euid == 0) return kSystemControlSocket;
  if (xdg_runtime_dir != nullptr && xdg_runtime_dir[0] == '/') {
    std::string dir = xdg_runtime_dir;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (dir == "/") dir.clear();
    return dir + "/workerd/control.sock";
  }
  return "/tmp/workerd-" + std::to_string(euid) + "/control.sock";
}

}  // namespace workerd::proto
