// The output of one program's workers: where it goes (the program's `log`
// mode), the recent records kept for `workerctl logs`, and the clients
// following it live. Records come from OutputCapture, one read at a time;
// each becomes a line of the log file or of workerd's own output, an entry
// of the ring and a record for each follower.
//
// A reload changes a program's log in place (Reconfigure): the object
// stays, so the workers, their captures and the followers that point to it
// go on. Output captured after the change, also from workers started
// before it, goes to the new destination. A program switched to `journal`
// or `null` captures nothing new; what its old workers still write goes
// where it went before until their pipes end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/event_loop.h"
#include "daemon/line_splitter.h"
#include "daemon/log_ring.h"
#include "daemon/log_writer.h"
#include "daemon/output_stream.h"
#include "daemon/spawner.h"
#include "daemon/timestamp.h"
#include "daemon/unique_fd.h"

namespace workerd {

class OutputCapture;

// What a worker's process is started with, kept until the spawn is over:
// the write ends of its pipes are closed then, so that the capture sees
// the end of the output when the worker's processes are gone.
struct WorkerOutput {
  std::shared_ptr<OutputCapture> capture;  // null: nothing is captured
  UniqueFd stdout_write;
  UniqueFd stderr_write;
};

class ProgramLog {
 public:
  // `stdout_writer` and `stderr_writer` are workerd's own streams, for
  // `inherit`; `file_writer` is the program's file, for `file`. Null where
  // the mode does not use them.
  ProgramLog(EventLoop& loop, const ProgramSpec& spec,
             std::unique_ptr<LogWriter> file_writer, LogWriter* stdout_writer,
             LogWriter* stderr_writer);
  ~ProgramLog();
  ProgramLog(const ProgramLog&) = delete;
  ProgramLog& operator=(const ProgramLog&) = delete;

  // For a reload: the settings of `spec` (mode, timestamps, log_buffer,
  // rotation) from now on. With log = "file", `file_writer` is the new
  // file, or null to keep writing the one this log has (its rotation is
  // set from `spec`); with "inherit", `stdout_writer` and `stderr_writer`
  // are workerd's streams. A writer given up is closed once what was
  // queued for it is written, without holding up the loop.
  void Reconfigure(const ProgramSpec& spec,
                   std::unique_ptr<LogWriter> file_writer,
                   LogWriter* stdout_writer, LogWriter* stderr_writer);
  // SGR codes for the prefix of lines written to workerd's stdout and
  // stderr ("inherit"); empty for none. Lines of a file are never coloured.
  void SetPrefixColours(std::string_view for_stdout,
                        std::string_view for_stderr);

  const std::string& program() const { return program_; }
  LogMode mode() const { return mode_; }
  // The program's file writer; null unless log = "file".
  LogWriter* file_writer() const {
    return mode_ == LogMode::kFile ? file_writer_.get() : nullptr;
  }
  // The file captured output is written to: file_writer(), or after a
  // switch to `journal` or `null`, the file the old workers still write to.
  LogWriter* open_file() const { return file_writer_.get(); }
  const LogRing& ring() const { return ring_; }
  EventLoop& loop() const { return loop_; }

  // Sets the stdio of `request` for a process of `instance`: pipes to a
  // capture, the journal, or /dev/null. An error is a sentence.
  std::variant<WorkerOutput, std::string> PrepareOutput(int instance,
                                                        SpawnRequest* request);

  // Calls `on_append` after each read that added records to the ring,
  // until the returned handle is destroyed. Readers keep their place by
  // the ring's sequence numbers.
  class Subscription;
  std::unique_ptr<Subscription> Subscribe(std::function<void()> on_append);

  // For OutputCapture: one read's worth of a stream, and the end of an
  // unfinished line (`flush`).
  void Consume(int instance, OutputStream stream, LineSplitter& splitter,
               std::string_view data, bool flush);
  // Whether the writers this program's output goes to can take more, and
  // a way to hear when they can.
  bool Full() const;
  void WhenRoom(std::function<void()> resume);
  // For OutputCapture: both its pipes are at their end.
  void CaptureDone(const OutputCapture* capture);

 private:
  struct Subscriber {
    std::function<void()> on_append;
    bool active = true;
  };

  LogWriter* WriterFor(OutputStream stream) const;
  void TellSubscribers();
  // Closes `writer` once what is queued for it is written.
  void Retire(std::unique_ptr<LogWriter> writer);
  // No more output is captured for the current mode: let the writers go.
  void ReleaseWritersIfUnused();
  void WakeRoomWaiters();
  // Runs `work` on the loop later, unless this log is gone by then.
  void Later(std::function<void()> work);

  EventLoop& loop_;
  std::string program_;
  LogMode mode_;
  bool timestamps_;
  std::unique_ptr<LogWriter> file_writer_;
  LogWriter* stdout_writer_;
  LogWriter* stderr_writer_;
  std::string stdout_colour_;
  std::string stderr_colour_;
  // Writers this log no longer uses, until they have written their queue.
  std::vector<std::unique_ptr<LogWriter>> retired_;
  // Captures waiting for room in the writers (WhenRoom).
  std::vector<std::function<void()>> room_waiters_;
  LogRing ring_;
  TimestampFormatter timestamps_formatter_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  // Captures whose pipes are still open; a worker holds its current one
  // too. Kept until the end of their output, even past their worker.
  std::vector<std::shared_ptr<OutputCapture>> captures_;
  UniqueFd dev_null_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class ProgramLog::Subscription {
 public:
  explicit Subscription(std::shared_ptr<Subscriber> subscriber)
      : subscriber_(std::move(subscriber)) {}
  ~Subscription() { subscriber_->active = false; }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  std::shared_ptr<Subscriber> subscriber_;
};

}  // namespace workerd
