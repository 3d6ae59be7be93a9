#include "daemon/suggest.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace workerd {
namespace {

constexpr std::string_view kKeys[] = {
    "command", "workers",     "directory",    "env",         "user",
    "group",   "restart",     "start_period", "stop_signal", "stop_timeout",
    "backoff", "crash_limit", "autostart"};

std::optional<std::string> SuggestKey(std::string_view word) {
  return Suggest(word, kKeys);
}

TEST(EditDistanceTest, CountsEdits) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("stop_timout", "stop_timeout"), 1u);
  EXPECT_EQ(EditDistance("workers", "workrs"), 1u);
  EXPECT_EQ(EditDistance("restart", "restrat"), 1u);  // one swap
  EXPECT_EQ(EditDistance("deamon", "daemon"), 1u);
  EXPECT_EQ(EditDistance("ab", "ba"), 1u);
  EXPECT_EQ(EditDistance("Workers", "workers"), 1u);  // case counts here
}

TEST(SuggestTest, FindsTypos) {
  EXPECT_EQ(SuggestKey("stop_timout"), "stop_timeout");
  EXPECT_EQ(SuggestKey("stoptimeout"), "stop_timeout");
  EXPECT_EQ(SuggestKey("stop-timeout"), "stop_timeout");
  EXPECT_EQ(SuggestKey("worker"), "workers");
  EXPECT_EQ(SuggestKey("wrokers"), "workers");
  EXPECT_EQ(SuggestKey("comand"), "command");
  EXPECT_EQ(SuggestKey("envv"), "env");
  EXPECT_EQ(SuggestKey("crashlimit"), "crash_limit");
  EXPECT_EQ(SuggestKey("autostrat"), "autostart");
}

TEST(SuggestTest, IgnoresCase) {
  EXPECT_EQ(SuggestKey("Workers"), "workers");
  EXPECT_EQ(SuggestKey("STOP_SIGNAL"), "stop_signal");
}

TEST(SuggestTest, StaysQuietWhenNothingIsClose) {
  EXPECT_EQ(SuggestKey("listen"), std::nullopt);
  EXPECT_EQ(SuggestKey("timeout"), std::nullopt);
  EXPECT_EQ(SuggestKey("x"), std::nullopt);
  EXPECT_EQ(SuggestKey("u"), std::nullopt);  // not "user"
  EXPECT_EQ(SuggestKey(""), std::nullopt);
  EXPECT_EQ(Suggest("abc", std::vector<std::string>{}), std::nullopt);
}

TEST(SuggestTest, ThresholdGrowsWithTheWord) {
  // Two letters: one edit.
  const std::vector<std::string> units = {"ms", "s", "m", "h"};
  EXPECT_EQ(Suggest("mz", units), "ms");
  // Six letters: two edits, not three.
  EXPECT_EQ(SuggestKey("usrgrp"), std::nullopt);
  EXPECT_EQ(SuggestKey("grp"), std::nullopt);  // 3 letters, 2 edits away
  EXPECT_EQ(SuggestKey("groop"), "group");
  EXPECT_EQ(SuggestKey("gorup"), "group");
  EXPECT_EQ(Suggest("abcdef", std::vector<std::string>{"abxyef"}), "abxyef");
  EXPECT_EQ(Suggest("abcdef", std::vector<std::string>{"axyzef"}),
            std::nullopt);
}

TEST(SuggestTest, PrefersTheClosestThenTheFirst) {
  EXPECT_EQ(Suggest("abcd", std::vector<std::string>{"abxx", "abcx"}), "abcx");
  EXPECT_EQ(Suggest("abcd", std::vector<std::string>{"abcx", "abcy"}), "abcx");
}

TEST(SuggestTest, NeverSuggestsTheWordItself) {
  EXPECT_EQ(Suggest("env", std::vector<std::string>{"env"}), std::nullopt);
  EXPECT_EQ(Suggest("Env", std::vector<std::string>{"env"}), "env");
}

TEST(QuotedTest, QuotesAndEscapes) {
  EXPECT_EQ(Quoted(""), R"("")");
  EXPECT_EQ(Quoted("web"), R"("web")");
  EXPECT_EQ(Quoted(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("a\nb\tc"), R"("a\nb\tc")");
  EXPECT_EQ(Quoted(std::string_view("a\0b\x1b\x7f", 5)),
            R"("a\u0000b\u001B\u007F")");
  EXPECT_EQ(Quoted("h\xC3\xA9"), "\"h\xC3\xA9\"");  // UTF-8 passes through
}

TEST(QuotedTest, CutsLongTextWithoutSplittingACharacter) {
  EXPECT_EQ(Quoted(std::string(80, 'a')), "\"" + std::string(80, 'a') + "\"");
  EXPECT_EQ(Quoted(std::string(81, 'a')),
            "\"" + std::string(80, 'a') + "...\"");
  // "é" is two bytes, straddling the cut at byte 80.
  const std::string text = std::string(79, 'a') + "\xC3\xA9" + "zz";
  EXPECT_EQ(Quoted(text), "\"" + std::string(79, 'a') + "...\"");
}

}  // namespace
}  // namespace workerd
