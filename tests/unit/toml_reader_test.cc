#include "daemon/toml_reader.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace workerd {
namespace {

using std::chrono::milliseconds;

// Every error added to `errors`, as users see them.
std::vector<std::string> Messages(Errors errors) {
  std::vector<std::string> messages;
  for (const ConfigError& error : std::move(errors).Sorted()) {
    messages.push_back(error.ToString());
  }
  return messages;
}

TEST(TomlKeyTest, QuotesOnlyWhatABareKeyCannotHold) {
  EXPECT_TRUE(IsBareKey("stop_timeout"));
  EXPECT_TRUE(IsBareKey("my-app2"));
  EXPECT_FALSE(IsBareKey(""));
  EXPECT_FALSE(IsBareKey("my.app"));
  EXPECT_FALSE(IsBareKey("a b"));
  EXPECT_EQ(TomlKey("web"), "web");
  EXPECT_EQ(TomlKey("my.app"), "\"my.app\"");
  EXPECT_EQ(TomlKey(""), "\"\"");
}

TEST(HeaderTest, WritesHeadersAsTomlWould) {
  EXPECT_EQ(Header("deamon", ""), "[deamon]");
  EXPECT_EQ(Header("programs", "web"), "[programs.web]");
  EXPECT_EQ(Header("socket", "a.b"), "[socket.\"a.b\"]");
}

TEST(DescribeTest, NamesTheTypeAndShowsTheValue) {
  const toml::table table = toml::parse(
      "s = \"x\"\ni = 0o660\nf = 1.5\nw = 2.0\nb = false\na = [1]\n"
      "t = {}\nd = 2024-01-02\n");
  EXPECT_EQ(Describe(*table.get("s")), "the string \"x\"");
  EXPECT_EQ(Describe(*table.get("i")), "the integer 0o660");
  EXPECT_EQ(Describe(*table.get("f")), "the float 1.5");
  EXPECT_EQ(Describe(*table.get("w")), "the float 2.0");
  EXPECT_EQ(Describe(*table.get("b")), "false");
  EXPECT_EQ(Describe(*table.get("a")), "an array");
  EXPECT_EQ(Describe(*table.get("t")), "a table");
  EXPECT_EQ(Describe(*table.get("d")), "a date");
}

TEST(ErrorsTest, SortsIntoFileOrderKeepingTiesInOrder) {
  Errors errors("f.toml");
  errors.Add(SourcePosition{3, 1}, "third");
  errors.Add(SourcePosition{1, 5}, "second");
  errors.Add(SourcePosition{1, 2}, "first");
  errors.Add(SourcePosition{3, 1}, "fourth");
  EXPECT_EQ(errors.Count(), 4u);
  EXPECT_EQ(
      Messages(std::move(errors)),
      (std::vector<std::string>{"f.toml:1:2: first", "f.toml:1:5: second",
                                "f.toml:3:1: third", "f.toml:3:1: fourth"}));
}

TEST(TableReaderTest, ReadsTypedValues) {
  const toml::table table = toml::parse(
      "name = \"web\"\ncount = 3\non = true\nwait = \"250ms\"\n"
      "mode = \"0640\"\nkind = \"b\"\nsub = { x = 1 }\n");
  Errors errors("f.toml");
  TableReader reader(errors, table, "t");
  std::string name;
  int count = 0;
  bool on = false;
  Duration wait{0};
  unsigned mode = 0;
  constexpr Choice<int> kKinds[] = {{"a", 1}, {"b", 2}};
  int kind = 0;
  EXPECT_NE(reader.String("name", &name), nullptr);
  EXPECT_NE(reader.Integer("count", 1, 5, &count), nullptr);
  EXPECT_NE(reader.Bool("on", &on), nullptr);
  EXPECT_NE(reader.DurationAt("wait", false, &wait), nullptr);
  EXPECT_NE(reader.Mode("mode", &mode), nullptr);
  EXPECT_NE(reader.OneOf("kind", kKinds, &kind), nullptr);
  EXPECT_NE(reader.Table("sub", "{ x = 1 }"), nullptr);
  EXPECT_EQ(reader.String("missing", &name), nullptr);
  reader.ReportUnknownKeys();
  EXPECT_EQ(errors.Count(), 0u);
  EXPECT_EQ(name, "web");
  EXPECT_EQ(count, 3);
  EXPECT_TRUE(on);
  EXPECT_EQ(wait, milliseconds(250));
  EXPECT_EQ(mode, 0640u);
  EXPECT_EQ(kind, 2);
}

TEST(TableReaderTest, ReportsBadValuesAndLeavesTheOutputAlone) {
  const toml::table table = toml::parse(
      "name = 1\ncount = 9\nwait = \"0s\"\nmode = \"0888\"\nkind = \"c\"\n");
  Errors errors("f.toml");
  TableReader reader(errors, table, "t.sub", "sub.");
  std::string name = "kept";
  int count = 7;
  Duration wait{5};
  unsigned mode = 0600;
  constexpr Choice<int> kKinds[] = {{"a", 1}, {"b", 2}};
  int kind = 0;
  EXPECT_EQ(reader.String("name", &name), nullptr);
  EXPECT_EQ(reader.Integer("count", 1, 5, &count), nullptr);
  EXPECT_EQ(reader.DurationAt("wait", false, &wait), nullptr);
  EXPECT_EQ(reader.Mode("mode", &mode), nullptr);
  EXPECT_EQ(reader.OneOf("kind", kKinds, &kind), nullptr);
  EXPECT_EQ(name, "kept");
  EXPECT_EQ(count, 7);
  EXPECT_EQ(wait, Duration{5});
  EXPECT_EQ(mode, 0600u);
  EXPECT_EQ(kind, 0);
  EXPECT_EQ(
      Messages(std::move(errors)),
      (std::vector<std::string>{
          "f.toml:1:8: sub.name must be a string, not the integer 1",
          "f.toml:2:9: sub.count must be an integer from 1 to 5, not 9",
          "f.toml:3:8: sub.wait must be longer than 0s",
          "f.toml:4:8: sub.mode must be an octal mode in a string, like "
          "\"0660\", from \"0000\" to \"0777\", not \"0888\"",
          "f.toml:5:8: sub.kind must be one of \"a\", \"b\", not \"c\""}));
}

TEST(TableReaderSizeTest, ReadsStringsWithUnitsAndIntegersOfBytes) {
  const toml::table table = toml::parse(
      "a = \"64K\"\nb = \"2M\"\nc = \"1g\"\nd = 1536\ne = \"1536\"\n"
      "f = 0\ng = \"0\"\nh = \"1K\"\ni = \"4G\"\n");
  Errors errors("f.toml");
  TableReader reader(errors, table, "t");
  auto size = [&](std::string_view key, bool zero_allowed) {
    std::uint64_t value = 12345;
    EXPECT_NE(
        reader.Size(key, 1024, std::uint64_t{4} << 30, zero_allowed, &value),
        nullptr)
        << key;
    return value;
  };
  EXPECT_EQ(size("a", false), 64u << 10);
  EXPECT_EQ(size("b", false), 2u << 20);
  EXPECT_EQ(size("c", false), 1u << 30);
  EXPECT_EQ(size("d", false), 1536u);
  EXPECT_EQ(size("e", false), 1536u);
  EXPECT_EQ(size("f", true), 0u);
  EXPECT_EQ(size("g", true), 0u);
  // The limits are inclusive.
  EXPECT_EQ(size("h", false), 1024u);
  EXPECT_EQ(size("i", false), std::uint64_t{4} << 30);
  std::uint64_t untouched = 7;
  EXPECT_EQ(reader.Size("missing", 0, 10, true, &untouched), nullptr);
  EXPECT_EQ(untouched, 7u);
  reader.ReportUnknownKeys();
  EXPECT_EQ(errors.Count(), 0u);
}

TEST(TableReaderSizeTest, ReportsBadSizesAndLeavesTheOutputAlone) {
  const toml::table table = toml::parse(
      "zero = 0\nsmall = 1023\nlarge = \"5G\"\nnegative = -1\n"
      "unit = \"10MB\"\nfloat = 1.5\nempty = \"\"\nhuge = "
      "\"99999999999999999999\"\nodd = 1536\nwide = \"1 K\"\n");
  Errors errors("f.toml");
  TableReader reader(errors, table, "t.sub", "sub.");
  const std::uint64_t min = 1024;
  const std::uint64_t max = std::uint64_t{4} << 30;
  std::uint64_t value = 99;
  EXPECT_EQ(reader.Size("zero", min, max, false, &value), nullptr);
  EXPECT_EQ(reader.Size("small", min, max, true, &value), nullptr);
  EXPECT_EQ(reader.Size("large", min, max, true, &value), nullptr);
  EXPECT_EQ(reader.Size("negative", min, max, false, &value), nullptr);
  EXPECT_EQ(reader.Size("unit", min, max, false, &value), nullptr);
  EXPECT_EQ(reader.Size("float", min, max, false, &value), nullptr);
  EXPECT_EQ(reader.Size("empty", min, max, false, &value), nullptr);
  EXPECT_EQ(reader.Size("huge", min, max, false, &value), nullptr);
  EXPECT_EQ(reader.Size("odd", 2048, max, false, &value), nullptr);
  EXPECT_EQ(reader.Size("wide", min, max, false, &value), nullptr);
  EXPECT_EQ(value, 99u);
  EXPECT_EQ(
      Messages(std::move(errors)),
      (std::vector<std::string>{
          "f.toml:1:8: sub.zero must be from 1K to 4G, not 0",
          "f.toml:2:9: sub.small must be from 1K to 4G, or 0, not 1023",
          "f.toml:3:9: sub.large must be from 1K to 4G, or 0, not 5G",
          "f.toml:4:12: sub.negative must be from 1K to 4G, not -1",
          "f.toml:5:8: sub.unit: \"10MB\" has an unknown unit \"MB\"; use K, "
          "M or G (powers of 1024), or no unit for bytes",
          "f.toml:6:9: sub.float must be a size like \"100M\", \"64K\" or "
          "\"1G\", not the float 1.5",
          "f.toml:7:9: sub.empty: an empty string is not a size; write it "
          "like \"512M\", \"1G\", \"64K\" or a number of bytes",
          "f.toml:8:8: sub.huge: \"99999999999999999999\" is too large",
          "f.toml:9:7: sub.odd must be from 2K to 4G, not 1536",
          "f.toml:10:8: sub.wide: \"1 K\" must not contain spaces; write it "
          "like \"512M\", \"1G\", \"64K\" or a number of bytes"}));
}

TEST(TableReaderTest, UnknownKeysGetSuggestionsOrTheHint) {
  const toml::table table =
      toml::parse("workrs = 1\nzzz = { a = 1 }\ncount = 2\n");
  Errors errors("f.toml");
  TableReader reader(errors, table, "program.web");
  int workers = 0;
  reader.Integer("workers", 0, 10, &workers);
  EXPECT_EQ(reader.Find("count")->value<int>(), 2);
  reader.ReportUnknownKeys([](std::string_view key, const toml::node& node) {
    return " (" + std::string(key) + " is " + Describe(node) + ")";
  });
  EXPECT_EQ(Messages(std::move(errors)),
            (std::vector<std::string>{
                "f.toml:1:1: unknown key \"workrs\" in [program.web] (did you "
                "mean \"workers\"?)",
                "f.toml:2:1: unknown key \"zzz\" in [program.web] (zzz is a "
                "table)"}));
}

TEST(TablesInOrderTest, KeepsTheFilesOrderAndReportsNonTables) {
  const toml::table root =
      toml::parse("[program.zeta]\n[program.alpha]\n[program.mid]\n");
  const toml::table inline_root =
      toml::parse("program = { b = {}, stray = 1, a = {} }\n");
  Errors errors("f.toml");
  std::vector<std::string_view> names;
  for (const auto& [name, table] : TablesInOrder(
           errors, *root["program"].as_table(), "program", "[program.web]")) {
    names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"zeta", "alpha", "mid"}));
  names.clear();
  for (const auto& [name, table] :
       TablesInOrder(errors, *inline_root["program"].as_table(), "program",
                     "[program.web]")) {
    names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"b", "a"}));
  EXPECT_EQ(Messages(std::move(errors)),
            (std::vector<std::string>{
                "f.toml:1:21: unknown key \"stray\" in [program]; each "
                "program is a table like [program.web]"}));
}

}  // namespace
}  // namespace workerd
