#include "daemon/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>

#include "daemon/suggest.h"

namespace workerd {
namespace {

using Result = std::variant<ListenAddress, std::string>;

constexpr std::string_view kUnixPrefix = "unix:";
constexpr std::string_view kForms =
    R"("HOST:PORT" such as "127.0.0.1:8080", "[::]:8080" or )"
    R"("unix:/run/app.sock")";

// The pieces one after the other. Messages put a literal before a host or
// port with this rather than `"[" + std::string(host)`: g++ 12 at -O3 takes
// that operator+ (a literal before a temporary) for an overlapping copy and
// warns (-Wrestrict), which -Werror makes fatal.
std::string Concat(std::initializer_list<std::string_view> pieces) {
  std::string text;
  for (const std::string_view piece : pieces) text += piece;
  return text;
}

bool IsDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

bool HasSpace(std::string_view text) {
  return text.find_first_of(" \t\r\n\v\f") != std::string_view::npos;
}

// The canonical text of a numeric address of `family`, or nullopt.
std::optional<std::string> Canonical(int family, std::string_view host) {
  const std::string text(host);  // inet_pton wants a terminated string
  unsigned char address[sizeof(in6_addr)];
  if (inet_pton(family, text.c_str(), address) != 1) return std::nullopt;
  char canonical[INET6_ADDRSTRLEN];
  if (inet_ntop(family, address, canonical, sizeof canonical) == nullptr) {
    return std::nullopt;
  }
  return std::string(canonical);
}

bool IsAddress(std::string_view text) {
  return std::holds_alternative<ListenAddress>(ParseListenAddress(text));
}

// `write "fixed"` when `fixed` is an address, else the general advice.
std::string WriteInstead(std::string_view fixed) {
  if (IsAddress(fixed)) return "write " + Quoted(fixed);
  return "write " + std::string(kForms);
}

// The port after "HOST:" in `text`; `example` shows the address with a
// port, for the message when there is none.
std::variant<int, std::string> ParsePort(std::string_view text,
                                         std::string_view port,
                                         std::string_view example) {
  const std::string quoted = Quoted(text);
  if (port.empty()) {
    return quoted + " has no port: write it like " + Quoted(example);
  }
  if (!IsDigits(port)) {
    return quoted + ": the port " + Quoted(port) +
           " is not a number; a port is a number from 1 to 65535";
  }
  const std::size_t first = port.find_first_not_of('0');
  if (first == std::string_view::npos) {
    return quoted +
           ": the port must not be 0; workers need a known port, from 1 to "
           "65535";
  }
  if (port.size() - first > 5 || std::stoi(std::string(port)) > 65535) {
    return quoted + ": the port " + Quoted(port) +
           " is out of range; a port is a number from 1 to 65535";
  }
  return std::stoi(std::string(port));
}

Result ParseUnix(std::string_view text) {
  const std::string_view path = text.substr(kUnixPrefix.size());
  const std::string quoted = Quoted(text);
  if (path.empty()) {
    return quoted + " has no path: write it like \"unix:/run/app.sock\"";
  }
  if (path.find('\0') != std::string_view::npos) {
    return quoted + " must not contain a NUL character";
  }
  if (path.back() == '/') {
    return quoted +
           " names a directory: a Unix socket is a file, like "
           "\"unix:/run/app.sock\"";
  }
  if (path.size() > kMaxUnixSocketPath) {
    return quoted + " has a path longer than the " +
           std::to_string(kMaxUnixSocketPath) +
           " bytes a Unix socket path may have";
  }
  ListenAddress address;
  address.family = ListenAddress::Family::kUnix;
  address.path = path;
  return address;
}

// "[V6]:PORT".
Result ParseBracketed(std::string_view text) {
  const std::string quoted = Quoted(text);
  const std::size_t close = text.find(']');
  if (close == std::string_view::npos) {
    return quoted +
           " has no \"]\" after the IPv6 address: write it like "
           "\"[::1]:8080\"";
  }
  const std::string_view host = text.substr(1, close - 1);
  const std::string_view rest = text.substr(close + 1);
  if (host.empty()) {
    return quoted +
           " has no address in the brackets: write it like \"[::1]:8080\", "
           "or \"[::]:8080\" for every address";
  }
  if (Canonical(AF_INET, host)) {
    return quoted + ": brackets are for IPv6 addresses only; " +
           WriteInstead(std::string(host) + std::string(rest));
  }
  const std::optional<std::string> canonical = Canonical(AF_INET6, host);
  if (!canonical) {
    return quoted + ": " + Quoted(host) +
           " is not a numeric IPv6 address (host names are not resolved)";
  }
  const std::string example = Concat({"[", host, "]:8080"});
  if (rest.empty()) {
    return quoted + " has no port: write it like " + Quoted(example);
  }
  if (rest.front() != ':') {
    return quoted +
           " needs a \":\" between \"]\" and the port: write it like " +
           Quoted(example);
  }
  std::variant<int, std::string> port =
      ParsePort(text, rest.substr(1), example);
  if (std::string* error = std::get_if<std::string>(&port)) return *error;
  ListenAddress address;
  address.family = ListenAddress::Family::kInet6;
  address.host = *canonical;
  address.port = std::get<int>(port);
  return address;
}

// "HOST:PORT" with an IPv4 host, "localhost" or "*".
Result ParseHostPort(std::string_view text) {
  const std::string quoted = Quoted(text);
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    if (IsDigits(text)) {
      const std::string port(text);
      return quoted + " has no host: write \"127.0.0.1:" + port +
             "\" for this machine only, or \"*:" + port +
             "\" for every address";
    }
    if (Canonical(AF_INET, text) || Lowered(text) == "localhost" ||
        text == "*") {
      return quoted + " has no port: write it like " +
             Quoted(std::string(text) + ":8080");
    }
    return quoted + " has no port: write " + std::string(kForms);
  }
  const std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.find(':') != std::string_view::npos) {
    // An IPv6 address without brackets: "::1:8080" (which could also be
    // an address alone), or "::1".
    if (Canonical(AF_INET6, host) && IsDigits(port_text)) {
      return quoted + ": an IPv6 address goes in brackets, like " +
             Quoted(Concat({"[", host, "]:", port_text}));
    }
    if (Canonical(AF_INET6, text)) {
      return quoted + " has no port: write it like " +
             Quoted(Concat({"[", text, "]:8080"}));
    }
    return quoted + " is not an address: write " + std::string(kForms);
  }
  if (host.empty()) {
    if (!IsDigits(port_text)) {
      return quoted + " is not an address: write " + std::string(kForms);
    }
    const std::string port(port_text);
    return quoted + " has no host: write \"127.0.0.1:" + port +
           "\" for this machine only, or \"*:" + port + "\" for every address";
  }
  std::variant<int, std::string> port =
      ParsePort(text, port_text, std::string(host) + ":8080");
  if (std::string* error = std::get_if<std::string>(&port)) return *error;

  ListenAddress address;
  address.family = ListenAddress::Family::kInet;
  address.port = std::get<int>(port);
  if (host == "*") {
    address.host = "0.0.0.0";
  } else if (Lowered(host) == "localhost") {
    address.host = "127.0.0.1";
  } else if (std::optional<std::string> canonical = Canonical(AF_INET, host)) {
    address.host = *canonical;
  } else if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    return quoted + ": " + Quoted(host) +
           " is not an IPv4 address; write four numbers from 0 to 255 "
           "without leading zeros, like \"127.0.0.1\"";
  } else {
    const std::string port_part = Concat({":", port_text});
    return quoted +
           ": host names are not resolved; use a numeric address such as " +
           Quoted("127.0.0.1" + port_part) + " (or " +
           Quoted("localhost" + port_part) + "), or " +
           Quoted("*" + port_part) + " for every address";
  }
  return address;
}

}  // namespace

std::string ListenAddress::ToString() const {
  switch (family) {
    case Family::kInet:
      return host + ":" + std::to_string(port);
    case Family::kInet6:
      return "[" + host + "]:" + std::to_string(port);
    case Family::kUnix:
      return std::string(kUnixPrefix) + path;
  }
  return "";
}

std::variant<ListenAddress, std::string> ParseListenAddress(
    std::string_view text) {
  if (text.empty()) {
    return "an empty string is not an address: write " + std::string(kForms);
  }
  if (text.starts_with(kUnixPrefix)) return ParseUnix(text);
  const std::string quoted = Quoted(text);
  if (Lowered(text.substr(0, kUnixPrefix.size())) == kUnixPrefix) {
    return quoted + ": write the prefix in lower case, " +
           Quoted(std::string(kUnixPrefix) +
                  std::string(text.substr(kUnixPrefix.size())));
  }
  if (const std::size_t scheme = text.find("://");
      scheme != std::string_view::npos) {
    std::string_view rest = text.substr(scheme + 3);
    rest = rest.substr(0, rest.find('/'));
    return quoted + " is a URL, not an address: " + WriteInstead(rest);
  }
  if (text.front() == '/' || text.starts_with("./") ||
      text.starts_with("../")) {
    return quoted + " looks like a path: write " +
           Quoted(std::string(kUnixPrefix) + std::string(text)) +
           " for a Unix socket";
  }
  if (HasSpace(text)) {
    std::string fixed(text);
    std::erase_if(fixed, [](unsigned char c) { return std::isspace(c); });
    return quoted + " must not contain spaces: " + WriteInstead(fixed);
  }
  if (text.front() == '[') return ParseBracketed(text);
  return ParseHostPort(text);
}

}  // namespace workerd
