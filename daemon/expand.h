// The placeholders of command words and env values: "{instance}" (the slot
// number, 0-based and stable across restarts), "{program}" (the program's
// name) and "{fd:NAME}" (the fd number at which the worker gets the socket
// NAME of its program's `sockets`: 3 for the first, 4 for the next, ...).
// Nothing else is special: other braces, "{{", "$VAR" stay as written, so
// JSON or format strings in arguments pass through untouched.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workerd {

// The first socket of a worker is at this fd; the others follow in order.
inline constexpr int kFirstSocketFd = 3;

struct PlaceholderValues {
  std::string_view program;
  int instance = 0;
  const std::vector<std::string>* sockets = nullptr;  // the program's `sockets`
};

// `text` with every "{instance}", "{program}" and "{fd:NAME}" replaced, in
// one left to right pass (replacements are not scanned again). A
// "{fd:NAME}" whose NAME is not in `values.sockets` (or with no sockets)
// stays as written; the config loader rejects those
// (FindUnknownFdPlaceholder).
std::string ExpandPlaceholders(std::string_view text,
                               const PlaceholderValues& values);

// For a program without sockets: "{fd:NAME}" stays as written.
inline std::string ExpandPlaceholders(std::string_view text,
                                      const std::string& program,
                                      int instance) {
  return ExpandPlaceholders(text, PlaceholderValues{program, instance});
}

struct Misspelling {
  std::string written;  // "{instnace}"
  std::string meant;    // "{instance}"
};

// The first "{word}" in `text` that is not a placeholder but is spelled
// nearly like one ("{instnace}", "{Program}", "{fd}" for "{fd:NAME}",
// "{FD:http}" for "{fd:http}"). The config loader rejects those rather
// than pass them on literally. A well-formed "{fd:NAME}" is never one,
// whatever NAME is: see FindUnknownFdPlaceholder.
std::optional<Misspelling> FindMisspelledPlaceholder(std::string_view text);

// The NAME of the first "{fd:NAME}" in `text` whose NAME is not one of
// `sockets` ("" for "{fd:}"), or nullopt when every one is.
std::optional<std::string> FindUnknownFdPlaceholder(
    std::string_view text, const std::vector<std::string>& sockets);

// Why `text`, a command word or env value of a program, would not expand
// as its author meant: a sentence for after "command: " or "env.NAME: "
// about its first misspelled placeholder (FindMisspelledPlaceholder) or
// "{fd:NAME}" that is not one of `sockets` (the program's), with a fix.
// `declared` are the names of every [socket.NAME] of the file, so that the
// fix can say whether to declare the socket or list it. nullopt when every
// placeholder is right.
std::optional<std::string> CheckPlaceholders(
    std::string_view text, const std::vector<std::string>& sockets,
    const std::vector<std::string>& declared);

}  // namespace workerd
