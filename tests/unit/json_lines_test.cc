#include "proto/json_lines.h"

#include <gtest/gtest.h>

#include <string>

namespace workerd::proto {
namespace {

TEST(LineReaderTest, YieldsNothingUntilALineIsComplete) {
  LineReader reader;
  reader.Append("{\"id\":1");
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  reader.Append(",\"command\":\"status\"}");
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  reader.Append("\n");
  EXPECT_EQ(reader.NextLine(), "{\"id\":1,\"command\":\"status\"}");
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  EXPECT_FALSE(reader.Overflowed());
  EXPECT_EQ(reader.BufferedBytes(), 0u);
}

TEST(LineReaderTest, SplitsSeveralLinesInOneChunkInOrder) {
  LineReader reader;
  reader.Append("a\nbb\n\nccc\nd");
  EXPECT_EQ(reader.NextLine(), "a");
  EXPECT_EQ(reader.NextLine(), "bb");
  EXPECT_EQ(reader.NextLine(), "");
  EXPECT_EQ(reader.NextLine(), "ccc");
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  EXPECT_EQ(reader.BufferedBytes(), 1u);
  reader.Append("\n");
  EXPECT_EQ(reader.NextLine(), "d");
}

TEST(LineReaderTest, StripsOneCarriageReturnBeforeTheNewline) {
  LineReader reader;
  reader.Append("a\r\nb\r\r\n\r\nc\rd\n");
  EXPECT_EQ(reader.NextLine(), "a");
  EXPECT_EQ(reader.NextLine(), "b\r");
  EXPECT_EQ(reader.NextLine(), "");
  EXPECT_EQ(reader.NextLine(), "c\rd");
}

TEST(LineReaderTest, AcceptsALineOfExactlyTheLimit) {
  LineReader reader(10);
  reader.Append(std::string(10, 'x') + "\n");
  EXPECT_EQ(reader.NextLine(), std::string(10, 'x'));
  EXPECT_FALSE(reader.Overflowed());
}

TEST(LineReaderTest, OverflowsOnACompleteLineOverTheLimit) {
  LineReader reader(10);
  reader.Append("short\n" + std::string(11, 'x') + "\nlater\n");
  // The line before the long one is still answered.
  EXPECT_EQ(reader.NextLine(), "short");
  EXPECT_FALSE(reader.Overflowed());
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  EXPECT_TRUE(reader.Overflowed());
  // Nothing after the long line is trusted.
  reader.Append("more\n");
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  EXPECT_TRUE(reader.Overflowed());
}

TEST(LineReaderTest, OverflowsOnAnUnterminatedLineWithoutKeepingIt) {
  LineReader reader(10);
  reader.Append("ok\n123456");
  reader.Append("78901");  // 11 bytes and no newline yet
  EXPECT_LE(reader.BufferedBytes(), 3u) << "the long line must not be kept";
  for (int i = 0; i < 1000; ++i) reader.Append("yyyyyyyyyy");
  EXPECT_LE(reader.BufferedBytes(), 3u);
  EXPECT_EQ(reader.NextLine(), "ok");
  EXPECT_FALSE(reader.Overflowed());
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  EXPECT_TRUE(reader.Overflowed());
  EXPECT_EQ(reader.BufferedBytes(), 0u);
}

TEST(LineReaderTest, CountsTheLimitPerLineNotPerChunk) {
  LineReader reader(4);
  reader.Append("abcd\nefgh\nij");
  reader.Append("kl\n");
  EXPECT_EQ(reader.NextLine(), "abcd");
  EXPECT_EQ(reader.NextLine(), "efgh");
  EXPECT_EQ(reader.NextLine(), "ijkl");
  EXPECT_FALSE(reader.Overflowed());
}

TEST(LineReaderTest, DefaultLimitIsOneMebibyte) {
  EXPECT_EQ(kMaxLineBytes, 1048576u);
  LineReader reader;
  EXPECT_EQ(reader.max_line(), kMaxLineBytes);
  const std::string chunk(4096, 'z');
  for (int i = 0; i < 256; ++i) reader.Append(chunk);  // exactly 1 MiB
  reader.Append("\n");
  const auto line = reader.NextLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->size(), kMaxLineBytes);

  for (int i = 0; i < 256; ++i) reader.Append(chunk);
  reader.Append("z");
  EXPECT_EQ(reader.NextLine(), std::nullopt);
  EXPECT_TRUE(reader.Overflowed());
}

TEST(LineReaderTest, ByteByByteDeliveryYieldsTheSameLines) {
  const std::string stream = "first\nsecond line\r\n\nthird\n";
  LineReader reader;
  std::vector<std::string> lines;
  for (const char c : stream) {
    reader.Append(std::string_view(&c, 1));
    while (auto line = reader.NextLine()) lines.push_back(*line);
  }
  EXPECT_EQ(lines,
            (std::vector<std::string>{"first", "second line", "", "third"}));
}

TEST(LineReaderTest, DrainsManyLinesWithoutLosingAny) {
  LineReader reader;
  std::string stream;
  for (int i = 0; i < 20000; ++i) stream += std::to_string(i) + "\n";
  int next = 0;
  // Uneven chunks, drained as they come, exercise the compaction.
  for (std::size_t at = 0; at < stream.size(); at += 777) {
    reader.Append(std::string_view(stream).substr(at, 777));
    while (auto line = reader.NextLine()) {
      ASSERT_EQ(*line, std::to_string(next));
      ++next;
    }
  }
  EXPECT_EQ(next, 20000);
}

}  // namespace
}  // namespace workerd::proto
