#include "daemon/expand.h"

#include <array>

#include "daemon/suggest.h"

namespace workerd {
namespace {

constexpr std::string_view kInstance = "{instance}";
constexpr std::string_view kProgram = "{program}";

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

}  // namespace

std::string ExpandPlaceholders(std::string_view text,
                               const std::string& program, int instance) {
  std::string expanded;
  expanded.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::string_view rest = text.substr(i);
    if (rest.starts_with(kInstance)) {
      expanded += std::to_string(instance);
      i += kInstance.size();
    } else if (rest.starts_with(kProgram)) {
      expanded += program;
      i += kProgram.size();
    } else {
      expanded += text[i++];
    }
  }
  return expanded;
}

std::optional<Misspelling> FindMisspelledPlaceholder(std::string_view text) {
  static constexpr std::array<std::string_view, 2> kNames = {kInstance,
                                                             kProgram};
  for (std::size_t open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    std::size_t end = open + 1;
    while (end < text.size() && IsWordChar(text[end])) ++end;
    if (end == open + 1 || end == text.size() || text[end] != '}') continue;
    const std::string_view candidate = text.substr(open, end - open + 1);
    if (candidate == kInstance || candidate == kProgram) continue;
    if (std::optional<std::string> meant = Suggest(candidate, kNames)) {
      return Misspelling{std::string(candidate), *meant};
    }
  }
  return std::nullopt;
}

}  // namespace workerd
