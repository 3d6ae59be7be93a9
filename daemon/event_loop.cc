#include "daemon/event_loop.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace workerd {
namespace {

uint64_t ToUsec(TimePoint when) {
  auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                  when.time_since_epoch())
                  .count();
  return usec < 0 ? 0 : static_cast<uint64_t>(usec);
}

[[noreturn]] void Fail(const char* what, int r) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(-r));
}

// Runs a user callback with the guarantee that nothing escapes into C.
template <typename F>
int Guarded(const char* kind, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("internal error in a {} callback, ignored: {}", kind,
                  e.what());
  } catch (...) {
    spdlog::error("internal error in a {} callback, ignored", kind);
  }
  return 0;
}

template <typename Fn>
void DeleteCallback(void* userdata) {
  delete static_cast<Fn*>(userdata);
}

// The end of every Add*: on success the source owns `fn` (freed when the
// source is destroyed) and gets `priority`; on failure `fn` is freed and
// the error thrown.
template <typename Fn>
EventSource Adopt(int r, sd_event_source* source, Fn* fn, const char* what,
                  Priority priority = Priority::kNormal) {
  if (r < 0) {
    delete fn;
    Fail(what, r);
  }
  sd_event_source_set_destroy_callback(source, DeleteCallback<Fn>);
  sd_event_source_set_priority(source, static_cast<int64_t>(priority));
  return EventSource(source);
}

}  // namespace

EventSource::EventSource(EventSource&& other) noexcept
    : source_(std::exchange(other.source_, nullptr)) {}

EventSource& EventSource::operator=(EventSource&& other) noexcept {
  if (this != &other) {
    Reset();
    source_ = std::exchange(other.source_, nullptr);
  }
  return *this;
}

void EventSource::Reset() {
  if (source_ != nullptr) {
    sd_event_source_disable_unref(std::exchange(source_, nullptr));
  }
}

EventLoop::EventLoop() {
  int r = sd_event_new(&event_);
  if (r < 0) Fail("cannot create the event loop", r);
}

EventLoop::~EventLoop() {
  queued_source_.Reset();
  queued_.clear();
  sd_event_unref(event_);
}

void EventLoop::RunSoon(std::function<void()> work) {
  queued_.push_back(std::move(work));
  if (!queued_source_) {
    queued_source_ = AddDefer([this] { RunQueued(); });
  } else {
    sd_event_source_set_enabled(queued_source_.Get(), SD_EVENT_ONESHOT);
  }
}

void EventLoop::RunQueued() {
  // Work queued while this runs waits for the next iteration.
  std::vector<std::function<void()>> batch;
  batch.swap(queued_);
  for (auto& work : batch) work();
}

int EventLoop::Run() {
  int r = sd_event_loop(event_);
  if (r < 0) Fail("event loop failed", r);
  return r;
}

void EventLoop::Exit(int code) { sd_event_exit(event_, code); }

bool EventLoop::RunOnce(Duration timeout) {
  auto usec = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
  int r = sd_event_run(event_, static_cast<uint64_t>(usec.count()));
  if (r < 0) Fail("event loop failed", r);
  return sd_event_get_state(event_) != SD_EVENT_FINISHED;
}

TimePoint EventLoop::Now() const {
  uint64_t usec = 0;
  if (sd_event_now(event_, CLOCK_MONOTONIC, &usec) < 0) return Clock::now();
  return TimePoint(std::chrono::microseconds(usec));
}

EventSource EventLoop::AddTimer(TimePoint when, std::function<void()> callback,
                                Duration accuracy) {
  using Fn = std::function<void()>;
  auto* fn = new Fn(std::move(callback));
  sd_event_source* source = nullptr;
  auto accuracy_usec =
      std::chrono::duration_cast<std::chrono::microseconds>(accuracy).count();
  int r = sd_event_add_time(
      event_, &source, CLOCK_MONOTONIC, ToUsec(when),
      static_cast<uint64_t>(accuracy_usec),
      [](sd_event_source*, uint64_t, void* userdata) {
        return Guarded("timer", [&] { (*static_cast<Fn*>(userdata))(); });
      },
      fn);
  return Adopt(r, source, fn, "cannot add a timer");
}

void EventLoop::Reschedule(const EventSource& timer, TimePoint when) {
  int r = sd_event_source_set_time(timer.Get(), ToUsec(when));
  if (r >= 0) r = sd_event_source_set_enabled(timer.Get(), SD_EVENT_ONESHOT);
  if (r < 0) Fail("cannot move a timer", r);
}

EventSource EventLoop::AddIo(int fd, uint32_t events,
                             std::function<void(uint32_t)> callback,
                             Priority priority) {
  using Fn = std::function<void(uint32_t)>;
  auto* fn = new Fn(std::move(callback));
  sd_event_source* source = nullptr;
  int r = sd_event_add_io(
      event_, &source, fd, events,
      [](sd_event_source*, int, uint32_t revents, void* userdata) {
        return Guarded("I/O", [&] { (*static_cast<Fn*>(userdata))(revents); });
      },
      fn);
  return Adopt(r, source, fn, "cannot watch a file descriptor", priority);
}

EventSource EventLoop::AddChildPidfd(
    int pidfd, std::function<void(const siginfo_t&)> callback) {
  using Fn = std::function<void(const siginfo_t&)>;
  auto* fn = new Fn(std::move(callback));
  sd_event_source* source = nullptr;
  int r = sd_event_add_child_pidfd(
      event_, &source, pidfd, WEXITED,
      [](sd_event_source*, const siginfo_t* info, void* userdata) {
        return Guarded("child exit",
                       [&] { (*static_cast<Fn*>(userdata))(*info); });
      },
      fn);
  return Adopt(r, source, fn, "cannot watch a child process",
               Priority::kChildExit);
}

EventSource EventLoop::AddSignal(
    int signal, std::function<void(const signalfd_siginfo&)> callback,
    Priority priority) {
  using Fn = std::function<void(const signalfd_siginfo&)>;
  auto* fn = new Fn(std::move(callback));
  sd_event_source* source = nullptr;
  int r = sd_event_add_signal(
      event_, &source, signal,
      [](sd_event_source*, const signalfd_siginfo* info, void* userdata) {
        return Guarded("signal", [&] { (*static_cast<Fn*>(userdata))(*info); });
      },
      fn);
  return Adopt(r, source, fn, "cannot watch a signal", priority);
}

EventSource EventLoop::AddDefer(std::function<void()> callback) {
  using Fn = std::function<void()>;
  auto* fn = new Fn(std::move(callback));
  sd_event_source* source = nullptr;
  int r = sd_event_add_defer(
      event_, &source,
      [](sd_event_source* s, void* userdata) {
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return Guarded("deferred", [&] { (*static_cast<Fn*>(userdata))(); });
      },
      fn);
  return Adopt(r, source, fn, "cannot defer work");
}

void BlockSignals(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace workerd
