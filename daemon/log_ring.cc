#include "daemon/log_ring.h"

#include <algorithm>

namespace workerd {

LogRing::LogRing(std::size_t capacity)
    : capacity_(capacity),
      block_bytes_(std::clamp<std::size_t>(capacity / 8, 4096, 64 * 1024)) {}

std::uint64_t LogRing::first_sequence() const {
  return blocks_.empty() ? next_sequence_ : blocks_.front().first_sequence;
}

void LogRing::Append(const LogRecord& record) {
  if (capacity_ == 0) return;
  Header header{};
  header.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       record.time.time_since_epoch())
                       .count();
  header.instance = record.instance;
  header.length = static_cast<std::uint32_t>(record.text.size());
  header.stream = static_cast<std::uint8_t>(record.stream);
  header.ends_line = record.ends_line ? 1 : 0;
  const std::size_t bytes = sizeof header + record.text.size();
  if (blocks_.empty() || blocks_.back().bytes.size() + bytes > block_bytes_) {
    blocks_.emplace_back();
    blocks_.back().first_sequence = next_sequence_;
    blocks_.back().bytes.swap(spare_);
    blocks_.back().bytes.reserve(std::max(bytes, block_bytes_));
  }
  std::string& block = blocks_.back().bytes;
  block.append(reinterpret_cast<const char*>(&header), sizeof header);
  block.append(record.text);
  size_ += bytes;
  ++next_sequence_;
  // Whole blocks go, oldest first, as long as what stays is still at least
  // the capacity: the ring never holds less than it was asked to keep.
  while (blocks_.size() > 1 &&
         size_ - blocks_.front().bytes.size() >= capacity_) {
    size_ -= blocks_.front().bytes.size();
    spare_.swap(blocks_.front().bytes);
    spare_.clear();
    blocks_.pop_front();
  }
}

}  // namespace workerd
