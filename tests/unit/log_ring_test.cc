#include "daemon/log_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace workerd {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

// A record as the ring gave it back, with its text copied.
struct Kept {
  std::uint64_t sequence;
  WallTime time;
  int instance;
  OutputStream stream;
  bool ends_line;
  std::string text;
};

LogRecord Record(std::string_view text, int instance = 0,
                 OutputStream stream = OutputStream::kStdout,
                 bool ends_line = true,
                 WallTime time = WallTime(seconds(1'790'000'000))) {
  LogRecord record;
  record.time = time;
  record.instance = instance;
  record.stream = stream;
  record.ends_line = ends_line;
  record.text = text;
  return record;
}

std::vector<Kept> From(const LogRing& ring, std::uint64_t from) {
  std::vector<Kept> kept;
  ring.ForEachFrom(from, [&](const LogRecord& record) {
    kept.push_back({record.sequence, record.time, record.instance,
                    record.stream, record.ends_line, std::string(record.text)});
    return true;
  });
  return kept;
}

std::vector<std::uint64_t> SequencesFrom(const LogRing& ring,
                                         std::uint64_t from) {
  std::vector<std::uint64_t> sequences;
  for (const Kept& kept : From(ring, from)) sequences.push_back(kept.sequence);
  return sequences;
}

std::vector<std::uint64_t> Range(std::uint64_t first, std::uint64_t end) {
  std::vector<std::uint64_t> range;
  for (std::uint64_t i = first; i < end; ++i) range.push_back(i);
  return range;
}

// What one record with no text costs in size(): its header.
std::size_t HeaderBytes() {
  LogRing probe(1 << 20);
  probe.Append(Record(""));
  return probe.size();
}

TEST(LogRingTest, StartsEmpty) {
  const LogRing ring(4096);
  EXPECT_EQ(ring.capacity(), 4096u);
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.first_sequence(), 0u);
  EXPECT_EQ(ring.next_sequence(), 0u);
  EXPECT_TRUE(From(ring, 0).empty());
}

TEST(LogRingTest, KeepsEveryFieldExactly) {
  LogRing ring(1 << 20);
  const std::string with_nuls("a\0b\0\0c", 6);
  const std::string large(100'000, 'L');  // larger than any block
  const WallTime fine =
      WallTime(seconds(1'790'000'000)) +
      std::chrono::duration_cast<WallClock::duration>(nanoseconds(123'456'789));
  const WallTime before_1970 =
      WallTime(seconds(-86'400)) +
      std::chrono::duration_cast<WallClock::duration>(nanoseconds(1));
  ring.Append(Record("first line", 0, OutputStream::kStdout, true, fine));
  ring.Append(Record("", 3, OutputStream::kStderr, true, before_1970));
  ring.Append(Record(with_nuls, 1023, OutputStream::kStdout, false));
  ring.Append(Record(large, 2, OutputStream::kStderr, false));
  ring.Append(Record("tail", -1, OutputStream::kStderr, true));
  EXPECT_EQ(ring.first_sequence(), 0u);
  EXPECT_EQ(ring.next_sequence(), 5u);

  const std::vector<Kept> kept = From(ring, 0);
  ASSERT_EQ(kept.size(), 5u);
  for (std::uint64_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i].sequence, i);
  }
  EXPECT_EQ(kept[0].text, "first line");
  EXPECT_EQ(kept[0].time, fine);
  EXPECT_EQ(kept[0].instance, 0);
  EXPECT_EQ(kept[0].stream, OutputStream::kStdout);
  EXPECT_TRUE(kept[0].ends_line);

  EXPECT_EQ(kept[1].text, "");
  EXPECT_EQ(kept[1].time, before_1970);
  EXPECT_EQ(kept[1].instance, 3);
  EXPECT_EQ(kept[1].stream, OutputStream::kStderr);
  EXPECT_TRUE(kept[1].ends_line);

  EXPECT_EQ(kept[2].text, with_nuls);
  EXPECT_EQ(kept[2].text.size(), 6u);
  EXPECT_EQ(kept[2].instance, 1023);
  EXPECT_EQ(kept[2].stream, OutputStream::kStdout);
  EXPECT_FALSE(kept[2].ends_line);

  EXPECT_EQ(kept[3].text, large);
  EXPECT_EQ(kept[3].instance, 2);
  EXPECT_EQ(kept[3].stream, OutputStream::kStderr);
  EXPECT_FALSE(kept[3].ends_line);

  EXPECT_EQ(kept[4].text, "tail");
  EXPECT_EQ(kept[4].instance, -1);
  EXPECT_TRUE(kept[4].ends_line);
}

TEST(LogRingTest, SizeCountsHeadersAndText) {
  const std::size_t header = HeaderBytes();
  EXPECT_GT(header, 0u);
  LogRing ring(1 << 20);
  ring.Append(Record("abc"));
  EXPECT_EQ(ring.size(), header + 3);
  ring.Append(Record(""));
  EXPECT_EQ(ring.size(), 2 * header + 3);
  ring.Append(Record(std::string(5000, 'x')));
  EXPECT_EQ(ring.size(), 3 * header + 5003);
}

TEST(LogRingTest, ForEachFromStartsWhereAsked) {
  LogRing ring(1 << 20);
  for (int i = 0; i < 10; ++i) ring.Append(Record("line " + std::to_string(i)));
  EXPECT_EQ(SequencesFrom(ring, 0), Range(0, 10));
  EXPECT_EQ(SequencesFrom(ring, 4), Range(4, 10));
  EXPECT_EQ(SequencesFrom(ring, 9), Range(9, 10));
  EXPECT_TRUE(SequencesFrom(ring, ring.next_sequence()).empty());
  EXPECT_TRUE(SequencesFrom(ring, 1000).empty());
  const std::vector<Kept> kept = From(ring, 7);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].text, "line 7");
  EXPECT_EQ(kept[2].text, "line 9");
}

TEST(LogRingTest, VisitStopsWhenItReturnsFalse) {
  LogRing ring(1 << 20);
  for (int i = 0; i < 10; ++i) ring.Append(Record(std::to_string(i)));
  std::vector<std::string> seen;
  ring.ForEachFrom(2, [&](const LogRecord& record) {
    seen.emplace_back(record.text);
    return seen.size() < 3;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"2", "3", "4"}));
  int calls = 0;
  ring.ForEachFrom(0, [&](const LogRecord&) {
    ++calls;
    return false;
  });
  EXPECT_EQ(calls, 1);
}

TEST(LogRingTest, CapacityZeroKeepsNothing) {
  LogRing ring(0);
  for (int i = 0; i < 100; ++i) ring.Append(Record("something"));
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.first_sequence(), ring.next_sequence());
  EXPECT_TRUE(From(ring, 0).empty());
}

TEST(LogRingTest, KeepsARecordLargerThanTheCapacity) {
  LogRing ring(100);
  const std::string big(1000, 'b');
  ring.Append(Record(big));
  std::vector<Kept> kept = From(ring, 0);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].text, big);
  ring.Append(Record(std::string(1000, 'c')));
  kept = From(ring, 0);
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(kept.back().sequence, 1u);
  EXPECT_EQ(kept.back().text, std::string(1000, 'c'));
  EXPECT_GE(ring.size(), ring.capacity());
}

// Appends records of random sizes and checks, after each one, that the
// ring keeps the newest records, consecutively numbered and intact, in no
// less than its capacity and not much more.
void CheckDropsOldest(std::size_t capacity, std::size_t max_text, int count,
                      unsigned seed) {
  SCOPED_TRACE(::testing::Message() << "capacity " << capacity);
  const std::size_t header = HeaderBytes();
  std::mt19937 random(seed);
  std::vector<std::string> texts;
  // cost_before[i]: what records 0..i-1 cost together.
  std::vector<std::size_t> cost_before = {0};
  std::size_t largest = 0;
  LogRing ring(capacity);
  for (int i = 0; i < count; ++i) {
    const std::size_t size =
        std::uniform_int_distribution<std::size_t>(0, max_text)(random);
    std::string text(size, static_cast<char>('a' + i % 26));
    if (!text.empty()) text.front() = static_cast<char>(i % 251);
    ring.Append(Record(
        text, i % 4, i % 3 == 0 ? OutputStream::kStderr : OutputStream::kStdout,
        i % 5 != 0));
    texts.push_back(std::move(text));
    cost_before.push_back(cost_before.back() + header + size);
    largest = std::max(largest, header + size);

    const std::uint64_t first = ring.first_sequence();
    const std::uint64_t next = ring.next_sequence();
    ASSERT_EQ(next, static_cast<std::uint64_t>(i + 1));
    ASSERT_LE(first, next - 1) << "the newest record must be kept";
    // Exactly the records from first_sequence() on are held.
    ASSERT_EQ(ring.size(), cost_before[next] - cost_before[first]);
    // Never less than the capacity of the newest data ...
    ASSERT_GE(ring.size(), std::min(cost_before[next], capacity));
    // ... and about the capacity, not more than a block beyond it.
    ASSERT_LE(
        ring.size(),
        capacity + std::max<std::size_t>(capacity / 8, 64 << 10) + largest);

    if (i % 97 == 0 || i == count - 1) {
      const std::vector<Kept> kept = From(ring, 0);
      ASSERT_EQ(kept.size(), next - first);
      for (std::size_t k = 0; k < kept.size(); ++k) {
        const std::uint64_t sequence = first + k;
        ASSERT_EQ(kept[k].sequence, sequence);
        ASSERT_EQ(kept[k].text, texts[sequence]);
        ASSERT_EQ(kept[k].instance, static_cast<int>(sequence % 4));
        ASSERT_EQ(kept[k].ends_line, sequence % 5 != 0);
      }
      // From before the oldest kept: from the oldest kept.
      if (first > 0) {
        ASSERT_EQ(SequencesFrom(ring, first - 1), Range(first, next));
      }
      const std::uint64_t middle = first + (next - first) / 2;
      ASSERT_EQ(SequencesFrom(ring, middle), Range(middle, next));
    }
  }
  EXPECT_GT(ring.first_sequence(), 0u) << "nothing was ever dropped";
}

TEST(LogRingTest, DropsTheOldestAndKeepsAtLeastTheCapacity) {
  CheckDropsOldest(10'000, 300, 3000, 1);
  CheckDropsOldest(1 << 20, 3000, 2000, 2);
  // A tiny ring, and records larger than it.
  CheckDropsOldest(100, 400, 500, 3);
  CheckDropsOldest(1, 10, 500, 4);
}

TEST(LogRingTest, SetCapacityKeepsTheSequenceNumbers) {
  LogRing ring(8192);
  const std::string text(100, 'x');
  for (int n = 0; n < 200; ++n) ring.Append(Record(text));
  const std::uint64_t first = ring.first_sequence();
  ASSERT_GT(first, 0u);

  ring.SetCapacity(64 * 1024);  // larger: everything stays, more will
  EXPECT_EQ(ring.capacity(), 64u * 1024);
  EXPECT_EQ(ring.first_sequence(), first);
  EXPECT_EQ(SequencesFrom(ring, 0), Range(first, 200));
  for (int n = 200; n < 400; ++n) ring.Append(Record(text));
  EXPECT_EQ(ring.first_sequence(), first);
  EXPECT_EQ(ring.next_sequence(), 400u);

  ring.SetCapacity(4096);  // smaller: the oldest go at once
  EXPECT_GT(ring.first_sequence(), first);
  EXPECT_GE(ring.size(), 4096u);
  EXPECT_EQ(SequencesFrom(ring, 0), Range(ring.first_sequence(), 400));

  ring.SetCapacity(0);  // nothing kept, and the numbers go on
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.first_sequence(), 400u);
  ring.Append(Record(text));
  EXPECT_EQ(ring.next_sequence(), 400u);
  ring.SetCapacity(4096);
  ring.Append(Record(text));
  EXPECT_EQ(SequencesFrom(ring, 0), Range(400, 401));
}

}  // namespace
}  // namespace workerd
