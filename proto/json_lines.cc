#include "proto/json_lines.h"

namespace workerd::proto {

LineReader::LineReader(std::size_t max_line) : max_line_(max_line) {}

void LineReader::Append(std::string_view bytes) {
  // Past an over-long line nothing can be trusted; an unterminated over-long
  // line is reported when NextLine reaches it, so its rest is not kept either.
  if (overflowed_ || tail_too_long_ || bytes.empty()) return;
  const std::size_t old_size = buffer_.size();
  buffer_.append(bytes);
  // Only the new bytes can hold a newer line start: this keeps Append linear
  // in what is received, however the peer fragments a long line.
  const std::size_t last_newline = bytes.rfind('\n');
  if (last_newline != std::string_view::npos) {
    tail_start_ = old_size + last_newline + 1;
  }
  if (buffer_.size() - tail_start_ > max_line_) {
    tail_too_long_ = true;
    buffer_.resize(tail_start_);
  }
}

std::optional<std::string> LineReader::NextLine() {
  if (overflowed_) return std::nullopt;
  const std::size_t newline = buffer_.find('\n', scanned_);
  if (newline == std::string::npos) {
    scanned_ = buffer_.size();
    if (tail_too_long_) {
      // Every complete line before it has been returned: report it now.
      overflowed_ = true;
      buffer_.clear();
      buffer_.shrink_to_fit();
      head_ = scanned_ = tail_start_ = 0;
    }
    return std::nullopt;
  }
  if (newline - head_ > max_line_) {
    overflowed_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    head_ = scanned_ = tail_start_ = 0;
    return std::nullopt;
  }
  std::size_t end = newline;
  if (end > head_ && buffer_[end - 1] == '\r') --end;
  std::string line = buffer_.substr(head_, end - head_);
  head_ = scanned_ = newline + 1;
  Compact();
  return line;
}

void LineReader::Compact() {
  if (head_ == buffer_.size()) {
    buffer_.clear();
    head_ = scanned_ = tail_start_ = 0;
    return;
  }
  // Move the rest to the front only when that is cheap relative to what was
  // consumed, so that draining many short lines stays linear.
  if (head_ >= 4096 && head_ >= buffer_.size() / 2) {
    buffer_.erase(0, head_);
    scanned_ -= head_;
    tail_start_ = tail_start_ >= head_ ? tail_start_ - head_ : 0;
    head_ = 0;
  }
}

}  // namespace workerd::proto
