#include "daemon/log_ring.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace workerd {

LogRing::LogRing(std::size_t capacity)
    : capacity_(capacity),
      block_bytes_(std::clamp<std::size_t>(capacity / 8, 4096, 64 * 1024)) {}

std::uint64_t LogRing::first_sequence() const {
  return blocks_.empty() ? next_sequence_ : blocks_.front().first_sequence;
}

LogRing::Block LogRing::NewBlock(std::size_t at_least) {
  Block block;
  if (spare_.data && spare_.capacity >= at_least) {
    block = std::move(spare_);
    spare_ = Block();
  } else {
    block.capacity = std::max(at_least, block_bytes_);
    block.data = std::make_unique_for_overwrite<char[]>(block.capacity);
  }
  block.used = 0;
  block.first_sequence = next_sequence_;
  return block;
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
  if (blocks_.empty() || blocks_.back().used + bytes > blocks_.back().capacity) {
    blocks_.push_back(NewBlock(bytes));
  }
  Block& block = blocks_.back();
  char* out = block.data.get() + block.used;
  std::memcpy(out, &header, sizeof header);
  std::memcpy(out + sizeof header, record.text.data(), record.text.size());
  block.used += bytes;
  size_ += bytes;
  ++next_sequence_;
  Trim();
}

void LogRing::SetCapacity(std::size_t capacity) {
  capacity_ = capacity;
  block_bytes_ = std::clamp<std::size_t>(capacity / 8, 4096, 64 * 1024);
  if (capacity_ == 0) {
    blocks_.clear();
    spare_ = Block();
    size_ = 0;
    return;
  }
  Trim();
}

void LogRing::Trim() {
  // Whole blocks go, oldest first, as long as what stays is still at least
  // the capacity: the ring never holds less than it was asked to keep.
  while (blocks_.size() > 1 && size_ - blocks_.front().used >= capacity_) {
    size_ -= blocks_.front().used;
    spare_ = std::move(blocks_.front());
    blocks_.pop_front();
  }
}

}  // namespace workerd
