// The path patterns of development mode's `watch` and `ignore`, and the
// judgement whether a changed file matters to a program. Pure: no I/O, so
// whether a plain name is a file or a directory is never looked up.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace workerd {

// A pattern of `watch` or `ignore`, relative to the program's directory.
//
// Syntax, segment by segment ("/" separates segments):
//   *      any run of characters within one segment, never "/"
//   ?      one character, never "/"
//   [abc]  one of the characters; [a-z] a range; [!abc] none of them;
//          a "]" right after "[" or "[!" is a literal one
//   **     as a whole segment: zero or more segments; elsewhere it is "*"
// `*`, `?` and classes match a leading "." like any character.
//
// A pattern is anchored at the program's directory: "*.py" is "app.py",
// not "lib/app.py" (write "**/*.py" for that). It matches a path when its
// segments match all of the path's, and also every path under one it
// matches when it names a directory: when it ends in "/" ("templates/"),
// or when it has no wildcard at all ("templates" matches "templates" and
// "templates/a/b.html", as nothing but I/O could tell a file from a
// directory).
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

  // The directory to watch recursively so that every path the pattern can
  // match is under it, relative to the program's directory; "" is the
  // program's directory itself. It is the longest leading run of segments
  // without wildcards, less the last segment unless the pattern ends in
  // "/":
  //   "src/**/*.py" -> "src", "src/a.py" -> "src", "templates/" ->
  //   "templates", "a/b/" -> "a/b", "*.py" -> "", "app.py" -> "",
  //   "templates" -> "" (it may be a file, whose parent is watched).
  std::string Root() const;

  // The normalised pattern: "./src//a.py" is "src/a.py", "tmp/" stays
  // "tmp/".
  std::string ToString() const;

 private:
  WatchPattern() = default;

  std::vector<std::string> segments_;
  // Ends in "/" or has no wildcard: paths under a match match too.
  bool covers_descendants_ = false;
  bool ends_in_slash_ = false;
};

// Whether the path is one nobody means to watch: any segment is version
// control metadata (".git", ".hg", ".svn") or a directory that tools
// rewrite on their own ("__pycache__", "node_modules"), or the file name
// is an editor's temporary, swap, lock or backup file ("x~", "x.swp",
// "x.swo", "x.swx", "x.tmp", ".#x", "#x#", "4913", "x.kate-swp").
bool IgnoredByDefault(std::string_view relative_path);

// Whether a change of `relative_path` matters to a program: not when it is
// ignored by default or matches an `ignore` pattern (ignoring wins),
// otherwise when it matches any `watch` pattern.
bool WatchMatters(const std::vector<WatchPattern>& watch,
                  const std::vector<WatchPattern>& ignore,
                  std::string_view relative_path);

}  // namespace workerd
