#include "daemon/credentials.h"

#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "daemon/accounts.h"

namespace workerd {

Credentials ResolveCredentials(std::optional<uid_t> uid,
                               std::optional<gid_t> gid) {
  Credentials creds;
  creds.uid = uid;
  creds.gid = gid;
  if (!uid && !gid) return creds;

  std::string user_name;
  if (uid) {
    int error = 0;
    if (std::optional<Account> account = FindUserById(*uid, &error)) {
      user_name = account->name;
      if (!creds.gid) creds.gid = account->gid;
    } else if (!creds.gid) {
      // Without a group to switch to, the worker would keep workerd's
      // (root's, typically): refuse rather than guess.
      creds.lookup_error = error != 0 ? error : ENOENT;
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
