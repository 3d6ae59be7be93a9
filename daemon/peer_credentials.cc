#include "daemon/peer_credentials.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace workerd {

std::optional<Peer> GetPeer(int fd) {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) {
    return std::nullopt;
  }
  return Peer{credentials.pid, credentials.uid, credentials.gid};
}

bool PeerAllowed(int fd, const Peer& peer, const AccessPolicy& policy) {
  if (peer.uid == 0 || peer.uid == policy.daemon_uid) return true;
  if (!policy.control_group) return false;
  if (peer.gid == *policy.control_group) return true;
  std::vector<gid_t> groups(64);
  socklen_t length = groups.size() * sizeof(gid_t);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) <
      0) {
    if (errno != ERANGE) return false;
    groups.resize(length / sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) <
        0) {
      return false;
    }
  }
  groups.resize(length / sizeof(gid_t));
  return std::find(groups.begin(), groups.end(), *policy.control_group) !=
         groups.end();
}

}  // namespace workerd
