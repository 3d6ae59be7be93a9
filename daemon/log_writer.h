// Writes one output destination, a log file or one of workerd's own stdout
// and stderr, from a thread of its own: a slow disk or a stalled terminal
// never stalls the event loop. The loop hands over blocks of whole lines;
// while more than kHighWater bytes wait, Full() says so and the loop stops
// reading the pipes that feed it, so the workers wait (back-pressure), and
// nothing is dropped. A failed write (a full disk) is reported once and
// retried until it succeeds.
//
// A file is appended to, created 0640, and rotated by size: NAME.log moves
// to NAME.log.1, .1 to .2 and so on, keeping `keep` old files. Rotation
// happens between lines; a reload may change it (SetRotation) without
// opening the file again.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "daemon/loop_mailbox.h"
#include "daemon/unique_fd.h"

namespace workerd {

struct Rotation {
  std::uint64_t max_size = 0;  // 0: never rotate
  int keep = 0;
};

class LogWriter {
 public:
  static constexpr std::size_t kHighWater = 2 << 20;

  // Opens (creates) `path` for appending; an error is a sentence naming it.
  static std::variant<std::unique_ptr<LogWriter>, std::string> ForFile(
      std::string path, Rotation rotation, LoopMailbox& mailbox);
  // Writes to `fd`, which stays workerd's (1 or 2); `name` is for messages.
  static std::unique_ptr<LogWriter> ForStream(int fd, std::string name,
                                              LoopMailbox& mailbox);

  // Writes what is queued, then ends the thread. At shutdown a write that
  // keeps failing is given up after a few seconds, with a message.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // The path, or the stream's name.
  const std::string& name() const { return name_; }
  bool is_file() const { return is_file_; }

  // The rest is for the loop's thread only.
  bool Full() const;
  // An empty string to build the next block in: one the thread has
  // written, so its memory is reused instead of allocated per block.
  std::string TakeBuffer();
  void Write(std::string block);
  // `resume` runs on the loop once the writer is not full any more; at
  // once (soon) if it is not full now.
  void WhenRoom(std::function<void()> resume);
  // Reopens the file by its path, after what is queued now is written (for
  // logrotate's "move, then tell the daemon"). `done` runs on the loop with
  // an error sentence, or an empty one. A stream has nothing to reopen.
  void Reopen(std::function<void(std::string error)> done);
  // Rotates by `rotation` from the next block written on (what is queued
  // now may still be written by the old one). A stream ignores it.
  void SetRotation(Rotation rotation);
  // `done` runs on the loop once everything queued now has been written
  // (or given up on); whether the writer is still there or not.
  void AfterWritten(std::function<void()> done);

 private:
  LogWriter(UniqueFd fd, int borrowed_fd, std::string name, bool is_file,
            Rotation rotation, std::uint64_t size, LoopMailbox& mailbox);

  // The writer thread.
  void Run();
  void WriteBlock(std::string_view block);
  // Writes all of `data`; retries failures (reported once) until it works,
  // or until shutdown has waited long enough. False when given up.
  bool WriteAll(std::string_view data);
  void Rotate();
  std::string OpenAgain();
  int fd() const { return owned_ ? owned_.Get() : borrowed_fd_; }
  void PostRoom();

  UniqueFd owned_;
  int borrowed_fd_ = -1;
  const std::string name_;
  const bool is_file_;
  Rotation rotation_;  // the thread's; a new one comes through new_rotation_
  std::uint64_t size_ = 0;  // of the current file, as written by us
  LoopMailbox& mailbox_;
  bool rotation_failed_ = false;  // reported; tried again next time
  // Thread only: workerd's own stream is gone (said once); at shutdown,
  // failing writes were given up on (the rest is not retried either).
  bool stream_gone_ = false;
  bool gave_up_ = false;

  // Shared with the thread.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::vector<std::string> free_buffers_;
  std::size_t queued_bytes_ = 0;
  bool want_room_ = false;  // the loop waits for room: post when there is
  std::vector<std::function<void(std::string)>> reopen_requests_;
  std::optional<Rotation> new_rotation_;
  std::vector<std::function<void()>> written_requests_;
  bool stopping_ = false;

  // Loop side.
  std::vector<std::function<void()>> room_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  std::thread thread_;  // last: started once everything else is set
};

}  // namespace workerd
