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

// Version control metadata changes on every commit and status; Python
// writes __pycache__ on import, package managers fill node_modules and
// .venv, test runners and type checkers their caches, and IDEs their
// settings whenever a window moves, so watching them would restart a
// program because it ran, or because someone looked at it.
bool IsIgnoredDirectory(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kDirectories = {
      ".git",        ".hg",   ".svn",          ".bzr",
      "__pycache__", ".venv", "node_modules",  ".tox",
      ".mypy_cache", ".idea", ".pytest_cache", ".vscode"};
  return std::find(kDirectories.begin(), kDirectories.end(), name) !=
         kDirectories.end();
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
        "\"{}\" is absolute; patterns are relative to the program's "
        "directory (write \"./name\" for a name only at its top)",
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
  // gitignore's rule: one name (a trailing "/" aside) is found at any
  // depth, unless a "./" in front says otherwise.
  pattern.anchored_ = pattern.segments_.size() > 1 || written.starts_with("./");
  if (!pattern.anchored_) {
    pattern.segments_.insert(pattern.segments_.begin(), "**");
  }
  return pattern;
}

// Matching runs the pattern as a small automaton over the path's
// segments: the states are the indexes of the pattern segment to match
// next, a "**" may match nothing (so its state also enables the next one)
// or one more segment (so it stays). Linear in the path's length times the
// pattern's, with no backtracking.
std::vector<char> WatchPattern::Walk(const std::vector<std::string_view>& path,
                                     bool* covered) const {
  const std::size_t size = segments_.size();
  auto close = [&](std::vector<char>& states) {
    for (std::size_t i = 0; i < size; ++i) {
      if (states[i] && segments_[i] == "**") states[i + 1] = 1;
    }
  };
  std::vector<char> states(size + 1, 0);
  states[0] = 1;
  close(states);
  *covered = false;
  for (std::string_view segment : path) {
    std::vector<char> next(size + 1, 0);
    for (std::size_t i = 0; i < size; ++i) {
      if (!states[i]) continue;
      if (segments_[i] == "**") {
        next[i] = 1;
      } else if (MatchSegment(segments_[i], segment)) {
        next[i + 1] = 1;
      }
    }
    close(next);
    states = std::move(next);
    if (states[size] && covers_descendants_) *covered = true;
  }
  return states;
}

bool WatchPattern::Matches(std::string_view relative_path) const {
  bool covered = false;
  std::vector<char> states = Walk(SplitPath(relative_path), &covered);
  return covered || states.back();
}

bool WatchPattern::MayMatchUnder(std::string_view relative_dir) const {
  bool covered = false;
  std::vector<char> states = Walk(SplitPath(relative_dir), &covered);
  // A segment still to match can match some name.
  return covered ||
         std::find(states.begin(), states.end() - 1, 1) != states.end() - 1;
}

bool WatchPattern::MatchesAllUnder(std::string_view relative_dir) const {
  bool covered = false;
  std::vector<char> states = Walk(SplitPath(relative_dir), &covered);
  if (covered) return true;
  // Only "**" left to match: they take whatever comes.
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (!states[i]) continue;
    if (std::all_of(segments_.begin() + static_cast<std::ptrdiff_t>(i),
                    segments_.end(),
                    [](const std::string& s) { return s == "**"; })) {
      return true;
    }
  }
  return false;
}

std::string WatchPattern::Root() const {
  if (!anchored_) return "";
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
  // A single anchored name needs its "./" to stay anchored.
  std::string text = anchored_ && segments_.size() == 1 ? "./" : "";
  for (std::size_t i = anchored_ ? 0 : 1; i < segments_.size(); ++i) {
    if (!text.empty() && text.back() != '/') text += '/';
    text += segments_[i];
  }
  if (ends_in_slash_) text += '/';
  return text;
}

bool IgnoredByDefault(std::string_view relative_path) {
  std::vector<std::string_view> segments = SplitPath(relative_path);
  if (segments.empty()) return false;
  return std::any_of(segments.begin(), segments.end(), IsIgnoredDirectory) ||
         IsEditorFile(segments.back());
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

bool WatchDirectoryMatters(const std::vector<WatchPattern>& watch,
                           const std::vector<WatchPattern>& ignore,
                           std::string_view relative_dir) {
  std::vector<std::string_view> segments = SplitPath(relative_dir);
  if (std::any_of(segments.begin(), segments.end(), IsIgnoredDirectory)) {
    return false;
  }
  if (std::any_of(ignore.begin(), ignore.end(),
                  [relative_dir](const WatchPattern& pattern) {
                    return pattern.MatchesAllUnder(relative_dir);
                  })) {
    return false;
  }
  return std::any_of(watch.begin(), watch.end(),
                     [relative_dir](const WatchPattern& pattern) {
                       return pattern.MayMatchUnder(relative_dir);
                     });
}

}  // namespace workerd
