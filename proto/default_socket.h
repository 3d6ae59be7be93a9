// Where the control socket lives when workers.toml does not say
// (PROTOCOL.md, "The socket"). Shared by workerd and workerctl so that they
// agree without configuration.
#pragma once

#include <sys/types.h>

#include <string>

namespace workerd::proto {

// The system daemon's socket: root's default, and the packaged unit's.
inline constexpr const char* kSystemControlSocket = "/run/workerd/control.sock";

// The default for the current process: /run/workerd/control.sock when the
// effective user is root; otherwise $XDG_RUNTIME_DIR/workerd/control.sock;
// otherwise /tmp/workerd-UID/control.sock. WORKERD_SOCKET is not consulted:
// overriding the default is workerctl's business.
std::string DefaultControlSocketPath();

// The same rule for a given effective uid and value of XDG_RUNTIME_DIR
// (nullptr when unset). An empty or relative XDG_RUNTIME_DIR counts as unset,
// as the XDG base directory specification asks.
std::string DefaultControlSocketPath(uid_t euid, const char* xdg_runtime_dir);

}  // namespace workerd::proto
