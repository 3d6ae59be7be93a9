#include "daemon/expand.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "daemon/suggest.h"
#include "daemon/toml_reader.h"  // Header

namespace workerd {
namespace {

constexpr std::string_view kInstance = "{instance}";
constexpr std::string_view kProgram = "{program}";
constexpr std::string_view kFdPrefix = "{fd:";

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Whether `text` starts with "{fd:NAME}" ("{fd:" in any case when
// `ignore_case`): its length, with `*name` set, or 0. NAME is whatever
// comes before the next "}", as long as it holds no "{".
std::size_t FdPlaceholderAt(std::string_view text, bool ignore_case,
                            std::string_view* name) {
  const std::string_view prefix = text.substr(0, kFdPrefix.size());
  if (!(ignore_case ? EqualsIgnoringCase(prefix, kFdPrefix)
                    : prefix == kFdPrefix)) {
    return 0;
  }
  const std::size_t close = text.find_first_of("{}", kFdPrefix.size());
  if (close == std::string_view::npos || text[close] != '}') return 0;
  *name = text.substr(kFdPrefix.size(), close - kFdPrefix.size());
  return close + 1;
}

// Why "{fd:NAME}" does not name one of the program's `sockets`.
std::string UnknownFdMessage(const std::string& socket,
                             const std::vector<std::string>& sockets,
                             const std::vector<std::string>& declared_names) {
  auto fd = [](std::string_view name) {
    return Quoted("{fd:" + std::string(name) + "}");
  };
  if (socket.empty()) {
    return fd(socket) +
           " has no socket name; write \"{fd:NAME}\" with NAME one of the "
           "program's sockets";
  }
  const bool declared = std::find(declared_names.begin(), declared_names.end(),
                                  socket) != declared_names.end();
  if (sockets.empty() && !declared) {
    return fd(socket) +
           " names a socket, but the program has none; "
           "declare " +
           Header("socket", socket) + " and list it in sockets = [" +
           Quoted(socket) + "]";
  }
  std::string message = fd(socket) + " is not one of the program's sockets";
  if (const std::optional<std::string> meant = Suggest(socket, sockets)) {
    return message + " (did you mean " + fd(*meant) + "?)";
  }
  if (declared) {
    return message + "; add " + Quoted(socket) +
           " to its sockets to pass it to the workers";
  }
  message += "; they are ";
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    if (i > 0) message += ", ";
    message += Quoted(sockets[i]);
  }
  return message;
}

}  // namespace

std::string ExpandPlaceholders(std::string_view text,
                               const PlaceholderValues& values) {
  std::string expanded;
  expanded.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::string_view rest = text.substr(i);
    if (rest.starts_with(kInstance)) {
      expanded += std::to_string(values.instance);
      i += kInstance.size();
      continue;
    }
    if (rest.starts_with(kProgram)) {
      expanded += values.program;
      i += kProgram.size();
      continue;
    }
    std::string_view name;
    if (const std::size_t length = FdPlaceholderAt(rest, false, &name);
        length > 0 && values.sockets != nullptr) {
      const auto socket =
          std::find(values.sockets->begin(), values.sockets->end(), name);
      if (socket != values.sockets->end()) {
        expanded +=
            std::to_string(kFirstSocketFd + (socket - values.sockets->begin()));
        i += length;
        continue;
      }
    }
    expanded += text[i++];
  }
  return expanded;
}

std::optional<Misspelling> FindMisspelledPlaceholder(std::string_view text) {
  static constexpr std::array<std::string_view, 2> kNames = {kInstance,
                                                             kProgram};
  for (std::size_t open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    const std::string_view rest = text.substr(open);
    std::string_view name;
    // "{FD:http}": "{fd:" in another case.
    if (const std::size_t length = FdPlaceholderAt(rest, true, &name);
        length > 0 && !rest.starts_with(kFdPrefix)) {
      return Misspelling{std::string(rest.substr(0, length)),
                         std::string(kFdPrefix) + std::string(name) + "}"};
    }
    std::size_t end = open + 1;
    while (end < text.size() && IsWordChar(text[end])) ++end;
    if (end == open + 1 || end == text.size() || text[end] != '}') continue;
    const std::string_view candidate = text.substr(open, end - open + 1);
    if (candidate == kInstance || candidate == kProgram) continue;
    // "{fd}": the socket's name is missing.
    if (EqualsIgnoringCase(candidate, "{fd}")) {
      return Misspelling{std::string(candidate), "{fd:NAME}"};
    }
    if (std::optional<std::string> meant = Suggest(candidate, kNames)) {
      return Misspelling{std::string(candidate), *meant};
    }
  }
  return std::nullopt;
}

std::optional<std::string> FindUnknownFdPlaceholder(
    std::string_view text, const std::vector<std::string>& sockets) {
  for (std::size_t open = text.find(kFdPrefix); open != std::string_view::npos;
       open = text.find(kFdPrefix, open + 1)) {
    std::string_view name;
    if (FdPlaceholderAt(text.substr(open), false, &name) == 0) continue;
    if (std::find(sockets.begin(), sockets.end(), name) == sockets.end()) {
      return std::string(name);
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckPlaceholders(
    std::string_view text, const std::vector<std::string>& sockets,
    const std::vector<std::string>& declared) {
  if (const std::optional<Misspelling> wrong =
          FindMisspelledPlaceholder(text)) {
    return Quoted(wrong->written) + " is not a placeholder (did you mean " +
           Quoted(wrong->meant) +
           "?); only {instance}, {program} and {fd:NAME} are replaced";
  }
  if (const std::optional<std::string> unknown =
          FindUnknownFdPlaceholder(text, sockets)) {
    return UnknownFdMessage(*unknown, sockets, declared);
  }
  return std::nullopt;
}

}  // namespace workerd
