#include "daemon/expand.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace workerd {
namespace {

TEST(ExpandPlaceholdersTest, ReplacesInstanceAndProgram) {
  EXPECT_EQ(ExpandPlaceholders("--port=80{instance}", "web", 3), "--port=803");
  EXPECT_EQ(ExpandPlaceholders("{program}-{instance}.log", "web", 0),
            "web-0.log");
  EXPECT_EQ(ExpandPlaceholders("{instance}{instance}", "web", 12), "1212");
  EXPECT_EQ(ExpandPlaceholders("{program}", "jobs.v2", 1), "jobs.v2");
}

TEST(ExpandPlaceholdersTest, LeavesEverythingElseAlone) {
  EXPECT_EQ(ExpandPlaceholders("", "web", 1), "");
  EXPECT_EQ(ExpandPlaceholders("plain", "web", 1), "plain");
  EXPECT_EQ(ExpandPlaceholders(R"({"a": {"b": 1}})", "web", 1),
            R"({"a": {"b": 1}})");
  EXPECT_EQ(ExpandPlaceholders("{}", "web", 1), "{}");
  EXPECT_EQ(ExpandPlaceholders("{instance", "web", 1), "{instance");
  EXPECT_EQ(ExpandPlaceholders("instance}", "web", 1), "instance}");
  EXPECT_EQ(ExpandPlaceholders("{Instance}", "web", 1), "{Instance}");
  EXPECT_EQ(ExpandPlaceholders("{ instance }", "web", 1), "{ instance }");
  EXPECT_EQ(ExpandPlaceholders("$PORT ${instance}", "web", 1), "$PORT $1");
}

TEST(ExpandPlaceholdersTest, HasNoEscapeForBraces) {
  // "{{instance}}" is a brace, the placeholder, a brace.
  EXPECT_EQ(ExpandPlaceholders("{{instance}}", "web", 7), "{7}");
}

TEST(ExpandPlaceholdersTest, DoesNotRescanReplacements) {
  EXPECT_EQ(ExpandPlaceholders("{program}", "{instance}", 5), "{instance}");
  EXPECT_EQ(ExpandPlaceholders("{progr{instance}am}", "web", 5), "{progr5am}");
}

TEST(ExpandPlaceholdersTest, ReplacesFdWithTheSocketsFdNumber) {
  const std::vector<std::string> sockets = {"http", "admin", "api.v2"};
  const PlaceholderValues values{"web", 2, &sockets};
  EXPECT_EQ(ExpandPlaceholders("fd://{fd:http}", values), "fd://3");
  EXPECT_EQ(ExpandPlaceholders("--fd={fd:admin}", values), "--fd=4");
  EXPECT_EQ(ExpandPlaceholders("{fd:api.v2}", values), "5");
  EXPECT_EQ(ExpandPlaceholders("{fd:http},{fd:admin},{fd:http}", values),
            "3,4,3");
  EXPECT_EQ(ExpandPlaceholders("{program}-{instance}:{fd:admin}", values),
            "web-2:4");
}

TEST(ExpandPlaceholdersTest, LeavesUnknownFdPlaceholdersAlone) {
  const std::vector<std::string> sockets = {"http"};
  const PlaceholderValues values{"web", 0, &sockets};
  EXPECT_EQ(ExpandPlaceholders("{fd:htp}", values), "{fd:htp}");
  EXPECT_EQ(ExpandPlaceholders("{fd:}", values), "{fd:}");
  EXPECT_EQ(ExpandPlaceholders("{fd:http", values), "{fd:http");
  EXPECT_EQ(ExpandPlaceholders("{FD:http}", values), "{FD:http}");
  EXPECT_EQ(ExpandPlaceholders("{fd: http}", values), "{fd: http}");
  EXPECT_EQ(ExpandPlaceholders("{fd}", values), "{fd}");
  // Without sockets, as the three-argument form has.
  EXPECT_EQ(ExpandPlaceholders("{fd:http}", PlaceholderValues{"web", 0}),
            "{fd:http}");
  EXPECT_EQ(ExpandPlaceholders("{fd:http}-{instance}", "web", 1),
            "{fd:http}-1");
}

TEST(ExpandPlaceholdersTest, FdPlaceholdersAreNotRescannedEither) {
  const std::vector<std::string> sockets = {"http"};
  const PlaceholderValues values{"web", 0, &sockets};
  // "{fd:" does not start a placeholder here: a "{" comes before the "}".
  EXPECT_EQ(ExpandPlaceholders("{fd:{program}}", values), "{fd:web}");
  EXPECT_EQ(ExpandPlaceholders("{{fd:http}}", values), "{3}");
  const std::vector<std::string> odd = {"{instance}"};
  EXPECT_EQ(
      ExpandPlaceholders("{fd:{instance}}", PlaceholderValues{"web", 7, &odd}),
      "{fd:7}");
}

TEST(FindMisspelledPlaceholderTest, FindsNearMisses) {
  auto found = FindMisspelledPlaceholder("--port=80{instnace}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{instnace}");
  EXPECT_EQ(found->meant, "{instance}");

  found = FindMisspelledPlaceholder("{Program}.log");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{Program}");
  EXPECT_EQ(found->meant, "{program}");

  found = FindMisspelledPlaceholder("{instance} {instances}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{instances}");
  EXPECT_EQ(found->meant, "{instance}");

  found = FindMisspelledPlaceholder("{{programm}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{programm}");
}

TEST(FindMisspelledPlaceholderTest, IgnoresOtherBraces) {
  EXPECT_EQ(FindMisspelledPlaceholder(""), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{instance}-{program}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder(R"({"instance": 1})"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{id}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{name}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{0}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{instnace"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{"), std::nullopt);
}

TEST(FindMisspelledPlaceholderTest, FindsFdWithoutAName) {
  auto found = FindMisspelledPlaceholder("--fd={fd}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{fd}");
  EXPECT_EQ(found->meant, "{fd:NAME}");

  found = FindMisspelledPlaceholder("{FD}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->meant, "{fd:NAME}");
}

TEST(FindMisspelledPlaceholderTest, FindsFdInAnotherCase) {
  auto found = FindMisspelledPlaceholder("fd://{FD:http}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{FD:http}");
  EXPECT_EQ(found->meant, "{fd:http}");

  found = FindMisspelledPlaceholder("{Fd:admin}");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->written, "{Fd:admin}");
  EXPECT_EQ(found->meant, "{fd:admin}");
}

TEST(FindMisspelledPlaceholderTest, NeverFlagsAWellFormedFdPlaceholder) {
  EXPECT_EQ(FindMisspelledPlaceholder("{fd:http}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{fd:no-such-socket}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{fd:}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{fd:http"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{[d:http}"), std::nullopt);
  EXPECT_EQ(FindMisspelledPlaceholder("{fds}"), std::nullopt);
}

TEST(FindUnknownFdPlaceholderTest, FindsTheFirstNameNotInSockets) {
  const std::vector<std::string> sockets = {"http", "admin"};
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd:htp}", sockets), "htp");
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd:http} {fd:adm} {fd:x}", sockets),
            "adm");
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd:}", sockets), "");
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd: http}", sockets), " http");
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd:http}", {}), "http");
}

TEST(FindUnknownFdPlaceholderTest, IgnoresKnownNamesAndOtherText) {
  const std::vector<std::string> sockets = {"http", "admin"};
  EXPECT_EQ(FindUnknownFdPlaceholder("", sockets), std::nullopt);
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd:http}:{fd:admin}", sockets),
            std::nullopt);
  EXPECT_EQ(FindUnknownFdPlaceholder("{instance} {program}", {}), std::nullopt);
  // Not placeholders: no closing brace, or another brace inside.
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd:http", sockets), std::nullopt);
  EXPECT_EQ(FindUnknownFdPlaceholder("{fd:{instance}}", sockets), std::nullopt);
  // Another case is FindMisspelledPlaceholder's to report.
  EXPECT_EQ(FindUnknownFdPlaceholder("{FD:x}", sockets), std::nullopt);
}

TEST(CheckPlaceholdersTest, AcceptsWhatExpandsAsMeant) {
  const std::vector<std::string> sockets = {"http", "admin"};
  EXPECT_EQ(CheckPlaceholders("--port={fd:http} -n {instance}", sockets,
                              {"http", "admin", "other"}),
            std::nullopt);
  EXPECT_EQ(CheckPlaceholders("{json} {{x}} $HOME", {}, {}), std::nullopt);
}

TEST(CheckPlaceholdersTest, ExplainsAMisspelling) {
  EXPECT_EQ(CheckPlaceholders("--id={instnace}", {}, {}),
            "\"{instnace}\" is not a placeholder (did you mean "
            "\"{instance}\"?); only {instance}, {program} and {fd:NAME} are "
            "replaced");
  EXPECT_EQ(CheckPlaceholders("{FD:http}", {"http"}, {"http"}),
            "\"{FD:http}\" is not a placeholder (did you mean "
            "\"{fd:http}\"?); only {instance}, {program} and {fd:NAME} are "
            "replaced");
}

TEST(CheckPlaceholdersTest, ExplainsAnUnknownSocket) {
  const std::vector<std::string> sockets = {"http", "admin"};
  const std::vector<std::string> declared = {"http", "admin", "metrics"};
  EXPECT_EQ(CheckPlaceholders("{fd:}", sockets, declared),
            "\"{fd:}\" has no socket name; write \"{fd:NAME}\" with NAME "
            "one of the program's sockets");
  EXPECT_EQ(CheckPlaceholders("{fd:htp}", sockets, declared),
            "\"{fd:htp}\" is not one of the program's sockets (did you mean "
            "\"{fd:http}\"?)");
  EXPECT_EQ(CheckPlaceholders("{fd:metrics}", sockets, declared),
            "\"{fd:metrics}\" is not one of the program's sockets; add "
            "\"metrics\" to its sockets to pass it to the workers");
  EXPECT_EQ(CheckPlaceholders("{fd:zzz}", sockets, declared),
            "\"{fd:zzz}\" is not one of the program's sockets; they are "
            "\"http\", \"admin\"");
  // Neither listed nor declared, by a program without sockets: both steps.
  EXPECT_EQ(CheckPlaceholders("{fd:my.sock}", {}, {}),
            "\"{fd:my.sock}\" names a socket, but the program has none; "
            "declare [socket.\"my.sock\"] and list it in sockets = "
            "[\"my.sock\"]");
}

}  // namespace
}  // namespace workerd
