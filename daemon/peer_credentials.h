// Who is on the other end of a control connection, and whether they may
// drive workerd.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace workerd {

struct AccessPolicy {
  uid_t daemon_uid = 0;
  std::optional<gid_t> control_group;
};

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<Peer> GetPeer(int fd);

// Root, the daemon's own user, and members of the control group (primary
// or supplementary) get in.
bool PeerAllowed(int fd, const Peer& peer, const AccessPolicy& policy);

}  // namespace workerd
