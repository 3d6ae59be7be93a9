#include "daemon/suggest.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace workerd {
namespace {

constexpr std::size_t kMaxQuotedBytes = 80;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

}  // namespace

std::string Lowered(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), Lower);
  return lower;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return Lower(x) == Lower(y); });
}

// Optimal string alignment distance: Levenshtein plus transpositions, which
// are the most common typing mistake ("deamon").
std::size_t EditDistance(std::string_view a, std::string_view b) {
  const std::size_t columns = b.size() + 1;
  // Three rows: two back (for transpositions), one back, and the current one.
  std::vector<std::size_t> before(columns), previous(columns), current(columns);
  std::iota(previous.begin(), previous.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min(
          {previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> Suggest(
    std::string_view word, std::span<const std::string_view> candidates) {
  if (word.size() < 2) return std::nullopt;
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  const std::string lower_word = Lowered(word);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    if (candidate == word) continue;
    const std::size_t distance = EditDistance(lower_word, Lowered(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

std::optional<std::string> Suggest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return Suggest(word, std::span<const std::string_view>(views));
}

std::string Quoted(std::string_view text) {
  std::string quoted = "\"";
  std::size_t shown = std::min(text.size(), kMaxQuotedBytes);
  // Never cut a UTF-8 sequence in half.
  while (shown < text.size() && shown > 0 &&
         (static_cast<unsigned char>(text[shown]) & 0xC0) == 0x80) {
    --shown;
  }
  for (char c : text.substr(0, shown)) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04X",
                        static_cast<unsigned char>(c));
          quoted += escaped;
        } else {
          quoted += c;
        }
    }
  }
  if (shown < text.size()) quoted += "...";
  quoted += '"';
  return quoted;
}

}  // namespace workerd
