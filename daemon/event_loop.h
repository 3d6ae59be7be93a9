// A thin owner of one sd-event loop and of the sources on it. Callbacks are
// std::functions; an exception thrown by one is logged and swallowed here,
// so none ever crosses into sd-event's C code, and a source is never
// silently disabled by a negative return.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "daemon/config.h"

namespace workerd {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Owns one source: destroying it disables and releases the source.
class EventSource {
 public:
  EventSource() = default;
  explicit EventSource(sd_event_source* source) : source_(source) {}
  EventSource(EventSource&& other) noexcept;
  EventSource& operator=(EventSource&& other) noexcept;
  EventSource(const EventSource&) = delete;
  EventSource& operator=(const EventSource&) = delete;
  ~EventSource() { Reset(); }

  void Reset();
  explicit operator bool() const { return source_ != nullptr; }
  sd_event_source* Get() const { return source_; }

 private:
  sd_event_source* source_ = nullptr;
};

// Priorities: output is drained before exits are handled (a worker's last
// lines come before its death notice), and orphan reaping comes last.
enum class Priority : int64_t {
  kOutput = -10,
  kNormal = 0,
  kChildExit = 10,
  kOrphans = 20,
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  sd_event* Get() const { return event_; }

  // Runs until Exit() is called; returns the code given to Exit().
  int Run();
  void Exit(int code);
  // One iteration with a timeout, for tests. False when the loop ended.
  bool RunOnce(Duration timeout);

  // The loop's notion of now (cached per iteration, monotonic).
  TimePoint Now() const;

  // `accuracy` matters: sd-event's default of 250 ms would turn a 100 ms
  // backoff into 250 ms.
  EventSource AddTimer(TimePoint when, std::function<void()> callback,
                       Duration accuracy = Duration(1));
  // Moves a timer made by AddTimer to `when` and arms it again, whether it
  // fired already or not.
  void Reschedule(const EventSource& timer, TimePoint when);
  EventSource AddIo(int fd, uint32_t events,
                    std::function<void(uint32_t revents)> callback,
                    Priority priority = Priority::kNormal);
  // The pidfd stays owned by the caller's process object; sd-event reaps
  // the child after the callback returns.
  EventSource AddChildPidfd(int pidfd,
                            std::function<void(const siginfo_t&)> callback);
  // The signal must already be blocked (see BlockSignals).
  EventSource AddSignal(int signal,
                        std::function<void(const signalfd_siginfo&)> callback,
                        Priority priority = Priority::kNormal);
  // Runs `callback` on the next iteration, once.
  EventSource AddDefer(std::function<void()> callback);
  // Runs `work` after the current dispatch, in order. Also how an object
  // outlives the callback it is used in: sd-event reaps a child through
  // its pidfd after the exit callback returns, so the pidfd must live on.
  void RunSoon(std::function<void()> work);

 private:
  void RunQueued();

  sd_event* event_ = nullptr;
  std::vector<std::function<void()>> queued_;
  EventSource queued_source_;
};

// Blocks the given signals in the calling thread; sd-event delivers them
// through signalfd sources instead of async handlers.
void BlockSignals(std::initializer_list<int> signals);

}  // namespace workerd
