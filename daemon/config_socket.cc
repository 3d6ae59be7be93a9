// Reading the [socket.NAME] tables of workers.toml (daemon/config_loader.h).

#include <toml++/toml.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/config_loader.h"
#include "daemon/listen_address.h"
#include "daemon/suggest.h"
#include "daemon/toml_reader.h"

namespace workerd::config_internal {
namespace {

namespace fs = std::filesystem;

// Equal for addresses that are the same socket: Unix paths compare
// normalized ("/run//a.sock" is "/run/a.sock").
std::string AddressKey(const ListenAddress& address) {
  if (address.family != ListenAddress::Family::kUnix) {
    return address.ToString();
  }
  return "unix:" + fs::path(address.path).lexically_normal().string();
}

// Parses `written`, resolving a relative Unix path against the file's
// directory; false after reporting an error.
bool ReadListen(const LoadContext& context, TableReader& reader,
                const toml::node& at, const std::string& written,
                ListenAddress* address) {
  std::variant<ListenAddress, std::string> parsed = ParseListenAddress(written);
  if (const std::string* error = std::get_if<std::string>(&parsed)) {
    reader.Error(at, "listen: " + *error);
    return false;
  }
  ListenAddress result = std::get<ListenAddress>(std::move(parsed));
  if (result.family != ListenAddress::Family::kUnix) {
    *address = std::move(result);
    return true;
  }
  const std::string resolved = context.Resolve(result.path);
  if (resolved.size() > kMaxUnixSocketPath) {
    reader.Error(at, "listen: " + Quoted(written) + " (" + resolved +
                         ") is longer than the " +
                         std::to_string(kMaxUnixSocketPath) +
                         " bytes a Unix socket path may have");
    return false;
  }
  result.path = resolved;
  *address = std::move(result);
  return true;
}

// `*listen_position`: where its `listen` value is (the header when it has
// none), for errors about duplicate addresses.
SocketSpec ReadSocket(LoadContext& context, std::string_view name,
                      const toml::table& table,
                      SourcePosition* listen_position) {
  SocketSpec socket;
  socket.name = name;
  socket.position = PositionOf(table.source());
  CheckName(context.errors, table, "socket", name);
  const std::string table_name = "socket." + TomlKey(name);
  TableReader reader(context.errors, table, table_name);
  *listen_position = socket.position;

  bool have_listen = false;
  std::string listen;
  if (const toml::node* node = reader.String("listen", &listen)) {
    *listen_position = PositionOf(node->source());
    have_listen = ReadListen(context, reader, *node, listen, &socket.listen);
  } else if (table.get("listen") == nullptr) {
    context.errors.Add(
        socket.position,
        "[" + table_name +
            "] has no listen address; add one like listen = "
            "\"127.0.0.1:8080\" or listen = \"unix:/run/app.sock\"");
  }
  const bool unix_socket = socket.listen.family == ListenAddress::Family::kUnix;
  // Keys that make sense for one kind of socket only; reported once the
  // kind is known.
  auto check_unix_only = [&](const toml::node& at, std::string_view key) {
    if (!have_listen || unix_socket) return true;
    reader.Error(at, std::string(key) +
                         " applies only to Unix sockets (\"unix:PATH\"); "
                         "this socket listens on " +
                         socket.listen.ToString());
    return false;
  };

  reader.Integer("backlog", 1, 65535, &socket.backlog);
  if (const toml::node* node =
          reader.OneOf("balance", kBalances, &socket.balance)) {
    if (have_listen && unix_socket && socket.balance == Balance::kReuseport) {
      reader.Error(*node,
                   "balance = \"reuseport\" needs a TCP socket: SO_REUSEPORT "
                   "balancing works only for TCP, and this socket listens "
                   "on " +
                       socket.listen.ToString());
    }
  }
  unsigned mode = 0;
  if (const toml::node* node = reader.Mode("mode", &mode)) {
    if (check_unix_only(*node, "mode")) socket.mode = mode;
  }
  std::string owner;
  if (const toml::node* node = reader.String("owner", &owner)) {
    if (check_unix_only(*node, "owner")) {
      if (const std::optional<Account> user =
              LookUpUser(reader, *node, "owner", owner)) {
        socket.owner_uid = user->uid;
      }
    }
  }
  std::string group;
  if (const toml::node* node = reader.String("group", &group)) {
    if (check_unix_only(*node, "group")) {
      if (const std::optional<gid_t> gid =
              LookUpGroup(reader, *node, "group", group)) {
        socket.group_gid = gid;
      }
    }
  }
  reader.ReportUnknownKeys([&](std::string_view key, const toml::node& node) {
    return DottedNameHint("socket", name, key, node);
  });
  return socket;
}

}  // namespace

void ReadSockets(LoadContext& context, const toml::table& table,
                 std::vector<SocketSpec>* sockets) {
  const auto found =
      TablesInOrder(context.errors, table, "socket", "[socket.http]");
  // Every name counts for the programs' `sockets`, even of a socket with
  // errors or one too many: those are reported once, here.
  for (const auto& [name, socket] : found) {
    context.socket_names.emplace_back(name);
  }
  // Of each socket read, where its `listen` value is.
  std::vector<SourcePosition> listen_positions;
  for (const auto& [name, socket] : found) {
    if (sockets->size() == static_cast<std::size_t>(kMaxSockets)) {
      context.errors.Add(*socket, "too many sockets: at most " +
                                      std::to_string(kMaxSockets) +
                                      " are allowed");
      return;
    }
    sockets->push_back(
        ReadSocket(context, name, *socket, &listen_positions.emplace_back()));
  }
  std::vector<std::pair<std::string, std::size_t>> seen;  // address, index
  for (std::size_t i = 0; i < sockets->size(); ++i) {
    const SocketSpec& socket = (*sockets)[i];
    if (socket.listen.port == 0 && socket.listen.path.empty()) continue;
    const std::string key = AddressKey(socket.listen);
    const auto first =
        std::find_if(seen.begin(), seen.end(),
                     [&](const auto& entry) { return entry.first == key; });
    if (first == seen.end()) {
      seen.emplace_back(key, i);
      continue;
    }
    const SocketSpec& other = (*sockets)[first->second];
    context.errors.Add(
        listen_positions[i],
        Header("socket", socket.name) + " listens on " +
            socket.listen.ToString() + " like " + Header("socket", other.name) +
            " at line " + std::to_string(other.position.line) +
            "; two sockets cannot have the same address (to pass one socket "
            "to several programs, list it in the sockets of each)");
  }
}

}  // namespace workerd::config_internal
