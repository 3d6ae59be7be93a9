#include "daemon/notify_message.h"

#include <gtest/gtest.h>

#include <string>

namespace workerd {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

NotifyMessage Parse(std::string_view datagram) {
  return ParseNotifyMessage(datagram);
}

TEST(NotifyMessageTest, EmptyDatagramIsEmpty) {
  EXPECT_TRUE(Parse("").Empty());
  EXPECT_EQ(Parse(""), NotifyMessage{});
  EXPECT_TRUE(Parse("\n\n\n").Empty());
}

TEST(NotifyMessageTest, Ready) {
  NotifyMessage expected;
  expected.ready = true;
  EXPECT_EQ(Parse("READY=1"), expected);
  EXPECT_EQ(Parse("READY=1\n"), expected);
  EXPECT_FALSE(Parse("READY=1").Empty());
}

TEST(NotifyMessageTest, Stopping) {
  NotifyMessage expected;
  expected.stopping = true;
  EXPECT_EQ(Parse("STOPPING=1"), expected);
}

TEST(NotifyMessageTest, Reloading) {
  NotifyMessage expected;
  expected.reloading = true;
  EXPECT_EQ(Parse("RELOADING=1"), expected);
}

TEST(NotifyMessageTest, Watchdog) {
  NotifyMessage ping;
  ping.watchdog = true;
  EXPECT_EQ(Parse("WATCHDOG=1"), ping);
  NotifyMessage trigger;
  trigger.watchdog_trigger = true;
  EXPECT_EQ(Parse("WATCHDOG=trigger"), trigger);
  EXPECT_FALSE(trigger.Empty());
}

TEST(NotifyMessageTest, FlagsCountOnlyWithTheValueOne) {
  for (std::string key : {"READY", "STOPPING", "RELOADING", "WATCHDOG"}) {
    for (std::string value : {"0", "", "true", "yes", "11", " 1", "1 ", "01",
                              "1\r", "TRIGGER", "trigger "}) {
      EXPECT_TRUE(Parse(key + "=" + value).Empty()) << key << "=" << value;
    }
  }
  EXPECT_TRUE(Parse("READY=trigger").Empty());
}

TEST(NotifyMessageTest, AFlagIsNotResetByALaterOtherValue) {
  NotifyMessage expected;
  expected.ready = true;
  EXPECT_EQ(Parse("READY=1\nREADY=0"), expected);
}

TEST(NotifyMessageTest, SeveralAssignments) {
  NotifyMessage expected;
  expected.ready = true;
  expected.stopping = true;
  expected.reloading = true;
  expected.watchdog = true;
  expected.watchdog_trigger = true;
  expected.status = "serving on :8000";
  expected.error_number = 2;
  EXPECT_EQ(Parse("READY=1\nSTOPPING=1\nRELOADING=1\nWATCHDOG=1\n"
                  "WATCHDOG=trigger\nSTATUS=serving on :8000\nERRNO=2\n"),
            expected);
}

TEST(NotifyMessageTest, Status) {
  EXPECT_EQ(Parse("STATUS=warming up").status, "warming up");
  // Kept as sent: spaces, '=' and non-ASCII text.
  EXPECT_EQ(Parse("STATUS=  a = b  ").status, "  a = b  ");
  EXPECT_EQ(Parse("STATUS=prêt à servir ✓").status, "prêt à servir ✓");
}

TEST(NotifyMessageTest, EmptyStatusIsPresent) {
  NotifyMessage message = Parse("STATUS=");
  ASSERT_TRUE(message.status.has_value());
  EXPECT_EQ(*message.status, "");
  EXPECT_FALSE(message.Empty());
}

TEST(NotifyMessageTest, LaterStatusWins) {
  EXPECT_EQ(Parse("STATUS=first\nSTATUS=second").status, "second");
  EXPECT_EQ(Parse("STATUS=first\nSTATUS=").status, "");
}

TEST(NotifyMessageTest, StatusControlCharactersBecomeSpaces) {
  EXPECT_EQ(Parse("STATUS=a\tb\rc\x1b[31md\x7f"
                  "e")
                .status,
            "a b c [31md e");
  EXPECT_EQ(Parse("STATUS=nul\0byte"sv).status, "nul byte");
  EXPECT_EQ(Parse("STATUS=\x01\x1f").status, "  ");
  // C1 controls (U+0085 next line, U+009B CSI) and U+2028, U+2029.
  EXPECT_EQ(Parse("STATUS=a\xC2\x85"
                  "b\xC2\x9B"
                  "c\xE2\x80\xA8"
                  "d\xE2\x80\xA9"
                  "e")
                .status,
            "a b c d e");
  // Their neighbours are printable and kept.
  EXPECT_EQ(Parse("STATUS=\xC2\xA0\xE2\x80\xA7").status,
            "\xC2\xA0\xE2\x80\xA7");
}

TEST(NotifyMessageTest, NewlineEndsTheStatus) {
  NotifyMessage message = Parse("STATUS=line one\nline two\nREADY=1");
  EXPECT_EQ(message.status, "line one");
  EXPECT_TRUE(message.ready);
}

TEST(NotifyMessageTest, StatusIllFormedUtf8BecomesReplacementCharacters) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_EQ(Parse("STATUS=a\xFF"
                  "b")
                .status,
            "a" + kReplacement + "b");
  // A lone continuation byte, an overlong '/', a surrogate, past U+10FFFF,
  // a truncated sequence at the end: one replacement per byte.
  EXPECT_EQ(Parse("STATUS=\x80").status, kReplacement);
  EXPECT_EQ(Parse("STATUS=\xC0\xAF").status, kReplacement + kReplacement);
  EXPECT_EQ(Parse("STATUS=\xED\xA0\x80").status,
            kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(Parse("STATUS=\xF4\x90\x80\x80").status,
            kReplacement + kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(Parse("STATUS=ok\xE2\x82").status,
            "ok" + kReplacement + kReplacement);
  // Four-byte characters at the edges of the valid range are kept.
  EXPECT_EQ(Parse("STATUS=\xF0\x90\x80\x80\xF4\x8F\xBF\xBF").status,
            "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
}

TEST(NotifyMessageTest, LongStatusIsCutToTheLimit) {
  std::string exact(kMaxNotifyStatus, 'x');
  EXPECT_EQ(Parse("STATUS=" + exact).status, exact);
  EXPECT_EQ(Parse("STATUS=" + exact + "yyy").status, exact);
}

TEST(NotifyMessageTest, LongStatusIsCutAtACharacterBoundary) {
  // "é" is two bytes: with one byte of room left, it goes whole.
  std::string prefix(kMaxNotifyStatus - 1, 'x');
  EXPECT_EQ(Parse("STATUS=" + prefix + "é").status, prefix);
  // "€" is three bytes; "😀" four.
  for (std::size_t room = 0; room < 4; ++room) {
    std::string head(kMaxNotifyStatus - room, 'x');
    std::string status = *Parse("STATUS=" + head + "😀").status;
    EXPECT_EQ(status, head) << room;
  }
  std::string fits(kMaxNotifyStatus - 3, 'x');
  EXPECT_EQ(Parse("STATUS=" + fits + "€€").status, fits + "€");
  // Only multi-byte characters.
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "€";
  std::string status = *Parse("STATUS=" + euros).status;
  EXPECT_EQ(status.size(), kMaxNotifyStatus / 3 * 3);
  EXPECT_EQ(status, euros.substr(0, kMaxNotifyStatus / 3 * 3));
}

TEST(NotifyMessageTest, ReplacementsCountTowardsTheLimit) {
  // Each bad byte becomes three bytes of U+FFFD.
  std::string bad(kMaxNotifyStatus, '\xFF');
  std::string status = *Parse("STATUS=" + bad).status;
  EXPECT_EQ(status.size(), kMaxNotifyStatus / 3 * 3);
  // Controls become one space each, so they never overflow.
  std::string controls(kMaxNotifyStatus + 10, '\t');
  EXPECT_EQ(Parse("STATUS=" + controls).status,
            std::string(kMaxNotifyStatus, ' '));
}

TEST(NotifyMessageTest, ErrorNumber) {
  EXPECT_EQ(Parse("ERRNO=0").error_number, 0);
  EXPECT_EQ(Parse("ERRNO=2").error_number, 2);
  EXPECT_EQ(Parse("ERRNO=0013").error_number, 13);
  EXPECT_EQ(Parse("ERRNO=2147483647").error_number, 2147483647);
  EXPECT_FALSE(Parse("ERRNO=2").Empty());
}

TEST(NotifyMessageTest, BadErrorNumberIsIgnored) {
  for (std::string value : {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "abc",
                            "2147483648", "99999999999999999999", "1.5"}) {
    NotifyMessage message = Parse("ERRNO=" + value);
    EXPECT_FALSE(message.error_number.has_value()) << value;
    EXPECT_TRUE(message.Empty()) << value;
  }
}

TEST(NotifyMessageTest, LaterErrorNumberWinsUnlessBad) {
  EXPECT_EQ(Parse("ERRNO=1\nERRNO=5").error_number, 5);
  EXPECT_EQ(Parse("ERRNO=1\nERRNO=x").error_number, 1);
}

TEST(NotifyMessageTest, UnknownKeysAreIgnored) {
  EXPECT_TRUE(Parse("MAINPID=42\nFDSTORE=1\nFDNAME=x\nEXTEND_TIMEOUT_USEC=1\n"
                    "WATCHDOG_USEC=5\nBUSERROR=x\nX_CUSTOM=1")
                  .Empty());
  NotifyMessage expected;
  expected.ready = true;
  EXPECT_EQ(Parse("MAINPID=42\nREADY=1\nFDSTORE=1"), expected);
}

TEST(NotifyMessageTest, KeysAreExact) {
  EXPECT_TRUE(Parse("ready=1").Empty());
  EXPECT_TRUE(Parse(" READY=1").Empty());
  EXPECT_TRUE(Parse("READY =1").Empty());
  EXPECT_TRUE(Parse("READYX=1").Empty());
  EXPECT_TRUE(Parse("=1").Empty());
  EXPECT_FALSE(Parse("STATUS =x").status.has_value());
}

TEST(NotifyMessageTest, LinesWithoutEqualsAreIgnored) {
  NotifyMessage expected;
  expected.ready = true;
  expected.status = "up";
  EXPECT_EQ(Parse("garbage\nREADY\nREADY=1\n\nSTATUS=up\nno equals sign"),
            expected);
  EXPECT_TRUE(Parse("READY").Empty());
}

TEST(NotifyMessageTest, OnlyTheFirstEqualsSeparates) {
  EXPECT_EQ(Parse("STATUS=a=b=c").status, "a=b=c");
  EXPECT_TRUE(Parse("READY==1").Empty());
}

TEST(NotifyMessageTest, CarriageReturnLineEndingsDoNotCount) {
  // sd_notify(3) lines end with '\n' only; "1\r" is not "1".
  NotifyMessage message = Parse("READY=1\r\nSTATUS=up\r\n");
  EXPECT_FALSE(message.ready);
  EXPECT_EQ(message.status, "up ");
}

TEST(NotifyMessageTest, EmptyIsFalseForEachField) {
  NotifyMessage message;
  EXPECT_TRUE(message.Empty());
  message.ready = true;
  EXPECT_FALSE(message.Empty());
  message = {};
  message.stopping = true;
  EXPECT_FALSE(message.Empty());
  message = {};
  message.reloading = true;
  EXPECT_FALSE(message.Empty());
  message = {};
  message.watchdog = true;
  EXPECT_FALSE(message.Empty());
  message = {};
  message.watchdog_trigger = true;
  EXPECT_FALSE(message.Empty());
  message = {};
  message.status = "";
  EXPECT_FALSE(message.Empty());
  message = {};
  message.error_number = 0;
  EXPECT_FALSE(message.Empty());
}

}  // namespace
}  // namespace workerd
