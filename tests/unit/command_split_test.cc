#include "daemon/command_split.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace workerd {
namespace {

using Words = std::vector<std::string>;

Words Split(std::string_view command) {
  std::string error;
  std::optional<Words> words = SplitCommand(command, &error);
  EXPECT_TRUE(words.has_value()) << command << ": " << error;
  return words.value_or(Words{});
}

std::string SplitError(std::string_view command) {
  std::string error;
  EXPECT_FALSE(SplitCommand(command, &error).has_value()) << command;
  return error;
}

const char kShellAdvice[] =
    " is shell syntax, but the command is not run by a shell; quote it to "
    R"(pass it literally, or use command = ["sh", "-c", "..."])";
const char kQuotedShellAdvice[] =
    " is shell syntax, but the command is not run by a shell; use single "
    R"(quotes to pass it literally, or use command = ["sh", "-c", "..."])";

TEST(SplitCommandTest, SplitsOnBlanks) {
  EXPECT_EQ(Split("gunicorn app:wsgi"), (Words{"gunicorn", "app:wsgi"}));
  EXPECT_EQ(Split("  a \t b\n\nc  "), (Words{"a", "b", "c"}));
  EXPECT_EQ(Split("a\r\nb"), (Words{"a", "b"}));
  EXPECT_EQ(Split("cargo loco start --worker"),
            (Words{"cargo", "loco", "start", "--worker"}));
}

TEST(SplitCommandTest, BlankIsNoWords) {
  EXPECT_EQ(Split(""), Words{});
  EXPECT_EQ(Split(" \t\n"), Words{});
}

TEST(SplitCommandTest, SingleQuotesKeepEverything) {
  EXPECT_EQ(Split("echo 'a  b'"), (Words{"echo", "a  b"}));
  EXPECT_EQ(Split(R"('a\b "c" $HOME | ;')"), (Words{R"(a\b "c" $HOME | ;)"}));
  EXPECT_EQ(Split("'multi\nline'"), (Words{"multi\nline"}));
}

TEST(SplitCommandTest, DoubleQuotesEscapeOnlyFiveCharacters) {
  EXPECT_EQ(Split(R"("a  b")"), (Words{"a  b"}));
  EXPECT_EQ(Split(R"("say \"hi\"")"), (Words{R"(say "hi")"}));
  EXPECT_EQ(Split(R"("back\\slash")"), (Words{R"(back\slash)"}));
  EXPECT_EQ(Split("\"\\$HOME \\`x\\`\""), (Words{"$HOME `x`"}));
  EXPECT_EQ(Split(R"("a\nb\t")"), (Words{R"(a\nb\t)"}));
  EXPECT_EQ(Split("\"join\\\nlines\""), (Words{"joinlines"}));
  EXPECT_EQ(Split(R"x("| ; & > < ( )")x"), (Words{"| ; & > < ( )"}));
  EXPECT_EQ(Split(R"("it's")"), (Words{"it's"}));
}

TEST(SplitCommandTest, BackslashOutsideQuotesEscapesOneCharacter) {
  EXPECT_EQ(Split(R"(a\ b)"), (Words{"a b"}));
  EXPECT_EQ(Split(R"(\'x\')"), (Words{"'x'"}));
  EXPECT_EQ(Split(R"(\"x\")"), (Words{R"("x")"}));
  EXPECT_EQ(Split(R"(a\\b)"), (Words{R"(a\b)"}));
  EXPECT_EQ(Split(R"(\| \; \& \> \$HOME \`)"),
            (Words{"|", ";", "&", ">", "$HOME", "`"}));
  EXPECT_EQ(Split("one \\\n two"), (Words{"one", "two"}));
  EXPECT_EQ(Split("jo\\\nined"), (Words{"joined"}));
}

TEST(SplitCommandTest, QuotesJoinWithTheirWord) {
  EXPECT_EQ(Split(R"(--name='a b'"c d"e)"), (Words{"--name=a bc de"}));
  EXPECT_EQ(Split(R"(python -c 'print("hi")')"),
            (Words{"python", "-c", R"(print("hi"))"}));
}

TEST(SplitCommandTest, EmptyQuotesAreEmptyWords) {
  EXPECT_EQ(Split("a '' b"), (Words{"a", "", "b"}));
  EXPECT_EQ(Split(R"(a "")"), (Words{"a", ""}));
  EXPECT_EQ(Split("''"), (Words{""}));
}

TEST(SplitCommandTest, OtherCharactersAreLiteral) {
  EXPECT_EQ(Split("ls *.py ~/x a?b [c] {d} # e $ $5 100% a=b"),
            (Words{"ls", "*.py", "~/x", "a?b", "[c]", "{d}", "#", "e", "$",
                   "$5", "100%", "a=b"}));
  EXPECT_EQ(Split("app --port={instance}"),
            (Words{"app", "--port={instance}"}));
  EXPECT_EQ(Split("h\xC3\xA9llo"), (Words{"h\xC3\xA9llo"}));
}

TEST(SplitCommandTest, ReportsUnclosedQuotes) {
  EXPECT_EQ(SplitError("echo 'abc"),
            "the single quote at character 6 is never closed");
  EXPECT_EQ(SplitError(R"(echo "abc)"),
            "the double quote at character 6 is never closed");
  EXPECT_EQ(SplitError(R"("abc\")"),
            "the double quote at character 1 is never closed");
  EXPECT_EQ(SplitError("\xC3\xA9 'x"),
            "the single quote at character 3 is never closed");
  EXPECT_EQ(SplitError("'a' 'b"),
            "the single quote at character 5 is never closed");
}

TEST(SplitCommandTest, ReportsATrailingBackslash) {
  EXPECT_EQ(SplitError(R"(echo a\)"),
            "the backslash at character 7 ends the command and escapes "
            "nothing");
}

TEST(SplitCommandTest, RejectsShellOperators) {
  EXPECT_EQ(SplitError("app | tee log"), std::string(R"("|")") + kShellAdvice);
  EXPECT_EQ(SplitError("make && run"), std::string(R"("&&")") + kShellAdvice);
  EXPECT_EQ(SplitError("a || b"), std::string(R"("||")") + kShellAdvice);
  EXPECT_EQ(SplitError("a ; b"), std::string(R"(";")") + kShellAdvice);
  EXPECT_EQ(SplitError("a; b"), std::string(R"(";")") + kShellAdvice);
  EXPECT_EQ(SplitError("app > out.log"), std::string(R"(">")") + kShellAdvice);
  EXPECT_EQ(SplitError("app >>out.log"), std::string(R"(">>")") + kShellAdvice);
  EXPECT_EQ(SplitError("app 2>&1"), std::string(R"(">&")") + kShellAdvice);
  EXPECT_EQ(SplitError("app < in"), std::string(R"("<")") + kShellAdvice);
  EXPECT_EQ(SplitError("app &"), std::string(R"("&")") + kShellAdvice);
  EXPECT_EQ(SplitError("(cd x)"), std::string(R"("(")") + kShellAdvice);
  EXPECT_EQ(SplitError("url?a=1&b=2"), std::string(R"("&")") + kShellAdvice);
}

TEST(SplitCommandTest, RejectsExpansions) {
  EXPECT_EQ(SplitError("app $(date)"), std::string(R"("$(")") + kShellAdvice);
  EXPECT_EQ(SplitError("app `date`"), std::string(R"("`")") + kShellAdvice);
  EXPECT_EQ(SplitError("app --port=$PORT"),
            std::string(R"("$PORT")") + kShellAdvice);
  EXPECT_EQ(SplitError("app ${HOME}/x"), std::string(R"("${")") + kShellAdvice);
  EXPECT_EQ(SplitError("app $_x1"), std::string(R"("$_x1")") + kShellAdvice);
}

TEST(SplitCommandTest, RejectsExpansionsInsideDoubleQuotes) {
  EXPECT_EQ(SplitError(R"x(app "$(date)")x"),
            std::string(R"("$(")") + kQuotedShellAdvice);
  EXPECT_EQ(SplitError(R"(app "--home=$HOME")"),
            std::string(R"("$HOME")") + kQuotedShellAdvice);
  EXPECT_EQ(SplitError("app \"`x`\""),
            std::string(R"("`")") + kQuotedShellAdvice);
}

TEST(SplitCommandTest, ErrorIsOptional) {
  EXPECT_FALSE(SplitCommand("'").has_value());
}

}  // namespace
}  // namespace workerd
