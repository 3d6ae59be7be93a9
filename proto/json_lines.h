// Splitting a byte stream into JSON lines, with a bound on the line length so
// that a peer cannot make us buffer without limit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace workerd::proto {

// The longest request line the daemon accepts (PROTOCOL.md), '\n' excluded.
inline constexpr std::size_t kMaxLineBytes = 1 << 20;  // 1 MiB

// The longest response line a client accepts. Responses are produced by the
// daemon, which we trust more than its clients, and a status of many workers
// can be large; the bound only protects the client from a runaway peer.
inline constexpr std::size_t kMaxResponseLineBytes = 64 << 20;  // 64 MiB

// Accumulates received bytes and yields complete lines in order.
//
// Once the reader reaches a line longer than `max_line` bytes (the '\n' not
// counted), Overflowed() turns true and it yields nothing more: the stream
// can no longer be split reliably. Lines completed before the long one are
// still yielded first, so a peer's earlier requests can be answered. The
// bytes of an unterminated over-long line are dropped as they arrive, so the
// reader never holds much more than `max_line` bytes of a single line.
class LineReader {
 public:
  explicit LineReader(std::size_t max_line = kMaxLineBytes);

  // Adds received bytes. Ignored once the stream has overflowed.
  void Append(std::string_view bytes);

  // The next complete line without its '\n' (and without a '\r' before it),
  // or nullopt when no complete line is buffered or the reader overflowed.
  std::optional<std::string> NextLine();

  // Whether a line longer than the limit was reached.
  bool Overflowed() const { return overflowed_; }

  // Bytes received but not yet returned as lines (an over-long unterminated
  // line counts only as much as was kept of it).
  std::size_t BufferedBytes() const { return buffer_.size() - head_; }

  std::size_t max_line() const { return max_line_; }

 private:
  void Compact();

  std::size_t max_line_;
  std::string buffer_;
  std::size_t head_ = 0;        // start of the first unreturned line
  std::size_t scanned_ = 0;     // buffer_[head_, scanned_) holds no '\n'
  std::size_t tail_start_ = 0;  // start of the last, unterminated line
  bool tail_too_long_ = false;  // that line already exceeds max_line_
  bool overflowed_ = false;
};

}  // namespace workerd::proto
