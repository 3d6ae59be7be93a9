#include "daemon/credentials.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace workerd {

Credentials ResolveCredentials(std::optional<uid_t> uid,
                               std::optional<gid_t> gid) {
  Credentials creds;
  creds.uid = uid;
  creds.gid = gid;
  if (!uid && !gid) return creds;

  std::string user_name;
  if (uid) {
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? size : 16384);
    passwd entry;
    passwd* found = nullptr;
    int result;
    while ((result = getpwuid_r(*uid, &entry, buffer.data(), buffer.size(),
                                &found)) == ERANGE) {
      buffer.resize(buffer.size() * 2);
    }
    if (found != nullptr) {
      user_name = found->pw_name;
      if (!creds.gid) creds.gid = found->pw_gid;
    } else if (!creds.gid) {
      // Without a group to switch to, the worker would keep workerd's
      // (root's, typically): refuse rather than guess.
      creds.lookup_error = result != 0 ? result : ENOENT;
      return creds;
    }
  }
  if (geteuid() != 0) return creds;

  creds.set_groups = true;
  if (!user_name.empty() && creds.gid) {
    // getgrouplist says how many it needs when the buffer is too small.
    int count = 32;
    creds.groups.resize(count);
    while (getgrouplist(user_name.c_str(), *creds.gid, creds.groups.data(),
                        &count) < 0) {
      count = std::max(count, static_cast<int>(creds.groups.size()) * 2);
      creds.groups.resize(count);
    }
    creds.groups.resize(count);
  } else if (creds.gid) {
    creds.groups = {*creds.gid};
  }
  return creds;
}

}  // namespace workerd
