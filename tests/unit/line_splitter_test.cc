#include "daemon/line_splitter.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace workerd {
namespace {

// A record as emitted: its text and whether it ends its line.
using Piece = std::pair<std::string, bool>;
using Pieces = std::vector<Piece>;

// Collects what the splitter emits, copying the text (only valid during the
// call).
class Collector {
 public:
  explicit Collector(std::size_t max_line = kMaxLogLineBytes)
      : splitter_(max_line) {}

  Pieces Feed(std::string_view data) {
    Pieces pieces;
    splitter_.Feed(data, [&](LinePiece piece) {
      pieces.emplace_back(std::string(piece.text), piece.ends_line);
    });
    return pieces;
  }

  Pieces Flush() {
    Pieces pieces;
    splitter_.Flush([&](LinePiece piece) {
      pieces.emplace_back(std::string(piece.text), piece.ends_line);
    });
    return pieces;
  }

  // Feeds `data` in chunks of `chunk` bytes (the last may be shorter), then
  // flushes.
  Pieces FeedInChunks(std::string_view data, std::size_t chunk) {
    Pieces pieces;
    while (!data.empty()) {
      const std::string_view part = data.substr(0, chunk);
      data.remove_prefix(part.size());
      for (Piece& piece : Feed(part)) pieces.push_back(std::move(piece));
    }
    for (Piece& piece : Flush()) pieces.push_back(std::move(piece));
    return pieces;
  }

  std::size_t held() const { return splitter_.held(); }

 private:
  LineSplitter splitter_;
};

Pieces Split(std::string_view data, std::size_t max_line = kMaxLogLineBytes) {
  return Collector(max_line).FeedInChunks(data, data.size() + 1);
}

// Two-, three- and four-byte characters.
const std::string kE = "\xC3\xA9";              // é
const std::string kEuro = "\xE2\x82\xAC";       // €
const std::string kSmile = "\xF0\x9F\x98\x80";  // 😀

TEST(LineSplitterTest, EmitsOneRecordPerLineWithoutItsNewline) {
  Collector lines;
  EXPECT_EQ(lines.Feed("one\ntwo\nthree\n"),
            (Pieces{{"one", true}, {"two", true}, {"three", true}}));
  EXPECT_EQ(lines.held(), 0u);
  EXPECT_EQ(lines.Flush(), Pieces{});
}

TEST(LineSplitterTest, HoldsAnUnfinishedLineUntilItsNewline) {
  Collector lines;
  EXPECT_EQ(lines.Feed("hel"), Pieces{});
  EXPECT_EQ(lines.held(), 3u);
  EXPECT_EQ(lines.Feed("lo"), Pieces{});
  EXPECT_EQ(lines.held(), 5u);
  EXPECT_EQ(lines.Feed(" world\nnext"), (Pieces{{"hello world", true}}));
  EXPECT_EQ(lines.held(), 4u);
  EXPECT_EQ(lines.Feed(" line\nlast\n"),
            (Pieces{{"next line", true}, {"last", true}}));
  EXPECT_EQ(lines.held(), 0u);
}

TEST(LineSplitterTest, ANewlineAloneEndsTheHeldLine) {
  Collector lines;
  EXPECT_EQ(lines.Feed("abc"), Pieces{});
  EXPECT_EQ(lines.Feed("\n"), (Pieces{{"abc", true}}));
  EXPECT_EQ(lines.held(), 0u);
}

TEST(LineSplitterTest, ByteByByteGivesTheSameLines) {
  const std::string text = "one\n\ntwo\r\nthree";
  Collector lines;
  Pieces pieces;
  std::vector<std::size_t> held;
  for (char c : text) {
    for (Piece& piece : lines.Feed(std::string_view(&c, 1))) {
      pieces.push_back(std::move(piece));
    }
    held.push_back(lines.held());
  }
  EXPECT_EQ(pieces, (Pieces{{"one", true}, {"", true}, {"two\r", true}}));
  EXPECT_EQ(held, (std::vector<std::size_t>{1, 2, 3, 0, 0, 1, 2, 3, 4, 0, 1, 2,
                                            3, 4, 5}));
  EXPECT_EQ(lines.Flush(), (Pieces{{"three", true}}));
  EXPECT_EQ(lines.held(), 0u);
}

TEST(LineSplitterTest, EmptyLinesAreRecordsToo) {
  EXPECT_EQ(Split("\n\n\n"), (Pieces{{"", true}, {"", true}, {"", true}}));
  EXPECT_EQ(Split("a\n\nb\n"), (Pieces{{"a", true}, {"", true}, {"b", true}}));
  Collector lines;
  EXPECT_EQ(lines.Feed("x"), Pieces{});
  EXPECT_EQ(lines.Feed("\n\n"), (Pieces{{"x", true}, {"", true}}));
}

TEST(LineSplitterTest, KeepsCarriageReturnsAsTheyAre) {
  EXPECT_EQ(Split("a\r\nb\r\n"), (Pieces{{"a\r", true}, {"b\r", true}}));
  EXPECT_EQ(Split("progress 10%\rprogress 20%\r\n"),
            (Pieces{{"progress 10%\rprogress 20%\r", true}}));
  EXPECT_EQ(Split("\r\n"), (Pieces{{"\r", true}}));
  // A CR split from its LF across feeds stays part of the line.
  Collector lines;
  EXPECT_EQ(lines.Feed("a\r"), Pieces{});
  EXPECT_EQ(lines.Feed("\n"), (Pieces{{"a\r", true}}));
}

TEST(LineSplitterTest, KeepsNulBytesAndOtherBinary) {
  const std::string text("a\0b\xFF\n", 5);
  EXPECT_EQ(Split(text), (Pieces{{std::string("a\0b\xFF", 4), true}}));
}

TEST(LineSplitterTest, FlushEmitsTheHeldPartOnce) {
  Collector lines;
  EXPECT_EQ(lines.Flush(), Pieces{});  // nothing held yet
  EXPECT_EQ(lines.Feed("partial"), Pieces{});
  EXPECT_EQ(lines.Flush(), (Pieces{{"partial", true}}));
  EXPECT_EQ(lines.held(), 0u);
  EXPECT_EQ(lines.Flush(), Pieces{});
  // A line after a flush starts afresh.
  EXPECT_EQ(lines.Feed("next\n"), (Pieces{{"next", true}}));
  EXPECT_EQ(lines.Flush(), Pieces{});
}

TEST(LineSplitterTest, FlushAfterALineEndedEmitsNothing) {
  Collector lines;
  EXPECT_EQ(lines.Feed("done\n"), (Pieces{{"done", true}}));
  EXPECT_EQ(lines.Flush(), Pieces{});
}

TEST(LineSplitterTest, ALineOfExactlyTheLimitIsOneRecord) {
  EXPECT_EQ(Split("abcd\n", 4), (Pieces{{"abcd", true}}));
  EXPECT_EQ(Split(std::string(kMaxLogLineBytes, 'x') + "\n"),
            (Pieces{{std::string(kMaxLogLineBytes, 'x'), true}}));
  Collector lines(4);
  EXPECT_EQ(lines.Feed("abcd"), Pieces{});
  EXPECT_EQ(lines.held(), 4u);
  EXPECT_EQ(lines.Feed("\n"), (Pieces{{"abcd", true}}));
}

TEST(LineSplitterTest, CutsALongLineFedInOneChunk) {
  EXPECT_EQ(Split("abcdefghij\n", 4),
            (Pieces{{"abcd", false}, {"efgh", false}, {"ij", true}}));
  // A multiple of the limit: the last piece is full, and no empty record
  // follows it.
  EXPECT_EQ(Split("abcdefgh\n", 4), (Pieces{{"abcd", false}, {"efgh", true}}));
  EXPECT_EQ(Split("abcde\nxy\n", 4),
            (Pieces{{"abcd", false}, {"e", true}, {"xy", true}}));
}

TEST(LineSplitterTest, CutsALongLineFedInManyChunks) {
  const std::string line = "abcdefghijklmnopq";
  const Pieces expected = {{"abcd", false},
                           {"efgh", false},
                           {"ijkl", false},
                           {"mnop", false},
                           {"q", true}};
  for (std::size_t chunk = 1; chunk <= line.size() + 1; ++chunk) {
    EXPECT_EQ(Collector(4).FeedInChunks(line + "\n", chunk), expected)
        << "chunks of " << chunk;
  }
}

TEST(LineSplitterTest, CutsTheDefaultLimit) {
  const std::string line = std::string(kMaxLogLineBytes, 'a') + "bc";
  EXPECT_EQ(
      Split(line + "\n"),
      (Pieces{{std::string(kMaxLogLineBytes, 'a'), false}, {"bc", true}}));
  EXPECT_EQ(
      Collector().FeedInChunks(line + "\n", 1000),
      (Pieces{{std::string(kMaxLogLineBytes, 'a'), false}, {"bc", true}}));
}

TEST(LineSplitterTest, HeldCountsOnlyWhatIsNotEmittedYet) {
  Collector lines(4);
  EXPECT_EQ(lines.Feed("abcdef"), (Pieces{{"abcd", false}}));
  EXPECT_EQ(lines.held(), 2u);
  EXPECT_EQ(lines.Feed("gh"), Pieces{});
  EXPECT_EQ(lines.held(), 4u);
  EXPECT_EQ(lines.Feed("i"), (Pieces{{"efgh", false}}));
  EXPECT_EQ(lines.held(), 1u);
  EXPECT_EQ(lines.Feed("jklmnopqrs"),
            (Pieces{{"ijkl", false}, {"mnop", false}}));
  EXPECT_EQ(lines.held(), 3u);
  // The rest of a cut line ends it when flushed.
  EXPECT_EQ(lines.Flush(), (Pieces{{"qrs", true}}));
  EXPECT_EQ(lines.held(), 0u);
}

TEST(LineSplitterTest, NeverHoldsMoreThanTheLimit) {
  Collector lines(8);
  for (int i = 0; i < 100; ++i) {
    lines.Feed("0123456789abc");
    EXPECT_LE(lines.held(), 8u);
  }
}

TEST(LineSplitterTest, CutsBeforeATwoByteCharacterThatStraddlesTheLimit) {
  // "abc" + é is 5 bytes; é would start at byte 3 and end at byte 4.
  EXPECT_EQ(Split("abc" + kE + "\n", 4), (Pieces{{"abc", false}, {kE, true}}));
  // When it ends exactly at the limit, nothing moves.
  EXPECT_EQ(Split("ab" + kE + "x\n", 4),
            (Pieces{{"ab" + kE, false}, {"x", true}}));
  EXPECT_EQ(Split("ab" + kE + "\n", 4), (Pieces{{"ab" + kE, true}}));
}

TEST(LineSplitterTest, CutsBeforeAThreeByteCharacterThatStraddlesTheLimit) {
  EXPECT_EQ(Split("abc" + kEuro + "\n", 4),
            (Pieces{{"abc", false}, {kEuro, true}}));
  EXPECT_EQ(Split("ab" + kEuro + "\n", 4),
            (Pieces{{"ab", false}, {kEuro, true}}));
  EXPECT_EQ(Split("a" + kEuro + "b\n", 4),
            (Pieces{{"a" + kEuro, false}, {"b", true}}));
  EXPECT_EQ(Split(kEuro + kEuro + kEuro + "\n", 4),
            (Pieces{{kEuro, false}, {kEuro, false}, {kEuro, true}}));
}

TEST(LineSplitterTest, CutsBeforeAFourByteCharacterThatStraddlesTheLimit) {
  EXPECT_EQ(Split("abc" + kSmile + "\n", 4),
            (Pieces{{"abc", false}, {kSmile, true}}));
  EXPECT_EQ(Split("ab" + kSmile + "\n", 4),
            (Pieces{{"ab", false}, {kSmile, true}}));
  // Backing up the full three bytes.
  EXPECT_EQ(Split("a" + kSmile + "\n", 4),
            (Pieces{{"a", false}, {kSmile, true}}));
  EXPECT_EQ(Split(kSmile + kSmile + "\n", 4),
            (Pieces{{kSmile, false}, {kSmile, true}}));
  EXPECT_EQ(Split("abcdefg" + kSmile + "h\n", 8),
            (Pieces{{"abcdefg", false}, {kSmile + "h", true}}));
}

TEST(LineSplitterTest, CharacterBoundariesHoldWhenFedInPieces) {
  const std::string line = "a" + kSmile + "bc" + kEuro + kE + "d" + kSmile;
  const Pieces expected = Split(line + "\n", 4);
  EXPECT_EQ(expected, (Pieces{{"a", false},
                              {kSmile, false},
                              {"bc", false},
                              {kEuro, false},
                              {kE + "d", false},
                              {kSmile, true}}));
  for (std::size_t chunk = 1; chunk <= line.size(); ++chunk) {
    EXPECT_EQ(Collector(4).FeedInChunks(line + "\n", chunk), expected)
        << "chunks of " << chunk;
  }
}

TEST(LineSplitterTest, CutsTextThatIsNotUtf8AtTheLimit) {
  // Continuation bytes only: there is no character start to back up to.
  const std::string continuation(10, '\x80');
  EXPECT_EQ(Split(continuation + "\n", 4),
            (Pieces{{std::string(4, '\x80'), false},
                    {std::string(4, '\x80'), false},
                    {std::string(2, '\x80'), true}}));
  // More continuation bytes than any character has, after a lead byte.
  EXPECT_EQ(Split("\xF0" + std::string(6, '\x80') + "\n", 4),
            (Pieces{{"\xF0" + std::string(3, '\x80'), false},
                    {std::string(3, '\x80'), true}}));
  // Stray continuation bytes after ASCII or after a whole character: no
  // character straddles the limit, so there is nothing to keep whole.
  EXPECT_EQ(Split("ab" + std::string(5, '\x80') + "\n", 4),
            (Pieces{{"ab\x80\x80", false}, {std::string(3, '\x80'), true}}));
  EXPECT_EQ(Split("abc\x80\x80\n", 4),
            (Pieces{{"abc\x80", false}, {"\x80", true}}));
  EXPECT_EQ(Split("a" + kE + "\x80\x80\n", 4),
            (Pieces{{"a" + kE + "\x80", false}, {"\x80", true}}));
  // Bytes that are never UTF-8 are cut like ASCII.
  EXPECT_EQ(Split("\xFF\xFF\xFF\xFF\xFF\n", 4),
            (Pieces{{"\xFF\xFF\xFF\xFF", false}, {"\xFF", true}}));
}

TEST(LineSplitterTest, ACharacterLongerThanTheLimitIsCutAnyway) {
  // No progress is possible otherwise; the bytes all come out, in order.
  for (std::size_t max_line = 1; max_line <= 3; ++max_line) {
    const Pieces pieces = Split(kSmile + "\n", max_line);
    std::string joined;
    for (const auto& [text, ends_line] : pieces) {
      EXPECT_FALSE(text.empty());
      EXPECT_LE(text.size(), max_line);
      joined += text;
    }
    EXPECT_EQ(joined, kSmile) << "max_line " << max_line;
    ASSERT_FALSE(pieces.empty());
    EXPECT_TRUE(pieces.back().second);
  }
}

TEST(LineSplitterTest, ATinyLimitStillEmitsEveryByte) {
  EXPECT_EQ(Split("abc\n", 1),
            (Pieces{{"a", false}, {"b", false}, {"c", true}}));
  EXPECT_EQ(Split("ab\n\nc\n", 1),
            (Pieces{{"a", false}, {"b", true}, {"", true}, {"c", true}}));
}

// Lines of random bytes: ASCII, CR, characters of every length and stray
// continuation and invalid bytes.
std::string RandomText(std::mt19937& random, bool valid_utf8) {
  static const std::vector<std::string> kAtoms = {
      "a", "b", "z", " ", "\r", "\n", "\n", kE, kEuro, kSmile};
  static const std::vector<std::string> kInvalid = {"\x80", "\xBF", "\xFF",
                                                    "\xC3", "\xF0\x9F"};
  std::string text;
  const int atoms = std::uniform_int_distribution<int>(0, 120)(random);
  for (int i = 0; i < atoms; ++i) {
    if (!valid_utf8 && random() % 5 == 0) {
      text += kInvalid[random() % kInvalid.size()];
    } else {
      text += kAtoms[random() % kAtoms.size()];
    }
  }
  return text;
}

// The lines of `text` as records are expected to rebuild them: split at
// each newline, the last one kept (even when empty) only if it is not.
std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t newline;
       (newline = text.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    lines.push_back(text.substr(start, newline - start));
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

TEST(LineSplitterTest, PiecesRebuildEveryLineWhateverTheChunks) {
  std::mt19937 random(20240611);
  for (int round = 0; round < 2000; ++round) {
    const bool valid_utf8 = round % 2 == 0;
    const std::string text = RandomText(random, valid_utf8);
    const std::size_t max_line =
        std::uniform_int_distribution<std::size_t>(1, 12)(random);
    SCOPED_TRACE(::testing::Message()
                 << "round " << round << ", max_line " << max_line << ", "
                 << ::testing::PrintToString(text));

    // Random chunks, including empty ones.
    Collector collector(max_line);
    Pieces pieces;
    std::string_view rest = text;
    while (!rest.empty()) {
      const std::size_t size =
          std::uniform_int_distribution<std::size_t>(0, 9)(random);
      const std::string_view chunk = rest.substr(0, size);
      rest.remove_prefix(chunk.size());
      for (Piece& piece : collector.Feed(chunk)) {
        pieces.push_back(std::move(piece));
      }
      ASSERT_LE(collector.held(), max_line);
    }
    for (Piece& piece : collector.Flush()) pieces.push_back(std::move(piece));
    ASSERT_EQ(collector.held(), 0u);

    // The same records as when fed in one piece.
    ASSERT_EQ(pieces, Split(text, max_line));

    std::vector<std::string> rebuilt;
    std::string line;
    for (const auto& [piece, ends_line] : pieces) {
      ASSERT_LE(piece.size(), max_line);
      if (!ends_line) {
        // A cut is as late as it may be: at the limit, or at most three
        // bytes before it to keep a character whole.
        ASSERT_FALSE(piece.empty());
        if (max_line >= 4) {
          ASSERT_GE(piece.size(), max_line - 3);
        }
      }
      line += piece;
      if (ends_line) rebuilt.push_back(std::exchange(line, {}));
    }
    ASSERT_EQ(line, "") << "the last record must end its line";
    ASSERT_EQ(rebuilt, LinesOf(text));

    if (valid_utf8 && max_line >= 4) {
      // No character is split: every piece is whole characters, and a cut
      // piece is as long as whole characters allow.
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        const std::string& piece = pieces[i].first;
        if (!piece.empty()) {
          ASSERT_FALSE(IsContinuation(piece.front()));
        }
        if (!pieces[i].second) {
          ASSERT_LT(i + 1, pieces.size());
          const std::string& next = pieces[i + 1].first;
          std::size_t next_character = 1;
          while (next_character < next.size() &&
                 IsContinuation(next[next_character])) {
            ++next_character;
          }
          ASSERT_GT(piece.size() + next_character, max_line);
        }
      }
    }
  }
}

}  // namespace
}  // namespace workerd
