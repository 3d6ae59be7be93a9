#include "daemon/log_stream.h"

#include <fmt/format.h>

#include <deque>
#include <string>
#include <utility>

namespace workerd {

using proto::Json;

LogStream::LogStream(ProgramLog& log, Json id, Reply reply, LogFilter filter,
                     std::optional<std::size_t> last, bool follow)
    : log_(log),
      id_(std::move(id)),
      reply_(std::move(reply)),
      filter_(filter),
      last_(last),
      follow_(follow) {}

void LogStream::Start() {
  const LogRing& ring = log_.ring();
  cursor_ = last_ ? StartOfLast(*last_) : ring.first_sequence();
  end_ = ring.next_sequence();
  if (follow_) {
    // The subscription keeps the stream alive until Finish() ends it (the
    // client is cut off, or found gone at the next output).
    subscription_ = log_.Subscribe([self = shared_from_this()] { self->Pump(); });
  }
  Pump();
}

std::uint64_t LogStream::StartOfLast(std::size_t count) const {
  const LogRing& ring = log_.ring();
  if (count == 0) return ring.next_sequence();
  std::deque<std::uint64_t> matching;
  ring.ForEachFrom(ring.first_sequence(), [&](const LogRecord& record) {
    if (filter_.Matches(record)) {
      matching.push_back(record.sequence);
      if (matching.size() > count) matching.pop_front();
    }
    return true;
  });
  return matching.empty() ? ring.next_sequence() : matching.front();
}

Json LogStream::RecordJson(const LogRecord& record) {
  Json line = {{"time", std::string(timestamps_.Format(record.time))},
               {"program", log_.program()},
               {"instance", record.instance},
               {"stream", std::string(OutputStreamName(record.stream))},
               {"text", std::string(record.text)}};
  if (!record.ends_line) line["partial"] = true;
  return line;
}

void LogStream::Pump() {
  if (finished_) return;
  if (!reply_.Connected()) {
    Finish();
    return;
  }
  const LogRing& ring = log_.ring();
  if (cursor_ < ring.first_sequence()) {
    const std::uint64_t missed = ring.first_sequence() - cursor_;
    reply_(proto::Response::Failure(
        id_, {proto::error_code::kTooSlow,
              fmt::format("stopped: this client read more slowly than {} "
                          "wrote, and {} line{} it had not been sent yet "
                          "were dropped from memory (log_buffer); the log "
                          "file or a new `workerctl logs -f` has the rest",
                          log_.program(), missed, missed == 1 ? "" : "s")}));
    Finish();
    return;
  }
  if (waiting_for_drain_) return;
  const std::uint64_t end = follow_ ? ring.next_sequence() : end_;
  while (reply_.Unsent() < kMaxUnread) {
    Json lines = Json::array();
    std::size_t bytes = 0;
    ring.ForEachFrom(cursor_, [&](const LogRecord& record) {
      if (record.sequence >= end) return false;
      cursor_ = record.sequence + 1;
      if (filter_.Matches(record)) {
        lines.push_back(RecordJson(record));
        bytes += record.text.size() + 100;
      }
      return bytes < kBatchBytes;
    });
    const bool complete = cursor_ >= end;
    if (complete && !follow_) {
      reply_(proto::Response::Success(id_, {{"lines", std::move(lines)}}));
      Finish();
      return;
    }
    if (!lines.empty()) {
      reply_(proto::Response::Interim(id_, {{"lines", std::move(lines)}}));
    }
    if (complete) return;  // following: the subscription wakes us
  }
  // The client has enough to read for now.
  waiting_for_drain_ = true;
  reply_.WhenDrained([self = shared_from_this()] {
    self->waiting_for_drain_ = false;
    self->Pump();
  });
}

void LogStream::Finish() {
  finished_ = true;
  subscription_.reset();
}

}  // namespace workerd
