// The path patterns of development mode's `watch` and `ignore`, and the
// judgement whether a changed file matters to a program. Pure: no I/O, so
// whether a plain name is a file or a directory is never looked up.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace workerd {

// A pattern of `watch` or `ignore`, relative to the program's directory
// (ProgramSpec::watch_directory).
//
// Syntax, segment by segment ("/" separates segments):
//   *      any run of characters within one segment, never "/"
//   ?      one character, never "/"
//   [abc]  one of the characters; [a-z] a range; [!abc] none of them;
//          a "]" right after "[" or "[!" is a literal one
//   **     as a whole segment: zero or more segments; elsewhere it is "*"
// `*`, `?` and classes match a leading "." like any character.
//
// Anchoring is gitignore's: a pattern of one segment ("*.py", "app.py",
// "__pycache__/"; a trailing "/" does not count) matches that name at any
// depth, as if written "**/*.py"; a pattern with a "/" before its last
// segment ("src/*.py", "src/**/*.py") is anchored at the program's
// directory. "./" in front anchors a single name: "./app.py" is only the
// one at the top.
//
// A pattern matches a path when its segments match all of the path's, and
// also every path under one it matches when it names a directory: when it
// ends in "/" ("templates/"), or when it has no wildcard at all
// ("templates" matches "templates" and "templates/a/b.html", as nothing
// but I/O could tell a file from a directory). A pattern with a wildcard
// and no trailing "/" covers nothing under a match: "*.d" matches
// "conf.d", not "conf.d/a".
//
// Leading "./" and "." segments are dropped and repeated "/" collapse, so
// "./src//a.py" is "src/a.py".
class WatchPattern {
 public:
  // The pattern as written, or a sentence saying what is wrong with it:
  // empty, absolute, with a ".." segment, with an unclosed "[" or a
  // reversed range, with a NUL, or naming only the program's directory.
  static std::variant<WatchPattern, std::string> Parse(
      std::string_view written);

  // Whether `relative_path` (relative to the program's directory, with
  // "/"; empty and "." segments are skipped) matches the pattern.
  bool Matches(std::string_view relative_path) const;

  // Whether some path strictly under the directory `relative_dir` could
  // match: the directory has to be watched for this pattern. True for ""
  // (the program's directory).
  bool MayMatchUnder(std::string_view relative_dir) const;

  // Whether every path strictly under the directory `relative_dir`
  // matches: an `ignore` pattern for which this holds spares watching the
  // directory at all ("tmp/", "build/**", "__pycache__/").
  bool MatchesAllUnder(std::string_view relative_dir) const;

  // Whether the pattern is anchored at the program's directory (see
  // above).
  bool Anchored() const { return anchored_; }

  // The directory under which every path the pattern can match lies,
  // relative to the program's directory; "" is the program's directory
  // itself, and is the root of every pattern that is not anchored. For an
  // anchored pattern it is the longest leading run of segments without
  // wildcards, less the last segment unless the pattern ends in "/":
  //   "src/**/*.py" -> "src", "src/a.py" -> "src", "./templates/" ->
  //   "templates", "a/b/" -> "a/b", "./app.py" -> "", "**/*.py" -> "",
  //   and "*.py", "templates/", "templates" -> "" (any depth).
  // The config loader checks that a root other than "" exists.
  std::string Root() const;

  // The normalised pattern, which parses back to the same one:
  // "./src//a.py" is "src/a.py", "tmp/" stays "tmp/", "./app.py" keeps its
  // "./" (it is what anchors it).
  std::string ToString() const;

 private:
  WatchPattern() = default;

  // Which of segments_ may match next once `path`'s segments are matched
  // (index segments_.size(): all of them matched); `*covered` tells
  // whether the pattern matched a non-empty leading part of the path (the
  // whole of it included) and covers what is under a match.
  std::vector<char> Walk(const std::vector<std::string_view>& path,
                         bool* covered) const;

  // The segments as matched: an unanchored pattern starts with a "**" of
  // its own, which ToString leaves out.
  std::vector<std::string> segments_;
  bool anchored_ = true;
  // Ends in "/" or has no wildcard: paths under a match match too.
  bool covers_descendants_ = false;
  bool ends_in_slash_ = false;
};

// Whether the path is one nobody means to watch: any segment is version
// control metadata (".git", ".hg", ".svn", ".bzr"), a directory that tools
// rewrite on their own ("__pycache__", "node_modules", ".venv", ".tox",
// ".mypy_cache", ".pytest_cache") or an editor's settings (".idea",
// ".vscode"), or the file name is an editor's temporary, swap, lock or
// backup file ("x~", "x.swp", "x.swo", "x.swx", "x.tmp", ".#x", "#x#",
// "4913", "x.kate-swp").
bool IgnoredByDefault(std::string_view relative_path);

// Whether a change of `relative_path` matters to a program: not when it is
// ignored by default or matches an `ignore` pattern (ignoring wins),
// otherwise when it matches any `watch` pattern.
bool WatchMatters(const std::vector<WatchPattern>& watch,
                  const std::vector<WatchPattern>& ignore,
                  std::string_view relative_path);

// Whether a change under the directory `relative_dir` can matter to a
// program, so that the directory is worth an inotify watch: not when a
// segment of it is one of the directories IgnoredByDefault names, nor when
// an `ignore` pattern matches everything under it, nor when no `watch`
// pattern can match anything under it. True for "" when anything is
// watched.
bool WatchDirectoryMatters(const std::vector<WatchPattern>& watch,
                           const std::vector<WatchPattern>& ignore,
                           std::string_view relative_dir);

}  // namespace workerd
