// Answers one `logs` request (PROTOCOL.md): the records a program's ring
// holds, then with `follow` whatever comes after, in batches sent as fast
// as the client takes them and no faster. The reader keeps its place by
// the ring's sequence numbers, so a client that does not read costs
// workerd nothing but its place; once the ring has dropped records the
// client had not been sent, it is cut off with `too_slow` instead of
// slowing workerd or the workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "daemon/control_server.h"
#include "daemon/output_stream.h"
#include "daemon/program_log.h"
#include "daemon/timestamp.h"
#include "proto/message.h"

namespace workerd {

// Which records a reader wants.
struct LogFilter {
  std::optional<int> instance;         // nullopt: every instance
  std::optional<OutputStream> stream;  // nullopt: both

  bool Matches(const LogRecord& record) const {
    return (!instance || record.instance == *instance) &&
           (!stream || record.stream == *stream);
  }
};

class LogStream : public std::enable_shared_from_this<LogStream> {
 public:
  // Text per response, about; a batch never splits a record.
  static constexpr std::size_t kBatchBytes = 64 * 1024;
  // No more is sent while the client has this much unread.
  static constexpr std::size_t kMaxUnread = 256 * 1024;

  // `last`: only the last N matching records (nullopt: all the ring has).
  LogStream(ProgramLog& log, proto::Json id, Reply reply, LogFilter filter,
            std::optional<std::size_t> last, bool follow);

  // Sends the first batches; the stream keeps itself alive from then on
  // (through its subscription and the connection's callbacks) until done.
  void Start();

 private:
  void Pump();
  void Finish();
  std::uint64_t StartOfLast(std::size_t count) const;
  proto::Json RecordJson(const LogRecord& record);

  ProgramLog& log_;
  proto::Json id_;
  Reply reply_;
  LogFilter filter_;
  std::optional<std::size_t> last_;
  bool follow_;
  std::uint64_t cursor_ = 0;
  // Without `follow`: where the answer ends (the ring's end at the start).
  std::uint64_t end_ = 0;
  bool waiting_for_drain_ = false;
  bool finished_ = false;
  std::unique_ptr<ProgramLog::Subscription> subscription_;
  TimestampFormatter timestamps_;
};

}  // namespace workerd
