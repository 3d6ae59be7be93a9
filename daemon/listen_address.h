// The `listen` value of a [socket.NAME] table: where workerd binds a socket
// for its workers. Parsing is pure: no name resolution, no file access.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace workerd {

// The longest path a Unix socket may have: sockaddr_un.sun_path less its
// terminating NUL.
inline constexpr std::size_t kMaxUnixSocketPath = 107;

// Where a [socket.NAME] listens: `listen = "127.0.0.1:8000"`,
// `"[::]:8000"`, `"*:8000"` or `"unix:/run/app.sock"`.
struct ListenAddress {
  enum class Family { kInet, kInet6, kUnix };
  Family family = Family::kInet;
  std::string host;  // numeric, without brackets: "0.0.0.0", "::1"
  int port = 0;      // 1-65535 (0 is refused: workers need a known port)
  std::string path;  // kUnix: absolute (relative paths resolve at load)

  // "127.0.0.1:8000", "[::1]:8000", "unix:/run/app.sock"
  std::string ToString() const;
  bool operator==(const ListenAddress&) const = default;
};

// Reads what a user wrote as `listen`:
//   HOST:PORT    HOST is a numeric IPv4 address, "localhost" (127.0.0.1) or
//                "*" (0.0.0.0: every IPv4 address)
//   [V6]:PORT    V6 is a numeric IPv6 address; "[::]" is every address
//   unix:PATH    a Unix socket file; PATH is kept as written, relative or
//                not (the config loader resolves it against the file's
//                directory), and must fit sockaddr_un
// PORT is decimal, from 1 to 65535. Host names are never resolved. Hosts
// are stored in their canonical form ("[::0]:80" has the host "::"), so
// that equal addresses compare equal.
//
// On error, a sentence about `text` without a key name that says what to
// write instead, e.g. `"8080" has no host: write "HOST:PORT" such as
// "127.0.0.1:8080", "*:8080" or "[::]:8080"`.
std::variant<ListenAddress, std::string> ParseListenAddress(
    std::string_view text);

}  // namespace workerd
