#include "daemon/accounts.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>

#include <vector>

namespace workerd {
namespace {

// Looks `key` up with a getpwnam_r-style function, growing the buffer as it
// asks, up to 1 MiB. Returns 0, ENOENT when there is no such entry, or the
// lookup's error.
template <typename Key, typename Entry, typename Function>
int LookUp(Function function, Key key, Entry* entry,
           std::vector<char>* buffer) {
  buffer->resize(1024);
  while (true) {
    Entry* result = nullptr;
    const int error =
        function(key, entry, buffer->data(), buffer->size(), &result);
    if (error == ERANGE && buffer->size() < (1u << 20)) {
      buffer->resize(buffer->size() * 2);
      continue;
    }
    // glibc may also say "not found" with these (getpwnam_r(3)).
    if (error == ENOENT || error == ESRCH || error == EBADF || error == EPERM) {
      return ENOENT;
    }
    if (error != 0) return error;
    return result == nullptr ? ENOENT : 0;
  }
}

template <typename Key>
std::optional<Account> FindPasswd(int (*function)(Key, passwd*, char*, size_t,
                                                  passwd**),
                                  Key key, int* error) {
  passwd entry;
  std::vector<char> buffer;
  *error = LookUp(function, key, &entry, &buffer);
  if (*error != 0) return std::nullopt;
  return Account{entry.pw_name, entry.pw_uid, entry.pw_gid};
}

}  // namespace

std::optional<Account> FindUser(const std::string& name, int* error) {
  return FindPasswd(getpwnam_r, name.c_str(), error);
}

std::optional<Account> FindUserById(uid_t uid, int* error) {
  return FindPasswd(getpwuid_r, uid, error);
}

std::optional<Group> FindGroup(const std::string& name, int* error) {
  group entry;
  std::vector<char> buffer;
  *error = LookUp(getgrnam_r, name.c_str(), &entry, &buffer);
  if (*error != 0) return std::nullopt;
  return Group{entry.gr_name, entry.gr_gid};
}

}  // namespace workerd
