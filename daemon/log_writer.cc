#include "daemon/log_writer.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>

namespace workerd {
namespace {

constexpr std::size_t kLowWater = LogWriter::kHighWater / 2;
// Written blocks kept for reuse.
constexpr std::size_t kFreeBuffers = 4;
// How long a failing write is retried once workerd is shutting down.
constexpr auto kShutdownPatience = std::chrono::seconds(5);

UniqueFd OpenForAppend(const std::string& path) {
  return UniqueFd(::open(path.c_str(),
                         O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                         0640));
}

std::uint64_t SizeOf(int fd) {
  struct stat info;
  return ::fstat(fd, &info) == 0 ? static_cast<std::uint64_t>(info.st_size)
                                 : 0;
}

}  // namespace

std::variant<std::unique_ptr<LogWriter>, std::string> LogWriter::ForFile(
    std::string path, Rotation rotation, LoopMailbox& mailbox) {
  UniqueFd fd = OpenForAppend(path);
  if (!fd) {
    return "cannot open the log file " + path + ": " + std::strerror(errno);
  }
  const std::uint64_t size = SizeOf(fd.Get());
  return std::unique_ptr<LogWriter>(new LogWriter(
      std::move(fd), -1, std::move(path), true, rotation, size, mailbox));
}

std::unique_ptr<LogWriter> LogWriter::ForStream(int fd, std::string name,
                                                LoopMailbox& mailbox) {
  return std::unique_ptr<LogWriter>(new LogWriter(
      UniqueFd(), fd, std::move(name), false, Rotation{}, 0, mailbox));
}

LogWriter::LogWriter(UniqueFd fd, int borrowed_fd, std::string name,
                     bool is_file, Rotation rotation, std::uint64_t size,
                     LoopMailbox& mailbox)
    : owned_(std::move(fd)),
      borrowed_fd_(borrowed_fd),
      name_(std::move(name)),
      is_file_(is_file),
      rotation_(rotation),
      size_(size),
      mailbox_(mailbox),
      thread_([this] { Run(); }) {}

LogWriter::~LogWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  *alive_ = false;
}

bool LogWriter::Full() const {
  std::lock_guard lock(mutex_);
  return queued_bytes_ > kHighWater;
}

std::string LogWriter::TakeBuffer() {
  std::lock_guard lock(mutex_);
  if (free_buffers_.empty()) return {};
  std::string buffer = std::move(free_buffers_.back());
  free_buffers_.pop_back();
  return buffer;
}

void LogWriter::Write(std::string block) {
  if (block.empty()) return;
  bool was_idle;
  {
    std::lock_guard lock(mutex_);
    was_idle = queue_.empty();
    queued_bytes_ += block.size();
    queue_.push_back(std::move(block));
  }
  if (was_idle) wake_.notify_one();
}

void LogWriter::WhenRoom(std::function<void()> resume) {
  room_waiters_.push_back(std::move(resume));
  bool full;
  {
    std::lock_guard lock(mutex_);
    full = queued_bytes_ > kLowWater;
    want_room_ = want_room_ || full;
  }
  if (!full) PostRoom();
}

void LogWriter::PostRoom() {
  mailbox_.Post([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired() || !*alive.lock()) return;
    std::vector<std::function<void()>> waiters;
    waiters.swap(room_waiters_);
    for (auto& resume : waiters) resume();
  });
}

void LogWriter::Reopen(std::function<void(std::string error)> done) {
  {
    std::lock_guard lock(mutex_);
    reopen_requests_.push_back(std::move(done));
  }
  wake_.notify_one();
}

void LogWriter::SetRotation(Rotation rotation) {
  {
    std::lock_guard lock(mutex_);
    new_rotation_ = rotation;
  }
  wake_.notify_one();
}

void LogWriter::AfterWritten(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    written_requests_.push_back(std::move(done));
  }
  wake_.notify_one();
}

void LogWriter::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] {
      return !queue_.empty() || !reopen_requests_.empty() ||
             !written_requests_.empty() || new_rotation_ || stopping_;
    });
    std::deque<std::string> batch;
    batch.swap(queue_);
    std::vector<std::function<void(std::string)>> reopens;
    reopens.swap(reopen_requests_);
    std::vector<std::function<void()>> written_waiters;
    written_waiters.swap(written_requests_);
    if (new_rotation_ && is_file_) rotation_ = *new_rotation_;
    new_rotation_.reset();
    if (batch.empty() && reopens.empty() && written_waiters.empty() &&
        stopping_) {
      return;
    }
    lock.unlock();

    std::size_t written = 0;
    for (const std::string& block : batch) {
      WriteBlock(block);
      written += block.size();
    }
    for (auto& done : reopens) {
      std::string error = OpenAgain();
      // `done` belongs to whoever asked, not to this writer.
      mailbox_.Post([done = std::move(done), error = std::move(error)] {
        done(error);
      });
    }
    for (auto& done : written_waiters) mailbox_.Post(std::move(done));

    lock.lock();
    queued_bytes_ -= written;
    for (std::string& block : batch) {
      if (free_buffers_.size() >= kFreeBuffers) break;
      block.clear();
      free_buffers_.push_back(std::move(block));
    }
    if (want_room_ && queued_bytes_ <= kLowWater) {
      want_room_ = false;
      PostRoom();
    }
  }
}

void LogWriter::WriteBlock(std::string_view block) {
  if (!is_file_ || rotation_.max_size == 0) {
    if (WriteAll(block)) size_ += block.size();
    return;
  }
  while (!block.empty()) {
    const std::uint64_t room =
        size_ < rotation_.max_size ? rotation_.max_size - size_ : 0;
    if (block.size() <= room) {
      if (WriteAll(block)) size_ += block.size();
      return;
    }
    // The whole lines that still fit; a line too long for any file gets
    // one of its own.
    std::size_t take = 0;
    if (room > 0) {
      const std::size_t newline = block.rfind('\n', room - 1);
      if (newline != std::string_view::npos) take = newline + 1;
    }
    if (take == 0 && size_ == 0) {
      const std::size_t newline = block.find('\n');
      take = newline == std::string_view::npos ? block.size() : newline + 1;
    }
    if (take > 0) {
      if (WriteAll(block.substr(0, take))) size_ += take;
      block.remove_prefix(take);
    }
    if (!block.empty() || size_ >= rotation_.max_size) Rotate();
    if (rotation_failed_) {
      // Keep writing to the current file rather than lose lines.
      if (WriteAll(block)) size_ += block.size();
      return;
    }
  }
}

bool LogWriter::WriteAll(std::string_view data) {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> failing_since;
  auto pause = std::chrono::milliseconds(100);
  int last_error = 0;
  while (!data.empty()) {
    const ssize_t n = ::write(fd(), data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      if (failing_since) {
        spdlog::info("writing {} works again", name_);
        failing_since.reset();
      }
      continue;
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN) {
      // Someone made the descriptor non-blocking; wait as a blocking
      // write would.
      pollfd waiting{fd(), POLLOUT, 0};
      ::poll(&waiting, 1, 1000);
      continue;
    }
    if (!is_file_ && error == EPIPE) {
      // Nobody reads workerd's own output any more: there is nowhere left
      // to put it, and waiting would stop every worker that writes.
      if (!stream_gone_) {
        spdlog::error("cannot write to workerd's {}: {}; output meant for "
                      "it is discarded",
                      name_, std::strerror(error));
        stream_gone_ = true;
      }
      return false;
    }
    const auto now = Clock::now();
    if (!failing_since || error != last_error) {
      spdlog::error("cannot write to {}: {}; workerd keeps the output and "
                    "tries again (the workers wait meanwhile)",
                    name_, std::strerror(error));
      failing_since = now;
      last_error = error;
    }
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && (gave_up_ || now - *failing_since > kShutdownPatience)) {
        spdlog::error("gave up writing {} bytes to {} at shutdown: {}",
                      data.size(), name_, std::strerror(error));
        gave_up_ = true;
        return false;
      }
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
  return true;
}

void LogWriter::Rotate() {
  const std::string& path = name_;
  auto numbered = [&](int n) { return path + "." + std::to_string(n); };
  std::string failure;
  if (rotation_.keep == 0) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      failure = "cannot remove " + path + ": " + std::strerror(errno);
    }
  } else {
    // The oldest kept file is overwritten by the rename below it.
    for (int n = rotation_.keep - 1; n >= 1 && failure.empty(); --n) {
      if (::rename(numbered(n).c_str(), numbered(n + 1).c_str()) != 0 &&
          errno != ENOENT) {
        failure = "cannot rename " + numbered(n) + ": " + std::strerror(errno);
      }
    }
    if (failure.empty() && ::rename(path.c_str(), numbered(1).c_str()) != 0) {
      failure = "cannot rename " + path + ": " + std::strerror(errno);
    }
  }
  if (failure.empty()) {
    UniqueFd fresh = OpenForAppend(path);
    if (fresh) {
      owned_ = std::move(fresh);
      size_ = SizeOf(owned_.Get());
      if (rotation_failed_) spdlog::info("rotating {} works again", path);
      rotation_failed_ = false;
      return;
    }
    failure = "cannot create " + path + ": " + std::strerror(errno);
  }
  if (!rotation_failed_) {
    spdlog::error("cannot rotate {}: {}; it keeps growing until rotation "
                  "works again",
                  path, failure);
  }
  rotation_failed_ = true;
}

std::string LogWriter::OpenAgain() {
  if (!is_file_) return {};
  UniqueFd fresh = OpenForAppend(name_);
  if (!fresh) {
    return "cannot reopen " + name_ + ": " + std::strerror(errno) +
           "; still writing to the file it had open";
  }
  owned_ = std::move(fresh);
  size_ = SizeOf(owned_.Get());
  rotation_failed_ = false;
  return {};
}

}  // namespace workerd
