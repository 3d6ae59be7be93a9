// The recent output of one program, kept in memory for `workerctl logs`:
// records of every instance and stream, oldest first, in at most about
// `capacity` bytes. Every record gets the next sequence number, so a
// reader can keep its place (a cursor) while records come and go. Records
// are packed into blocks, so keeping a line costs one copy and no
// allocation of its own; the oldest blocks are dropped whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/output_stream.h"
#include "daemon/timestamp.h"

namespace workerd {

struct LogRecord {
  WallTime time;
  int instance = 0;
  OutputStream stream = OutputStream::kStdout;
  // False when the line goes on in the next record of its stream (cut).
  bool ends_line = true;
  std::string_view text;
  std::uint64_t sequence = 0;  // set by the ring
};

class LogRing {
 public:
  // 0 keeps nothing.
  explicit LogRing(std::size_t capacity);

  void Append(const LogRecord& record);
  // Keeps about `capacity` bytes from now on (0: nothing); when smaller,
  // the oldest records go at once. Sequence numbers go on, so readers keep
  // their place (a reload that changes log_buffer).
  void SetCapacity(std::size_t capacity);

  // Calls visit(const LogRecord&) for each record kept whose sequence
  // number is `from` or later, oldest first, until visit returns false.
  // The records' text is valid during the call only.
  template <typename Visit>
  void ForEachFrom(std::uint64_t from, Visit&& visit) const;

  // The sequence number of the oldest record kept, and of the next one to
  // come: they are equal when nothing is kept.
  std::uint64_t first_sequence() const;
  std::uint64_t next_sequence() const { return next_sequence_; }

  std::size_t capacity() const { return capacity_; }
  // Bytes held, headers included.
  std::size_t size() const { return size_; }

 private:
  struct Header {
    std::int64_t time_ns;
    std::int32_t instance;
    std::uint32_t length;
    std::uint8_t stream;
    std::uint8_t ends_line;
  };
  // A fixed buffer: records are copied in with memcpy and never moved.
  struct Block {
    std::uint64_t first_sequence = 0;
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
    std::size_t used = 0;

    std::string_view bytes() const { return {data.get(), used}; }
  };

  Block NewBlock(std::size_t at_least);
  // Drops the oldest blocks while what stays is at least the capacity.
  void Trim();

  std::size_t capacity_;
  // An eighth of the capacity, from 4 KiB to 64 KiB: dropping a block
  // forgets little, and a small ring stays small.
  std::size_t block_bytes_;
  std::size_t size_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::deque<Block> blocks_;
  // The last block dropped, to be filled again: its memory stays warm in
  // the cache and nothing is allocated per block.
  Block spare_;
};

template <typename Visit>
void LogRing::ForEachFrom(std::uint64_t from, Visit&& visit) const {
  // The last block that starts at or before `from`.
  std::size_t index = 0;
  while (index + 1 < blocks_.size() &&
         blocks_[index + 1].first_sequence <= from) {
    ++index;
  }
  for (; index < blocks_.size(); ++index) {
    const Block& block = blocks_[index];
    std::uint64_t sequence = block.first_sequence;
    std::size_t at = 0;
    const std::string_view bytes = block.bytes();
    while (at + sizeof(Header) <= bytes.size()) {
      Header header;
      bytes.copy(reinterpret_cast<char*>(&header), sizeof header, at);
      at += sizeof header;
      const std::size_t text_at = at;
      at += header.length;
      if (sequence++ < from) continue;
      LogRecord record;
      record.time = WallTime(std::chrono::duration_cast<WallClock::duration>(
          std::chrono::nanoseconds(header.time_ns)));
      record.instance = header.instance;
      record.stream = static_cast<OutputStream>(header.stream);
      record.ends_line = header.ends_line != 0;
      record.text = bytes.substr(text_at, header.length);
      record.sequence = sequence - 1;
      if (!visit(record)) return;
    }
  }
}

}  // namespace workerd
