#include "daemon/watch_pattern.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>

namespace workerd {
namespace {

constexpr std::size_t kNone = std::string_view::npos;

// The segments of a path, without the empty ones of "//" and without ".".
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (!segment.empty() && segment != ".") segments.push_back(segment);
    if (slash == kNone) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool HasWildcard(std::string_view segment) {
  return segment.find_first_of("*?[") != kNone;
}

// The class opening at `pattern[open]` ("[") judged against `c`.
struct ClassScan {
  std::size_t end = kNone;  // just past the "]"; kNone when never closed
  bool matched = false;
  bool reversed = false;  // has a range such as "z-a"
};

ClassScan ScanClass(std::string_view pattern, std::size_t open, char c) {
  ClassScan scan;
  std::size_t i = open + 1;
  bool negated = i < pattern.size() && pattern[i] == '!';
  if (negated) ++i;
  bool in_class = false;
  bool first = true;
  while (i < pattern.size()) {
    if (pattern[i] == ']' && !first) {
      scan.end = i + 1;
      scan.matched = in_class != negated;
      return scan;
    }
    first = false;
    auto low = static_cast<unsigned char>(pattern[i]);
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' &&
        pattern[i + 2] != ']') {
      auto high = static_cast<unsigned char>(pattern[i + 2]);
      auto u = static_cast<unsigned char>(c);
      if (low > high) scan.reversed = true;
      if (low <= u && u <= high) in_class = true;
      i += 3;
    } else {
      if (pattern[i] == c) in_class = true;
      ++i;
    }
  }
  return scan;
}

// One segment of a pattern against one segment of a path. A "*" that
// fails to lead to a match is retried one character further on; only the
// last "*" needs retrying, which keeps this linear in practice.
bool MatchSegment(std::string_view pattern, std::string_view name) {
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star_p = kNone;
  std::size_t star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size()) {
      char c = pattern[p];
      if (c == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;
        star_p = p;
        star_n = n;
        continue;
      }
      if (c == '?') {
        ++p;
        ++n;
        continue;
      }
      if (c == '[') {
        ClassScan scan = ScanClass(pattern, p, name[n]);
        if (scan.matched) {
          p = scan.end;
          ++n;
          continue;
        }
      } else if (c == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star_p == kNone) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Why a segment's classes are wrong, or "" when they are fine.
std::string CheckClasses(std::string_view written, std::string_view segment) {
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '[') continue;
    ClassScan scan = ScanClass(segment, i, '\0');
    if (scan.end == kNone) {
      return fmt::format("\"{}\" has a \"[\" that is never closed by \"]\"",
                         written);
    }
    if (scan.reversed) {
      return fmt::format(
          "\"{}\" has a range in \"{}\" that runs backwards; write its lower "
          "character first",
          written, segment.substr(i, scan.end - i));
    }
    i = scan.end - 1;
  }
  return "";
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

// Why a file name is one nobody means to watch.
bool IsEditorFile(std::string_view name) {
  // Backups of emacs, gedit, kate and vim with 'backup' set: "app.py~".
  if (EndsWith(name, "~")) return true;
  // Vim's swap files; ".swo" and ".swx" are the names it picks when
  // ".swp" is taken, or to probe the directory.
  if (EndsWith(name, ".swp") || EndsWith(name, ".swo") ||
      EndsWith(name, ".swx")) {
    return true;
  }
  // Written and then renamed over the real file by editors and tools.
  if (EndsWith(name, ".tmp")) return true;
  // Emacs's lock files, ".#app.py", dangling symlinks while a buffer is
  // modified.
  if (name.starts_with(".#")) return true;
  // Emacs's auto-save files, "#app.py#".
  if (name.size() >= 2 && name.front() == '#' && name.back() == '#') {
    return true;
  }
  // Vim creates and deletes "4913" to learn whether it may write to the
  // directory before it saves.
  if (name == "4913") return true;
  // Kate's swap files.
  if (EndsWith(name, ".kate-swp")) return true;
  return false;
}

}  // namespace

std::variant<WatchPattern, std::string> WatchPattern::Parse(
    std::string_view written) {
  if (written.find('\0') != kNone) {
    return std::string("the pattern contains a NUL character");
  }
  if (written.empty()) {
    return std::string(
        "the pattern is empty; write a path relative to the program's "
        "directory, such as \"src/**/*.py\"");
  }
  if (written.front() == '/') {
    return fmt::format(
        "watch paths are relative to the program's directory; \"{}\" is "
        "absolute",
        written);
  }
  WatchPattern pattern;
  std::vector<std::string_view> segments = SplitPath(written);
  for (std::string_view segment : segments) {
    if (segment == "..") {
      return fmt::format(
          "\"{}\" has a \"..\" segment, which would leave the program's "
          "directory",
          written);
    }
    if (std::string problem = CheckClasses(written, segment);
        !problem.empty()) {
      return problem;
    }
    pattern.segments_.emplace_back(segment);
  }
  if (pattern.segments_.empty()) {
    return fmt::format(
        "\"{}\" names the program's directory itself; write \"**\" to watch "
        "everything in it",
        written);
  }
  pattern.ends_in_slash_ =
      written.back() == '/' || written == "." || EndsWith(written, "/.");
  pattern.covers_descendants_ =
      pattern.ends_in_slash_ ||
      std::none_of(pattern.segments_.begin(), pattern.segments_.end(),
                   [](const std::string& s) { return HasWildcard(s); });
  return pattern;
}

bool WatchPattern::Matches(std::string_view relative_path) const {
  std::vector<std::string_view> path = SplitPath(relative_path);
  const std::size_t pattern_size = segments_.size();
  const std::size_t path_size = path.size();
  // rest[i][j]: segments_[i..] match path[j..]. Filled from the end, so a
  // "**" costs one pass instead of a backtracking search.
  std::vector<std::vector<char>> rest(pattern_size + 1,
                                      std::vector<char>(path_size + 1, 0));
  for (std::size_t j = 0; j <= path_size; ++j) {
    rest[pattern_size][j] = j == path_size || covers_descendants_;
  }
  for (std::size_t i = pattern_size; i-- > 0;) {
    for (std::size_t j = path_size + 1; j-- > 0;) {
      if (segments_[i] == "**") {
        rest[i][j] = rest[i + 1][j] || (j < path_size && rest[i][j + 1]);
      } else {
        rest[i][j] = j < path_size && MatchSegment(segments_[i], path[j]) &&
                     rest[i + 1][j + 1];
      }
    }
  }
  return rest[0][0];
}

std::string WatchPattern::Root() const {
  std::size_t plain = 0;
  while (plain < segments_.size() && !HasWildcard(segments_[plain])) ++plain;
  if (plain == segments_.size() && !ends_in_slash_) --plain;
  std::string root;
  for (std::size_t i = 0; i < plain; ++i) {
    if (i > 0) root += '/';
    root += segments_[i];
  }
  return root;
}

std::string WatchPattern::ToString() const {
  std::string text;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (i > 0) text += '/';
    text += segments_[i];
  }
  if (ends_in_slash_) text += '/';
  return text;
}

bool IgnoredByDefault(std::string_view relative_path) {
  // Version control metadata changes on every commit and status; Python
  // writes __pycache__ on import and package managers fill node_modules,
  // so watching them would restart a program because it ran.
  static constexpr std::array<std::string_view, 5> kDirectories = {
      ".git", ".hg", ".svn", "__pycache__", "node_modules"};
  std::vector<std::string_view> segments = SplitPath(relative_path);
  if (segments.empty()) return false;
  for (std::string_view segment : segments) {
    if (std::find(kDirectories.begin(), kDirectories.end(), segment) !=
        kDirectories.end()) {
      return true;
    }
  }
  return IsEditorFile(segments.back());
}

bool WatchMatters(const std::vector<WatchPattern>& watch,
                  const std::vector<WatchPattern>& ignore,
                  std::string_view relative_path) {
  if (IgnoredByDefault(relative_path)) return false;
  auto matches = [relative_path](const WatchPattern& pattern) {
    return pattern.Matches(relative_path);
  };
  if (std::any_of(ignore.begin(), ignore.end(), matches)) return false;
  return std::any_of(watch.begin(), watch.end(), matches);
}

}  // namespace workerd
