// Work handed to the event loop by other threads (the log writers): Post()
// may be called from any thread; the work runs on the loop's thread, in
// order. Everything that posts must be gone before the mailbox is.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "daemon/event_loop.h"
#include "daemon/unique_fd.h"

namespace workerd {

class LoopMailbox {
 public:
  explicit LoopMailbox(EventLoop& loop);
  LoopMailbox(const LoopMailbox&) = delete;
  LoopMailbox& operator=(const LoopMailbox&) = delete;

  void Post(std::function<void()> work);

 private:
  void RunPosted();

  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  UniqueFd wakeup_;  // an eventfd
  EventSource source_;
};

}  // namespace workerd
