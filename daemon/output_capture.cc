#include "daemon/output_capture.h"

#include <sys/epoll.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "daemon/program_log.h"

namespace workerd {
namespace {

// One read takes at most this much. Captures run on the loop's thread
// only, one at a time, so they share one buffer.
constexpr std::size_t kReadBytes = 256 * 1024;
char read_buffer[kReadBytes];

// Reads per wake-up while a pipe stays readable: enough to empty a full
// pipe, few enough that one flooding worker leaves the loop to others.
constexpr int kReadsPerWakeup = 4;

}  // namespace

OutputCapture::OutputCapture(ProgramLog& log, int instance,
                             UniqueFd stdout_read, UniqueFd stderr_read)
    : log_(log), instance_(instance) {
  pipes_[0].stream = OutputStream::kStdout;
  pipes_[0].fd = std::move(stdout_read);
  pipes_[1].stream = OutputStream::kStderr;
  pipes_[1].fd = std::move(stderr_read);
}

OutputCapture::~OutputCapture() = default;

void OutputCapture::Begin() {
  std::weak_ptr<OutputCapture> weak = weak_from_this();
  for (Pipe& pipe : pipes_) {
    Pipe* target = &pipe;
    pipe.source = log_.loop().AddIo(
        pipe.fd.Get(), EPOLLIN,
        [weak, target](uint32_t) {
          if (auto self = weak.lock()) self->OnReadable(*target);
        },
        Priority::kOutput);
  }
}

void OutputCapture::OnReadable(Pipe& pipe) {
  // Keep this object alive through the reads: the last one may end it.
  std::shared_ptr<OutputCapture> self = shared_from_this();
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    if (paused_ || pipe.ended) return;
    if (log_.Full()) {
      Pause();
      return;
    }
    if (!ReadOnce(pipe)) return;
  }
}

bool OutputCapture::ReadOnce(Pipe& pipe) {
  // A reader following the log is woken after each read: a read must not
  // be larger than what the ring keeps, or a live follower would lose
  // lines within one read. Half the ring, from 16 KiB.
  const std::size_t capacity = log_.ring().capacity();
  const std::size_t limit =
      capacity == 0 ? kReadBytes
                    : std::clamp<std::size_t>(capacity / 2, 16 * 1024,
                                              kReadBytes);
  while (true) {
    const ssize_t n = ::read(pipe.fd.Get(), read_buffer, limit);
    if (n > 0) {
      log_.Consume(instance_, pipe.stream, pipe.splitter,
                   std::string_view(read_buffer, static_cast<std::size_t>(n)),
                   /*flush=*/false);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return false;
    if (n < 0) {
      spdlog::warn("cannot read the {} of {}[{}]: {}; it is no longer "
                   "captured",
                   OutputStreamName(pipe.stream), log_.program(), instance_,
                   std::strerror(errno));
    }
    End(pipe);
    return false;
  }
}

void OutputCapture::End(Pipe& pipe) {
  if (pipe.ended) return;
  log_.Consume(instance_, pipe.stream, pipe.splitter, {}, /*flush=*/true);
  pipe.ended = true;
  pipe.source.Reset();
  pipe.fd.Reset();
  if (Done()) log_.CaptureDone(this);
}

void OutputCapture::ProcessExited() {
  std::shared_ptr<OutputCapture> self = shared_from_this();
  DrainNow();
  // A line the process left unfinished is finished: its children, if any
  // still write, start new lines.
  for (Pipe& pipe : pipes_) {
    if (!pipe.ended) {
      log_.Consume(instance_, pipe.stream, pipe.splitter, {}, /*flush=*/true);
    }
  }
}

void OutputCapture::DrainNow() {
  std::shared_ptr<OutputCapture> self = shared_from_this();
  // Everything the process wrote is in the pipes by now (a write to a pipe
  // completes before the writer goes on), so this reads it all. The
  // writers may go past their high-water mark by a pipe's worth.
  for (Pipe& pipe : pipes_) {
    while (!pipe.ended && ReadOnce(pipe)) {
    }
  }
}

void OutputCapture::Pause() {
  if (paused_) return;
  paused_ = true;
  for (Pipe& pipe : pipes_) {
    if (pipe.source) sd_event_source_set_enabled(pipe.source.Get(), SD_EVENT_OFF);
  }
  std::weak_ptr<OutputCapture> weak = weak_from_this();
  log_.WhenRoom([weak] {
    if (auto self = weak.lock()) self->Resume();
  });
}

void OutputCapture::Resume() {
  if (!paused_) return;
  paused_ = false;
  for (Pipe& pipe : pipes_) {
    if (pipe.source) sd_event_source_set_enabled(pipe.source.Get(), SD_EVENT_ON);
  }
}

}  // namespace workerd
