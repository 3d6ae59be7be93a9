#include "daemon/loop_mailbox.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace workerd {

LoopMailbox::LoopMailbox(EventLoop& loop)
    : wakeup_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!wakeup_) {
    throw std::runtime_error(std::string("cannot create an eventfd: ") +
                             std::strerror(errno));
  }
  source_ = loop.AddIo(wakeup_.Get(), EPOLLIN, [this](uint32_t) {
    std::uint64_t count;
    while (::read(wakeup_.Get(), &count, sizeof count) < 0 && errno == EINTR) {
    }
    RunPosted();
  });
}

void LoopMailbox::Post(std::function<void()> work) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(work));
  }
  if (was_empty) {
    const std::uint64_t one = 1;
    if (::write(wakeup_.Get(), &one, sizeof one) < 0) {
      // Only EAGAIN can fail here (the counter is full), and then the
      // loop is woken already.
    }
  }
}

void LoopMailbox::RunPosted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(posted_);
  }
  for (auto& work : batch) work();
}

}  // namespace workerd
