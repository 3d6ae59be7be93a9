// The user, group and supplementary groups a worker switches to, resolved
// in the parent before the spawn (the child may only make system calls).
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

namespace workerd {

struct Credentials {
  // Supplementary groups are only set when workerd is root: otherwise it
  // cannot change them, and setuid to another user fails with the error
  // worth reporting anyway.
  bool set_groups = false;
  std::vector<gid_t> groups;
  std::optional<gid_t> gid;
  std::optional<uid_t> uid;
  // Non-zero: the uid's passwd entry was needed (no gid was given) but not
  // found, or the lookup failed with this errno.
  int lookup_error = 0;
};

// A uid without a gid takes its passwd entry's primary group; as root, the
// supplementary groups become the user's (getgrouplist), or just the gid
// when the uid has no passwd entry.
Credentials ResolveCredentials(std::optional<uid_t> uid,
                               std::optional<gid_t> gid);

}  // namespace workerd
