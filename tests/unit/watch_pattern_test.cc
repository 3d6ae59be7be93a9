// The patterns of `watch` and `ignore`: every wildcard, gitignore's
// anchoring, the directory rules, the roots and the directories to watch,
// the parse errors with their exact sentences, the files ignored by
// default, and which of watch and ignore wins.
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
      {"*.py", "lib/app.py", true},  // one segment: at any depth
      {"./*.py", "lib/app.py", false},
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
      {"templates/", "other/templates/a.html", true},
      {"./templates/", "other/templates/a.html", false},
      {"./templates/", "templates/a.html", true},
      {"*/", "a/b", true},
      {"build-*/", "build-1/x/y", true},
      {"build-*/", "build/x", false},
  });
}

TEST(WatchPatternTest, PlainNamesAreFilesOrDirectories) {
  ExpectMatches({
      {"app.py", "app.py", true},
      {"app.py", "app.pyc", false},
      {"app.py", "lib/app.py", true},
      {"./app.py", "lib/app.py", false},
      {"./app.py", "app.py", true},
      {"templates", "templates", true},
      {"templates", "templates/a/b.html", true},
      {"templates", "templatesx", false},
      {"lib/util", "lib/util/x.py", true},
      {"lib/util", "lib/utility.py", false},
      {"lib/util", "src/lib/util/x.py", false},
  });
}

TEST(WatchPatternTest, OneSegmentMatchesAtAnyDepthLikeGitignore) {
  ExpectMatches({
      {"*.log", "a.log", true},
      {"*.log", "logs/a.log", true},
      {"*.log", "logs/x/y/a.log", true},
      {"*.log", "logs/a.log/x", false},  // a wildcard covers nothing under
      {"__pycache__/", "__pycache__/a.pyc", true},
      {"__pycache__/", "lib/x/__pycache__/a.pyc", true},
      {"__pycache__/", "lib/__pycache__", true},
      {"__pycache__/", "lib/__pycache__x/a.pyc", false},
      {"tmp", "a/tmp/b/c", true},
      {"src//", "x/src/a.py", true},
      {"src/.", "x/src/a.py", true},  // normalises to "src/"
  });
  EXPECT_FALSE(Pattern("*.log").Anchored());
  EXPECT_FALSE(Pattern("templates/").Anchored());
  EXPECT_TRUE(Pattern("./templates/").Anchored());
  EXPECT_TRUE(Pattern("src/*.py").Anchored());
  EXPECT_TRUE(Pattern("**/*.py").Anchored());
}

TEST(WatchPatternTest, SlashBeforeTheLastSegmentAnchors) {
  ExpectMatches({
      {"src/*.py", "src/a.py", true},
      {"src/*.py", "lib/src/a.py", false},
      {"a/b/", "a/b/c", true},
      {"a/b/", "x/a/b/c", false},
      {"src/**/*.py", "x/src/a.py", false},
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
  EXPECT_EQ(Pattern("*.py").ToString(), "*.py");
  EXPECT_EQ(Pattern("./app.py").ToString(), "./app.py");
  EXPECT_EQ(Pattern(".//templates//").ToString(), "./templates/");
  EXPECT_EQ(Pattern("./src/a.py").ToString(), "src/a.py");
}

TEST(WatchPatternTest, ToStringParsesBackToTheSamePattern) {
  for (std::string_view written :
       {"*.py", "./app.py", "templates/", "./templates/", "src/**/*.py",
        "./src//a.py", "**", "a/b/"}) {
    SCOPED_TRACE(written);
    const WatchPattern pattern = Pattern(written);
    const WatchPattern again = Pattern(pattern.ToString());
    EXPECT_EQ(again.ToString(), pattern.ToString());
    EXPECT_EQ(again.Anchored(), pattern.Anchored());
    EXPECT_EQ(again.Root(), pattern.Root());
  }
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
           {"./app.py", ""},
           {"templates", ""},   // at any depth: the whole directory
           {"templates/", ""},  // at any depth too
           {"./templates/", "templates"},
           {"./templates", ""},  // may be a file
           {"a/b/", "a/b"},
           {"a/*/", "a"},
           {"./src//lib/*.py", "src/lib"},
       }) {
    SCOPED_TRACE(c.pattern);
    EXPECT_EQ(Pattern(c.pattern).Root(), c.root);
  }
}

TEST(WatchPatternTest, MayMatchUnderSaysWhichDirectoriesToWatch) {
  struct UnderCase {
    std::string_view pattern;
    std::string_view dir;
    bool may_match;
  };
  for (const UnderCase& c : std::vector<UnderCase>{
           {"src/**/*.py", "", true},
           {"src/**/*.py", "src", true},
           {"src/**/*.py", "src/a/b", true},
           {"src/**/*.py", "docs", false},
           {"src/*.py", "src", true},
           {"src/*.py", "src/sub", false},
           {"./templates/", "templates", true},
           {"./templates/", "templates/a/b", true},  // covered
           {"./templates/", "other", false},
           {"*.py", "any/depth", true},
           {"./app.py", "", true},
           {"./app.py", "lib", false},
           {"a/*/b.py", "a/x", true},
           {"a/*/b.py", "a/x/y", false},
           {"./*.d", "conf.d", false},  // a match that covers nothing under
           {"*.d", "conf.d", true},     // but "conf.d/x.d" may match
       }) {
    SCOPED_TRACE(std::string(c.pattern) + " under " + std::string(c.dir));
    EXPECT_EQ(Pattern(c.pattern).MayMatchUnder(c.dir), c.may_match);
  }
}

TEST(WatchPatternTest, MatchesAllUnderSaysWhichDirectoriesToSkip) {
  struct UnderCase {
    std::string_view pattern;
    std::string_view dir;
    bool all;
  };
  for (const UnderCase& c : std::vector<UnderCase>{
           {"tmp/", "tmp", true},
           {"tmp/", "a/tmp", true},
           {"tmp/", "a/tmp/b", true},
           {"tmp/", "a", false},
           {"./tmp/", "a/tmp", false},
           {"build/**", "build", true},
           {"build/**", "build/x", true},
           {"build/**", "x/build", false},
           {"**", "", true},
           {"*.log", "x.log", false},  // "x.log/a" does not match "*.log"
           {"src/*.py", "src", false},
           {"generated", "src/generated", true},  // a plain name covers
       }) {
    SCOPED_TRACE(std::string(c.pattern) + " under " + std::string(c.dir));
    EXPECT_EQ(Pattern(c.pattern).MatchesAllUnder(c.dir), c.all);
  }
}

TEST(WatchPatternTest, ParseErrors) {
  EXPECT_EQ(ParseError(""),
            "the pattern is empty; write a path relative to the program's "
            "directory, such as \"src/**/*.py\"");
  EXPECT_EQ(ParseError("/srv/app/*.py"),
            "\"/srv/app/*.py\" is absolute; patterns are relative to the "
            "program's directory (write \"./name\" for a name only at its "
            "top)");
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
           ".bzr/branch",
           ".venv/lib/python3.11/site-packages/x.py",
           ".tox/py311/x",
           ".mypy_cache/3.11/x.json",
           ".pytest_cache/v/x",
           ".idea/workspace.xml",
           ".vscode/settings.json",
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
           "venv/x.py",
           "idea/x",
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
  EXPECT_FALSE(WatchMatters(watch, ignore, "logs/a.log"));  // at any depth
  EXPECT_FALSE(WatchMatters(watch, ignore, "a.log"));       // watch and ignore
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
  EXPECT_FALSE(WatchDirectoryMatters({}, {}, ""));
}

TEST(WatchPatternMattersTest, DirectoriesWorthWatching) {
  std::vector<WatchPattern> watch = {Pattern("src/**/*.py"),
                                     Pattern("./templates/")};
  std::vector<WatchPattern> ignore = {Pattern("generated/"), Pattern("*.log")};
  EXPECT_TRUE(WatchDirectoryMatters(watch, ignore, ""));
  EXPECT_TRUE(WatchDirectoryMatters(watch, ignore, "src"));
  EXPECT_TRUE(WatchDirectoryMatters(watch, ignore, "src/pkg/sub"));
  EXPECT_TRUE(WatchDirectoryMatters(watch, ignore, "templates/x"));
  EXPECT_TRUE(WatchDirectoryMatters(watch, ignore, "src/x.log"));
  EXPECT_FALSE(WatchDirectoryMatters(watch, ignore, "docs"));
  EXPECT_FALSE(WatchDirectoryMatters(watch, ignore, "src/generated"));
  EXPECT_FALSE(WatchDirectoryMatters(watch, ignore, "src/pkg/generated/x"));
  EXPECT_FALSE(WatchDirectoryMatters(watch, ignore, "src/__pycache__"));
  EXPECT_FALSE(WatchDirectoryMatters(watch, ignore, "src/.venv/lib"));
  EXPECT_FALSE(WatchDirectoryMatters(watch, ignore, "templates/.git"));
  // A directory whose name looks like an editor's file is a directory.
  EXPECT_TRUE(WatchDirectoryMatters(watch, ignore, "src/old~"));
}

}  // namespace
}  // namespace workerd
