#include "daemon/notify_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>

namespace workerd {
namespace {

// sd_notify messages are a few short lines; systemd reads no more either.
constexpr std::size_t kMaxDatagram = 4096;
// Room for the most descriptors the kernel passes in one message
// (SCM_MAX_FD), so that a message with descriptors is never cut short and
// every one of them reaches us to be closed.
constexpr std::size_t kMaxPassedFds = 253;
// Distinct strangers remembered so that each is warned about once.
constexpr std::size_t kMaxStrangersLogged = 1000;
// Room for bursts (every worker reporting READY=1 at once after a reload).
constexpr int kReceiveBufferBytes = 1 << 20;
constexpr int kBindAttempts = 4;

std::string Errno() { return std::strerror(errno); }

// The name only has to be unique and hard to squat: the kernel-checked
// credentials, not the name, say who sent a message.
uint64_t RandomId() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), GRND_INSECURE) ==
          static_cast<ssize_t>(sizeof(value)) ||
      ::getrandom(&value, sizeof(value), GRND_NONBLOCK) ==
          static_cast<ssize_t>(sizeof(value))) {
    return value;
  }
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u +
         static_cast<uint64_t>(now.tv_nsec);
}

// SO_RCVBUF is capped by net.core.rmem_max; SO_RCVBUFFORCE (privileged) is
// not. The default size works too, so failures are ignored.
void EnlargeReceiveBuffer(int fd) {
  int size = kReceiveBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0) {
    return;
  }
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

// Binds `fd` to the abstract name of `address` ("@..."); the name's length
// is part of it, so no terminating NUL.
bool BindAbstract(int fd, const std::string& address) {
  sockaddr_un name{};
  name.sun_family = AF_UNIX;
  std::memcpy(name.sun_path, address.data(), address.size());
  name.sun_path[0] = '\0';
  auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&name), length) == 0;
}

// Closes every descriptor the message carried and returns the sender's
// credentials, if the kernel attached them.
std::optional<ucred> TakeControlData(msghdr& message) {
  std::optional<ucred> sender;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET) continue;
    if (header->cmsg_type == SCM_RIGHTS) {
      std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(fd));
        ::close(fd);
      }
    } else if (header->cmsg_type == SCM_CREDENTIALS &&
               header->cmsg_len == CMSG_LEN(sizeof(ucred))) {
      ucred credentials;
      std::memcpy(&credentials, CMSG_DATA(header), sizeof(credentials));
      sender = credentials;
    }
  }
  return sender;
}

std::string DescribeSender(const std::optional<ucred>& sender) {
  if (!sender || sender->pid <= 0) return "an unknown process";
  return fmt::format("pid {}", sender->pid);
}

}  // namespace

std::variant<std::unique_ptr<NotifyServer>, std::string> NotifyServer::Open(
    EventLoop& loop, Handler handler, int per_wakeup) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return "cannot create the notify socket: " + Errno();
  // Before bind: every message that can arrive carries credentials.
  int on = 1;
  if (::setsockopt(fd.Get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
    return "cannot ask for sender credentials on the notify socket: " + Errno();
  }
  EnlargeReceiveBuffer(fd.Get());

  std::string address;
  for (int attempt = 1;; ++attempt) {
    address = fmt::format("@workerd/{}/notify/{:016x}", ::getpid(), RandomId());
    if (BindAbstract(fd.Get(), address)) break;
    if (errno != EADDRINUSE || attempt == kBindAttempts) {
      return fmt::format("cannot bind the notify socket to {}: {}", address,
                         Errno());
    }
  }

  try {
    return std::unique_ptr<NotifyServer>(new NotifyServer(
        loop, std::move(fd), std::move(address), std::move(handler),
        per_wakeup));
  } catch (const std::exception& e) {
    return fmt::format("cannot watch the notify socket: {}", e.what());
  }
}

NotifyServer::NotifyServer(EventLoop& loop, UniqueFd fd, std::string address,
                           Handler handler, int per_wakeup)
    : fd_(std::move(fd)),
      address_(std::move(address)),
      handler_(std::move(handler)),
      per_wakeup_(per_wakeup) {
  source_ = loop.AddIo(fd_.Get(), EPOLLIN, [this](uint32_t) { OnReadable(); });
}

NotifyServer::~NotifyServer() {
  source_.Reset();
  fd_.Reset();
}

void NotifyServer::OnReadable() {
  for (int i = 0; i < per_wakeup_; ++i) {
    try {
      if (!ReceiveOne()) return;
    } catch (const std::exception& e) {
      spdlog::error(
          "internal error while handling a notify message, "
          "ignored: {}",
          e.what());
    } catch (...) {
      spdlog::error("internal error while handling a notify message, ignored");
    }
  }
}

bool NotifyServer::ReceiveOne() {
  char buffer[kMaxDatagram];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) +
                                CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  iovec data{buffer, sizeof(buffer)};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t length = ::recvmsg(fd_.Get(), &message,
                             MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
  if (length < 0) {
    if (errno == EINTR) return true;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      spdlog::warn("cannot read from the notify socket, will try again: {}",
                   Errno());
    }
    return false;
  }
  std::optional<ucred> sender = TakeControlData(message);

  // A worker sending bad messages in a loop must not flood the log: each
  // sender is warned about once.
  const pid_t pid = sender ? sender->pid : 0;
  if ((message.msg_flags & MSG_TRUNC) && FirstWarningAbout(pid)) {
    spdlog::warn(
        "ignored a notify message of {} bytes from {}: notify "
        "messages are limited to {} bytes",
        length, DescribeSender(sender), kMaxDatagram);
  }
  if ((message.msg_flags & MSG_CTRUNC) && !(message.msg_flags & MSG_TRUNC) &&
      FirstWarningAbout(pid)) {
    spdlog::warn(
        "ignored a notify message from {}: it carried more control "
        "data than a notify message can",
        DescribeSender(sender));
  }
  if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return true;
  if (!sender || sender->pid <= 0) {
    // Only a process in another pid namespace can be nobody here.
    spdlog::debug("ignored a notify message from a process of unknown pid");
    return true;
  }
  Dispatch(sender->pid,
           std::string_view(buffer, static_cast<std::size_t>(length)));
  return true;
}

void NotifyServer::Dispatch(pid_t sender, std::string_view datagram) {
  if (handler_(sender, ParseNotifyMessage(datagram))) return;
  if (FirstWarningAbout(sender)) {
    spdlog::warn("ignored a notify message from pid {}, which is not a worker",
                 sender);
  }
}

bool NotifyServer::FirstWarningAbout(pid_t sender) {
  if (strangers_logged_.size() >= kMaxStrangersLogged) {
    strangers_logged_.clear();
  }
  return strangers_logged_.insert(sender).second;
}

pid_t ProcessGroupOf(pid_t pid) {
  if (pid <= 0) return -1;  // getpgid(0) would be our own group
  pid_t group = ::getpgid(pid);
  return group < 0 ? -1 : group;
}

}  // namespace workerd
