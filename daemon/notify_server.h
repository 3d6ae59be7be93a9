// The NOTIFY_SOCKET workers send sd_notify(3) messages to: one datagram
// socket for the whole daemon, in the abstract namespace (so workers
// running as other users can reach it without a file to chmod). The
// kernel-checked sender credentials (SCM_CREDENTIALS) say which process
// sent a message; the handler decides which worker that is.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/event_loop.h"
#include "daemon/notify_message.h"
#include "daemon/unique_fd.h"

namespace workerd {

inline constexpr int kNotifyDatagramsPerWakeup = 256;

class NotifyServer {
 public:
  // Returns false when the sender belongs to no worker: the message is
  // then ignored and logged as a warning, once per sender pid.
  using Handler =
      std::function<bool(pid_t sender, const NotifyMessage& message)>;

  // Binds "@workerd/<pid>/notify/<random>". Errors are sentences.
  // At most `per_wakeup` datagrams are read per dispatch, so that a flood
  // cannot starve the loop (the source stays readable and comes again).
  static std::variant<std::unique_ptr<NotifyServer>, std::string> Open(
      EventLoop& loop, Handler handler,
      int per_wakeup = kNotifyDatagramsPerWakeup);
  ~NotifyServer();
  NotifyServer(const NotifyServer&) = delete;
  NotifyServer& operator=(const NotifyServer&) = delete;

  // The value for a worker's NOTIFY_SOCKET ("@..." for the abstract
  // namespace, as sd_notify(3) expects).
  const std::string& address() const { return address_; }

 private:
  NotifyServer(EventLoop& loop, UniqueFd fd, std::string address,
               Handler handler, int per_wakeup);
  // Reads up to a bounded number of datagrams, so that a flood cannot
  // starve the loop: the source stays readable and is dispatched again.
  void OnReadable();
  // Reads and handles one datagram; false when there is none left.
  bool ReceiveOne();
  void Dispatch(pid_t sender, std::string_view datagram);

  UniqueFd fd_;
  std::string address_;
  Handler handler_;
  int per_wakeup_;
  EventSource source_;
  // Whether `sender` (0: unknown) has not been warned about yet; it has
  // been from now on.
  bool FirstWarningAbout(pid_t sender);

  std::set<pid_t> strangers_logged_;  // bounded; see notify_server.cc
};

// The process group of `pid`, or -1 when it is gone. A message from a
// process whose group is a worker's pid (a child of a `sh -c` wrapper, a
// gunicorn master's worker) belongs to that worker.
pid_t ProcessGroupOf(pid_t pid);

}  // namespace workerd
