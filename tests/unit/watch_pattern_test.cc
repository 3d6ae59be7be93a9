// The patterns of `watch` and `ignore`: every wildcard, the directory
// rules, the roots to watch, the parse errors with their exact sentences,
// the files ignored by default, and which of watch and ignore wins.
#include "daemon/watch_pattern.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace workerd {
namespace {

WatchPattern Pattern(std::string_view written) {
  auto parsed = WatchPattern::Parse(written);
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << "\"" << written << "\" does not parse: " << *error;
    return std::get<WatchPattern>(WatchPattern::Parse("never-parsed"));
  }
  return std::get<WatchPattern>(parsed);
}

std::string ParseError(std::string_view written) {
  auto parsed = WatchPattern::Parse(written);
  if (const auto* error = std::get_if<std::string>(&parsed)) return *error;
  return "(parsed)";
}

struct MatchCase {
  std::string_view pattern;
  std::string_view path;
  bool matches;
};

void ExpectMatches(const std::vector<MatchCase>& cases) {
  for (const MatchCase& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " against " + std::string(c.path));
    EXPECT_EQ(Pattern(c.pattern).Matches(c.path), c.matches);
  }
}

TEST(WatchPatternTest, StarStaysWithinOneSegment) {
  ExpectMatches({
      {"*.py", "app.py", true},
      {"*.py", ".py", true},
      {"*.py", ".hidden.py", true},
      {"*.py", "app.pyc", false},
      {"*.py", "lib/app.py", false},  // anchored at the program's directory
      {"src/*.py", "src/a.py", true},
      {"src/*.py", "src/x/a.py", false},
      {"a*b*c", "abc", true},
      {"a*b*c", "aXbYbZc", true},
      {"a*b*c", "aXbYc/d", false},
      {"a*b*c", "acb", false},
      {"src/*", "src/a", true},
      {"src/*", "src/a/b", false},
      {"*", "anything", true},
  });
}

TEST(WatchPatternTest, QuestionMarkIsOneCharacter) {
  ExpectMatches({
      {"a?.py", "ab.py", true},
      {"a?.py", "a.py", false},
      {"a?.py", "abc.py", false},
      {"a?b", "a/b", false},
  });
}

TEST(WatchPatternTest, Classes) {
  ExpectMatches({
      {"[abc].py", "a.py", true},
      {"[abc].py", "c.py", true},
      {"[abc].py", "d.py", false},
      {"v[0-9].txt", "v7.txt", true},
      {"v[0-9].txt", "vx.txt", false},
      {"[a-cx].py", "x.py", true},
      {"[a-cx].py", "b.py", true},
      {"[a-cx].py", "d.py", false},
      {"[!abc].py", "d.py", true},
      {"[!abc].py", "a.py", false},
      {"[!0-9]x", "ax", true},
      {"[!0-9]x", "5x", false},
      {"[]a]", "]", true},
      {"[]a]", "a", true},
      {"[!]]", "]", false},
      {"[!]]", "x", true},
      {"[a-]", "-", true},
      {"*[0-9]", "file3", true},
      {"*[0-9]", "file", false},
  });
}

TEST(WatchPatternTest, DoubleStarIsZeroOrMoreSegments) {
  ExpectMatches({
      {"src/**/*.py", "src/a.py", true},
      {"src/**/*.py", "src/x/a.py", true},
      {"src/**/*.py", "src/x/y/a.py", true},
      {"src/**/*.py", "srcx/a.py", false},
      {"src/**/*.py", "src/a.pyc", false},
      {"src/**/*.py", "a.py", false},
      {"**/*.py", "a.py", true},
      {"**/*.py", "x/y/a.py", true},
      {"**/*.py", "x/y/a.txt", false},
      {"src/**", "src", true},
      {"src/**", "src/a", true},
      {"src/**", "src/x/y/z", true},
      {"src/**", "srcx", false},
      {"**", "a/b/c", true},
      {"a/**/b/**/c", "a/b/c", true},
      {"a/**/b/**/c", "a/x/b/y/z/c", true},
      {"a/**/b/**/c", "a/x/y/c", false},
      {"a**b", "aXb", true},  // not a whole segment: a "*"
      {"a**b", "aX/Yb", false},
  });
}

TEST(WatchPatternTest, TrailingSlashCoversEverythingUnder) {
  ExpectMatches({
      {"templates/", "templates", true},
      {"templates/", "templates/index.html", true},
      {"templates/", "templates/a/b.html", true},
      {"templates/", "templatesx/a.html", false},
      {"templates/", "other/templates/a.html", false},
      {"*/", "a/b", true},
      {"build-*/", "build-1/x/y", true},
      {"build-*/", "build/x", false},
  });
}

TEST(WatchPatternTest, PlainNamesAreFilesOrDirectories) {
  ExpectMatches({
      {"app.py", "app.py", true},
      {"app.py", "app.pyc", false},
      {"app.py", "lib/app.py", false},
      {"templates", "templates", true},
      {"templates", "templates/a/b.html", true},
      {"templates", "templatesx", false},
      {"lib/util", "lib/util/x.py", true},
      {"lib/util", "lib/utility.py", false},
  });
}

TEST(WatchPatternTest, WildcardPatternsWithoutSlashCoverNothingUnder) {
  ExpectMatches({
      {"*.d", "conf.d", true},
      {"*.d", "conf.d/a", false},
  });
}

TEST(WatchPatternTest, DotSlashAndRepeatedSlashesAreNormalised) {
  ExpectMatches({
      {"./app.py", "app.py", true},
      {"././src//**///*.py", "src/x/a.py", true},
      {"src/./a.py", "src/a.py", true},
      {"app.py", "./app.py", true},
      {"src/*.py", "src//a.py", true},
  });
  EXPECT_EQ(Pattern("./src//a.py").ToString(), "src/a.py");
  EXPECT_EQ(Pattern("tmp//").ToString(), "tmp/");
  EXPECT_EQ(Pattern("src/.").ToString(), "src/");
}

TEST(WatchPatternTest, RootIsTheDirectoryToWatch) {
  struct RootCase {
    std::string_view pattern;
    std::string_view root;
  };
  for (const RootCase& c : std::vector<RootCase>{
           {"src/**/*.py", "src"},
           {"src/*.py", "src"},
           {"src/a.py", "src"},
           {"a/b/c/*.py", "a/b/c"},
           {"a/b*/c.py", "a"},
           {"*.py", ""},
           {"**/*.py", ""},
           {"app.py", ""},
           {"templates", ""},
           {"templates/", "templates"},
           {"a/b/", "a/b"},
           {"a/*/", "a"},
           {"./src//lib/*.py", "src/lib"},
       }) {
    SCOPED_TRACE(c.pattern);
    EXPECT_EQ(Pattern(c.pattern).Root(), c.root);
  }
}

TEST(WatchPatternTest, ParseErrors) {
  EXPECT_EQ(ParseError(""),
            "the pattern is empty; write a path relative to the program's "
            "directory, such as \"src/**/*.py\"");
  EXPECT_EQ(ParseError("/srv/app/*.py"),
            "watch paths are relative to the program's directory; "
            "\"/srv/app/*.py\" is absolute");
  EXPECT_EQ(ParseError("../lib/*.py"),
            "\"../lib/*.py\" has a \"..\" segment, which would leave the "
            "program's directory");
  EXPECT_EQ(ParseError("src/../../x"),
            "\"src/../../x\" has a \"..\" segment, which would leave the "
            "program's directory");
  EXPECT_EQ(ParseError("src/[ab.py"),
            "\"src/[ab.py\" has a \"[\" that is never closed by \"]\"");
  EXPECT_EQ(ParseError("[]"),
            "\"[]\" has a \"[\" that is never closed by \"]\"");
  EXPECT_EQ(ParseError("[!]"),
            "\"[!]\" has a \"[\" that is never closed by \"]\"");
  EXPECT_EQ(ParseError("v[9-0].txt"),
            "\"v[9-0].txt\" has a range in \"[9-0]\" that runs backwards; "
            "write its lower character first");
  EXPECT_EQ(ParseError(std::string_view("a\0b", 3)),
            "the pattern contains a NUL character");
  EXPECT_EQ(ParseError("./"),
            "\"./\" names the program's directory itself; write \"**\" to "
            "watch everything in it");
  EXPECT_EQ(ParseError("."),
            "\".\" names the program's directory itself; write \"**\" to "
            "watch everything in it");
}

TEST(WatchPatternTest, NamesWithDotsAreNotParentSegments) {
  ExpectMatches({
      {"..a/x", "..a/x", true},
      {"a../x", "a../x", true},
  });
}

TEST(IgnoredByDefaultTest, VersionControlAndToolDirectories) {
  for (std::string_view path : {
           ".git",
           ".git/index",
           ".git/objects/ab/cdef",
           "sub/.git/HEAD",
           ".hg/store/x",
           ".svn/entries",
           "__pycache__/app.cpython-312.pyc",
           "lib/__pycache__/x.pyc",
           "node_modules/left-pad/index.js",
           "web/node_modules/a/b.js",
       }) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(IgnoredByDefault(path));
  }
}

TEST(IgnoredByDefaultTest, EditorFiles) {
  for (std::string_view path : {
           "app.py~",
           "src/app.py~",
           ".app.py.swp",
           ".app.py.swo",
           ".app.py.swx",
           "src/.app.py.swp",
           "app.py.tmp",
           ".#app.py",
           "src/.#app.py",
           "#app.py#",
           "src/#app.py#",
           "4913",
           "src/4913",
           "app.py.kate-swp",
       }) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(IgnoredByDefault(path));
  }
}

TEST(IgnoredByDefaultTest, NearMissesAreNotIgnored) {
  for (std::string_view path : {
           "swap.py",
           "git/x",
           "x.git",
           ".gitignore",
           ".github/workflows/ci.yml",
           "a.tmpl",
           "tmp/a.py",
           "swp",
           "a.swp.py",
           "#",
           "#app.py",
           "app.py#",
           "49130",
           "node_modules.txt",
           "pycache/x.py",
           "kate-swp",
           "",
       }) {
    SCOPED_TRACE(path);
    EXPECT_FALSE(IgnoredByDefault(path));
  }
}

TEST(WatchPatternMattersTest, IgnoreWinsOverWatch) {
  std::vector<WatchPattern> watch = {Pattern("src/**/*.py"),
                                     Pattern("templates/"), Pattern("app.py"),
                                     Pattern("**/*.log")};
  std::vector<WatchPattern> ignore = {Pattern("*.log"), Pattern("tmp/"),
                                      Pattern("src/generated/")};
  EXPECT_TRUE(WatchMatters(watch, ignore, "app.py"));
  EXPECT_TRUE(WatchMatters(watch, ignore, "src/a.py"));
  EXPECT_TRUE(WatchMatters(watch, ignore, "src/x/y.py"));
  EXPECT_TRUE(WatchMatters(watch, ignore, "templates/index.html"));
  EXPECT_TRUE(WatchMatters(watch, ignore, "logs/a.log"));  // "*.log" is top
  EXPECT_FALSE(WatchMatters(watch, ignore, "a.log"));      // watch and ignore
  EXPECT_FALSE(WatchMatters(watch, ignore, "src/generated/pb.py"));
  EXPECT_FALSE(WatchMatters(watch, ignore, "README.md"));  // not watched
  EXPECT_FALSE(WatchMatters(watch, ignore, "tmp/app.py"));
}

TEST(WatchPatternMattersTest, DefaultIgnoresWinOverWatch) {
  std::vector<WatchPattern> watch = {Pattern("**")};
  EXPECT_TRUE(WatchMatters(watch, {}, "src/a.py"));
  EXPECT_FALSE(WatchMatters(watch, {}, "src/.a.py.swp"));
  EXPECT_FALSE(WatchMatters(watch, {}, "src/__pycache__/a.pyc"));
  EXPECT_FALSE(WatchMatters(watch, {}, ".git/index"));
  EXPECT_FALSE(WatchMatters({Pattern(".git/")}, {}, ".git/HEAD"));
}

TEST(WatchPatternMattersTest, NothingWatchedMeansNothingMatters) {
  EXPECT_FALSE(WatchMatters({}, {}, "app.py"));
}

}  // namespace
}  // namespace workerd
