#include "daemon/toml_syntax_error.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <string>
#include <string_view>

namespace workerd {
namespace {

// The explanation of the syntax error toml++ finds in `text`. (The
// config loader's tests, tests/unit/config_test.cc "ConfigSyntaxTest",
// cover the mistakes through ParseConfig, with positions.)
std::string Explain(std::string_view text) {
  try {
    toml::table ignored = toml::parse(text);
  } catch (const toml::parse_error& error) {
    const SourcePosition at{static_cast<int>(error.source().begin.line),
                            static_cast<int>(error.source().begin.column)};
    return ExplainSyntaxError(text, error.description(), at);
  }
  return "no error";
}

TEST(ExplainSyntaxErrorTest, KeepsTomlsWordsWithoutItsPrefix) {
  EXPECT_EQ(ExplainSyntaxError("a 1",
                               "Error while parsing key-value pair: expected "
                               "'=', saw '1'",
                               {1, 3}),
            "expected '=', saw '1'");
  // A description in another shape passes through whole.
  EXPECT_EQ(ExplainSyntaxError("a 1", "something odd", {1, 3}),
            "something odd");
}

TEST(ExplainSyntaxErrorTest, FindsWhatWasLeftOpen) {
  // The array opened on line 1 is still open where the next key starts.
  EXPECT_EQ(ExplainSyntaxError("a = [\n  \"x\",\nb = 1\n",
                               "Error while parsing array: expected value, "
                               "saw 'b'",
                               {3, 1}),
            "the array starting at line 1, column 5 is missing its closing "
            "\"]\"");
  // Brackets and quotes inside strings and comments do not count.
  EXPECT_EQ(Explain("a = \"[{\" # [\nb = 'x"),
            "the string starting at column 5 is missing its closing '");
  // A table header is not an array.
  EXPECT_EQ(Explain("[daemon]\nx = {"),
            "the inline table starting at column 5 is missing its closing "
            "\"}\" (an inline table must be on one line)");
}

TEST(ExplainSyntaxErrorTest, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(Explain("a = [\"é\", \"ü\"\nb = 1"),
            "the array starting at line 1, column 5 is missing its closing "
            "\"]\"");
  EXPECT_EQ(Explain("a = \"é"),
            "the string starting at column 5 is missing its closing \"");
}

TEST(ExplainSyntaxErrorTest, UnquotedWords) {
  EXPECT_EQ(Explain("user = nobody"),
            "nobody is not a value; strings need quotes, like \"nobody\"");
  EXPECT_EQ(Explain("autostart = off"),
            "off is not a value; write true or false");
  EXPECT_EQ(Explain("within = 60s"),
            "60s is not a value; durations and sizes are strings, like "
            "\"60s\"");
}

}  // namespace
}  // namespace workerd
