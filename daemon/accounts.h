// Users and groups of this system, looked up by name or id through NSS
// (getpwnam_r and friends), so that /etc/passwd, LDAP or systemd's dynamic
// users all work. Each lookup returns the entry, or nullopt with `*error`
// set: ENOENT when there is no such entry, another errno value when the
// lookup itself failed (EIO, ENOMEM, EMFILE, ...), so that "no such user"
// and "could not ask" can be told apart.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace workerd {

// What workerd needs of a passwd entry.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // the primary group

  bool operator==(const Account&) const = default;
};

// What workerd needs of a group entry.
struct Group {
  std::string name;
  gid_t gid = 0;

  bool operator==(const Group&) const = default;
};

std::optional<Account> FindUser(const std::string& name, int* error);
std::optional<Account> FindUserById(uid_t uid, int* error);
std::optional<Group> FindGroup(const std::string& name, int* error);

}  // namespace workerd
