// Drives a real EventLoop in a test until a condition holds: polling with
// a deadline, never a fixed sleep taken as proof.
#pragma once

#include <chrono>
#include <functional>

#include "daemon/event_loop.h"

namespace workerd {

// False when `done` still does not hold after `limit`.
inline bool RunLoopUntil(EventLoop& loop, const std::function<bool()>& done,
                         std::chrono::milliseconds limit =
                             std::chrono::seconds(5)) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    loop.RunOnce(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace workerd
