#include "daemon/program_log.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "daemon/journal_stream.h"
#include "daemon/log_prefix.h"
#include "daemon/output_capture.h"

namespace workerd {
namespace {

constexpr int kPipeBytes = 1 << 20;

// Pipes for one stream: the read end non-blocking for the loop, the write
// end as a process expects its stdout (blocking), both CLOEXEC (the
// spawner places the write end at fd 1 or 2 itself).
bool MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  // A larger pipe lets a chatty worker write on while workerd is busy and
  // halves the wake-ups of both under a flood. The memory is the kernel's
  // and only used while output waits; refused (over pipe-max-size or the
  // user's pipe quota), the default of 64 KiB stays.
  (void)::fcntl(fds[1], F_SETPIPE_SZ, kPipeBytes);
  return ::fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0;
}

// Where the ring keeps anything: only what workerd captures can be kept.
std::size_t RingCapacity(const ProgramSpec& spec) {
  return spec.log == LogMode::kFile || spec.log == LogMode::kInherit
             ? spec.log_buffer
             : 0;
}

bool Captures(LogMode mode) {
  return mode == LogMode::kFile || mode == LogMode::kInherit;
}

}  // namespace

ProgramLog::ProgramLog(EventLoop& loop, const ProgramSpec& spec,
                       std::unique_ptr<LogWriter> file_writer,
                       LogWriter* stdout_writer, LogWriter* stderr_writer)
    : loop_(loop),
      program_(spec.name),
      mode_(spec.log),
      timestamps_(spec.log_timestamps),
      file_writer_(std::move(file_writer)),
      stdout_writer_(stdout_writer),
      stderr_writer_(stderr_writer),
      ring_(RingCapacity(spec)) {}

ProgramLog::~ProgramLog() {
  *alive_ = false;
  // workerd is going: what the last processes left is written.
  std::vector<std::shared_ptr<OutputCapture>> captures;
  captures.swap(captures_);
  for (auto& capture : captures) capture->ProcessExited();
}

LogWriter* ProgramLog::WriterFor(OutputStream stream) const {
  if (file_writer_) return file_writer_.get();
  return stream == OutputStream::kStdout ? stdout_writer_ : stderr_writer_;
}

void ProgramLog::Reconfigure(const ProgramSpec& spec,
                             std::unique_ptr<LogWriter> file_writer,
                             LogWriter* stdout_writer,
                             LogWriter* stderr_writer) {
  mode_ = spec.log;
  timestamps_ = spec.log_timestamps;
  // Keeps the records' sequence numbers: followers keep their places.
  ring_.SetCapacity(RingCapacity(spec));
  switch (mode_) {
    case LogMode::kFile:
      if (file_writer) {
        Retire(std::move(file_writer_));
        file_writer_ = std::move(file_writer);
      } else if (file_writer_) {
        file_writer_->SetRotation(Rotation{spec.log_max_size, spec.log_keep});
      }
      stdout_writer_ = nullptr;
      stderr_writer_ = nullptr;
      break;
    case LogMode::kInherit:
      Retire(std::move(file_writer_));
      stdout_writer_ = stdout_writer;
      stderr_writer_ = stderr_writer;
      break;
    case LogMode::kJournal:
    case LogMode::kNull:
      // The workers started before still write through their captures
      // until they are replaced: to where their output went so far.
      ReleaseWritersIfUnused();
      break;
  }
  // A capture waiting for room in a writer given up waits for the new ones.
  if (!room_waiters_.empty()) Later([this] { WakeRoomWaiters(); });
}

void ProgramLog::SetPrefixColours(std::string_view for_stdout,
                                  std::string_view for_stderr) {
  stdout_colour_ = for_stdout;
  stderr_colour_ = for_stderr;
}

void ProgramLog::Retire(std::unique_ptr<LogWriter> writer) {
  if (!writer) return;
  LogWriter* retiring = writer.get();
  retired_.push_back(std::move(writer));
  // Destroyed on the loop once idle: its thread ends at once then.
  retiring->AfterWritten([this, retiring, alive = std::weak_ptr<bool>(alive_)] {
    const std::shared_ptr<bool> still = alive.lock();
    if (!still || !*still) return;
    std::erase_if(retired_, [retiring](const auto& held) {
      return held.get() == retiring;
    });
  });
}

void ProgramLog::ReleaseWritersIfUnused() {
  if (Captures(mode_) || !captures_.empty()) return;
  Retire(std::move(file_writer_));
  stdout_writer_ = nullptr;
  stderr_writer_ = nullptr;
}

void ProgramLog::Later(std::function<void()> work) {
  loop_.RunSoon([work = std::move(work), alive = std::weak_ptr<bool>(alive_)] {
    const std::shared_ptr<bool> still = alive.lock();
    if (still && *still) work();
  });
}

void ProgramLog::WakeRoomWaiters() {
  std::vector<std::function<void()>> waiters;
  waiters.swap(room_waiters_);
  for (auto& resume : waiters) resume();
}

std::variant<WorkerOutput, std::string> ProgramLog::PrepareOutput(
    int instance, SpawnRequest* request) {
  WorkerOutput output;
  switch (mode_) {
    case LogMode::kJournal:
      request->journal = JournalStreamsFor(program_);
      return output;
    case LogMode::kNull:
      if (!dev_null_) {
        dev_null_.Reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        if (!dev_null_) {
          return std::string("cannot open /dev/null: ") + std::strerror(errno);
        }
      }
      request->stdout_fd = dev_null_.Get();
      request->stderr_fd = dev_null_.Get();
      return output;
    case LogMode::kFile:
    case LogMode::kInherit:
      break;
  }
  UniqueFd stdout_read;
  UniqueFd stderr_read;
  if (!MakePipe(&stdout_read, &output.stdout_write) ||
      !MakePipe(&stderr_read, &output.stderr_write)) {
    return std::string("cannot make the output pipes: ") +
           std::strerror(errno);
  }
  request->stdout_fd = output.stdout_write.Get();
  request->stderr_fd = output.stderr_write.Get();
  output.capture = std::make_shared<OutputCapture>(
      *this, instance, std::move(stdout_read), std::move(stderr_read));
  output.capture->Begin();
  captures_.push_back(output.capture);
  return output;
}

std::unique_ptr<ProgramLog::Subscription> ProgramLog::Subscribe(
    std::function<void()> on_append) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->on_append = std::move(on_append);
  subscribers_.push_back(subscriber);
  return std::make_unique<Subscription>(std::move(subscriber));
}

void ProgramLog::Consume(int instance, OutputStream stream,
                         LineSplitter& splitter, std::string_view data,
                         bool flush) {
  const WallTime now = WallClock::now();
  const std::uint64_t appended_before = ring_.next_sequence();

  LogWriter* writer = WriterFor(stream);
  // The prefix, "TIME web:2 stdout: ", built once per read: every line of
  // a read gets the same time. Its second-to-last byte is the mark.
  std::string prefix;
  std::string block;
  std::size_t used = 0;
  if (writer != nullptr) {
    std::string_view colour;
    if (!writer->is_file()) {
      colour =
          stream == OutputStream::kStdout ? stdout_colour_ : stderr_colour_;
    }
    prefix = LogPrefix(
        timestamps_ ? timestamps_formatter_.Format(now) : std::string_view(),
        program_, instance, stream, colour);
    block = writer->TakeBuffer();
    // Written through a pointer rather than appended piece by piece: this
    // runs for every line of every worker. Grown if the lines are short.
    block.resize(data.size() + data.size() / 2 + 256);
  }
  const std::size_t mark_at = prefix.size() >= 2 ? prefix.size() - 2 : 0;
  auto emit = [&](const LinePiece& piece) {
    if (writer != nullptr) {
      const std::size_t need = prefix.size() + piece.text.size() + 1;
      if (used + need > block.size()) block.resize(2 * (used + need));
      char* out = block.data() + used;
      std::memcpy(out, prefix.data(), prefix.size());
      out[mark_at] = piece.ends_line ? ':' : '+';
      out += prefix.size();
      std::memcpy(out, piece.text.data(), piece.text.size());
      out[piece.text.size()] = '\n';
      used += need;
    }
    ring_.Append({now, instance, stream, piece.ends_line, piece.text});
  };
  if (flush) {
    splitter.Flush(emit);
  } else {
    splitter.Feed(data, emit);
  }
  if (writer != nullptr) {
    block.resize(used);
    writer->Write(std::move(block));
  }
  if (ring_.next_sequence() != appended_before) TellSubscribers();
}

void ProgramLog::TellSubscribers() {
  std::erase_if(subscribers_, [](const auto& s) { return !s->active; });
  // Subscribers may end their subscription from their callbacks (or make
  // new ones): call over a copy.
  const auto subscribers = subscribers_;
  for (const auto& subscriber : subscribers) {
    if (subscriber->active) subscriber->on_append();
  }
}

bool ProgramLog::Full() const {
  if (file_writer_) return file_writer_->Full();
  return (stdout_writer_ && stdout_writer_->Full()) ||
         (stderr_writer_ && stderr_writer_->Full());
}

void ProgramLog::WhenRoom(std::function<void()> resume) {
  // Kept here rather than by the writer, which a reload may replace: the
  // capture must not wait for room in a writer that no longer counts.
  room_waiters_.push_back(std::move(resume));
  auto wake = [this, alive = std::weak_ptr<bool>(alive_)] {
    const std::shared_ptr<bool> still = alive.lock();
    if (still && *still) WakeRoomWaiters();
  };
  // Wait for the one that is full; if both are, for the second once the
  // first has room (the capture checks again when it resumes).
  for (LogWriter* writer : {file_writer_.get(), stdout_writer_, stderr_writer_}) {
    if (writer != nullptr && writer->Full()) {
      writer->WhenRoom(std::move(wake));
      return;
    }
  }
  loop_.RunSoon(std::move(wake));
}

void ProgramLog::CaptureDone(const OutputCapture* capture) {
  // Not now: the capture is in the middle of its own callback.
  Later([this, capture] {
    std::erase_if(captures_,
                  [capture](const auto& held) { return held.get() == capture; });
    ReleaseWritersIfUnused();
  });
}

}  // namespace workerd
