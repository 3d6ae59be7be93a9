#include "daemon/journal_stream.h"

#include <gtest/gtest.h>

namespace workerd {
namespace {

TEST(JournalStreamTest, HeadersNameTheProgramAtPriorityInfo) {
  const JournalStreams streams = JournalStreamsFor("web");
  EXPECT_EQ(streams.socket_path, "/run/systemd/journal/stdout");
  // identifier, no unit, LOG_INFO, level prefix on, no forwarding.
  EXPECT_EQ(streams.stdout_header, "web\n\n6\n1\n0\n0\n0\n");
  EXPECT_EQ(streams.stderr_header, "web\n\n6\n1\n0\n0\n0\n");
}

TEST(JournalStreamTest, TheIdentifierIsTheProgramNameAsItIs) {
  const JournalStreams streams = JournalStreamsFor("my.app-2");
  EXPECT_EQ(streams.stdout_header, "my.app-2\n\n6\n1\n0\n0\n0\n");
  EXPECT_EQ(streams, JournalStreamsFor("my.app-2"));
  EXPECT_NE(streams, JournalStreamsFor("web"));
}

}  // namespace
}  // namespace workerd
