// The placeholders of command words and env values: "{instance}" (the slot
// number, 0-based and stable across restarts) and "{program}" (the program's
// name). Nothing else is special: other braces, "{{", "$VAR" stay as written,
// so JSON or format strings in arguments pass through untouched.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace workerd {

// `text` with every "{instance}" and "{program}" replaced, in one left to
// right pass (replacements are not scanned again).
std::string ExpandPlaceholders(std::string_view text,
                               const std::string& program, int instance);

struct Misspelling {
  std::string written;  // "{instnace}"
  std::string meant;    // "{instance}"
};

// The first "{word}" in `text` that is not a placeholder but is spelled
// nearly like one ("{instnace}", "{Program}"). The config loader rejects
// those rather than pass them on literally.
std::optional<Misspelling> FindMisspelledPlaceholder(std::string_view text);

}  // namespace workerd
