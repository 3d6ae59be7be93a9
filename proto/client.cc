#include "proto/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

namespace workerd::proto {
namespace {

std::string ErrnoText(int error) {
  return std::system_category().message(error);
}

std::string FormatTimeout(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

constexpr std::string_view kClosedEarly =
    "connection closed by workerd before it answered";

}  // namespace

Client::Client(int fd, std::string peer_name)
    : fd_(fd), peer_name_(std::move(peer_name)) {}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      peer_name_(std::move(other.peer_name_)),
      reader_(std::move(other.reader_)),
      peer_closed_(other.peer_closed_),
      next_id_(other.next_id_) {}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    peer_name_ = std::move(other.peer_name_);
    reader_ = std::move(other.reader_);
    peer_closed_ = other.peer_closed_;
    next_id_ = other.next_id_;
  }
  return *this;
}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::variant<Client, ConnectError> Client::Connect(
    const std::string& socket_path) {
  using Kind = ConnectError::Kind;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty()) {
    return ConnectError{Kind::kOther, "the control socket path is empty"};
  }
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return ConnectError{Kind::kOther,
                        "the control socket path " + socket_path +
                            " is too long (" +
                            std::to_string(socket_path.size()) +
                            " bytes; a Unix socket path " + "has at most " +
                            std::to_string(sizeof(address.sun_path) - 1) + ")"};
  }
  socket_path.copy(address.sun_path, socket_path.size());

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return ConnectError{Kind::kOther,
                        "cannot create a socket: " + ErrnoText(errno)};
  }
  Client client(fd, socket_path);
  // Blocking, so that a daemon with a momentarily full backlog delays us
  // rather than failing us. An interrupted connect on a Unix socket leaves
  // it unconnected, so it can simply be retried.
  int result;
  do {
    result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                       sizeof(address));
  } while (result < 0 && errno == EINTR);
  if (result < 0) {
    const int error = errno;
    switch (error) {
      case ENOENT:
        return ConnectError{Kind::kNotRunning,
                            "workerd is not running (no "
                            "socket at " +
                                socket_path + ")"};
      case ECONNREFUSED:
        return ConnectError{
            Kind::kNotRunning,
            "workerd is not running (nothing listens on " + socket_path + ")"};
      case EACCES:
      case EPERM:
        return ConnectError{
            Kind::kPermissionDenied,
            "permission denied to connect to " + socket_path +
                " (only root, workerd's own user and members of its "
                "control_group may connect)"};
      default:
        return ConnectError{Kind::kOther, "cannot connect to " + socket_path +
                                              ": " + ErrnoText(error)};
    }
  }
  // From here on every wait goes through poll, which is what makes
  // timeouts possible.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return ConnectError{Kind::kOther, "cannot configure the connection to " +
                                          socket_path + ": " +
                                          ErrnoText(errno)};
  }
  return client;
}

Client Client::Adopt(int fd, std::string peer_name) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  const int fd_flags = ::fcntl(fd, F_GETFD);
  if (fd_flags >= 0) ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC);
  return Client(fd, std::move(peer_name));
}

Client::Deadline Client::DeadlineAfter(Timeout timeout) {
  if (!timeout) return std::nullopt;
  return Expiry{Clock::now() + *timeout, *timeout};
}

std::optional<std::string> Client::WaitFor(short events, Deadline deadline) {
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          deadline->at - Clock::now());
      if (left.count() <= 0) {
        return "workerd did not answer within " +
               FormatTimeout(deadline->after);
      }
      wait_ms = static_cast<int>(
          std::min<std::chrono::milliseconds::rep>(left.count(), 1 << 30));
    }
    pollfd entry{fd_, events, 0};
    const int ready = ::poll(&entry, 1, wait_ms);
    if (ready > 0)
      return std::nullopt;  // readable, writable, or hung up:
                            // the next call says which
    if (ready < 0 && errno != EINTR) {
      return "cannot wait for " + peer_name_ + ": " + ErrnoText(errno);
    }
  }
}

std::optional<Client::SendFailure> Client::SendAll(std::string_view bytes,
                                                   Deadline deadline) {
  if (fd_ < 0) return SendFailure{false, "the connection is closed"};
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a daemon that hangs up must give us EPIPE, not SIGPIPE.
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      if (auto why = WaitFor(POLLOUT, deadline)) {
        return SendFailure{false, std::move(*why)};
      }
      continue;
    }
    if (error == EPIPE || error == ECONNRESET) {
      return SendFailure{true, std::string(kClosedEarly)};
    }
    return SendFailure{
        false, "cannot write to " + peer_name_ + ": " + ErrnoText(error)};
  }
  return std::nullopt;
}

std::variant<Response, std::string> Client::ReadUntil(Deadline deadline) {
  for (;;) {
    if (auto line = reader_.NextLine()) {
      auto decoded = DecodeResponse(*line);
      if (auto* why = std::get_if<std::string>(&decoded)) {
        return "workerd sent an invalid response: " + *why;
      }
      return std::get<Response>(std::move(decoded));
    }
    if (reader_.Overflowed()) {
      return "workerd sent a response line longer than " +
             std::to_string(reader_.max_line() >> 20) + " MiB";
    }
    if (peer_closed_ || fd_ < 0) return std::string(kClosedEarly);

    char buffer[64 * 1024];
    const ssize_t received = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (received > 0) {
      reader_.Append(
          std::string_view(buffer, static_cast<std::size_t>(received)));
      continue;
    }
    if (received == 0) {
      peer_closed_ = true;
      continue;  // complete lines before the close are still answers
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      if (auto why = WaitFor(POLLIN, deadline)) return std::move(*why);
      continue;
    }
    if (error == ECONNRESET) {
      // A Unix socket reports a reset once the data queued before it has
      // been read; it means the daemon closed without reading everything.
      peer_closed_ = true;
      continue;
    }
    return "cannot read from " + peer_name_ + ": " + ErrnoText(error);
  }
}

std::optional<std::string> Client::SendRaw(std::string_view bytes,
                                           Timeout timeout) {
  if (auto failure = SendAll(bytes, DeadlineAfter(timeout))) {
    return std::move(failure->message);
  }
  return std::nullopt;
}

std::variant<Response, std::string> Client::ReadResponse(Timeout timeout) {
  return ReadUntil(DeadlineAfter(timeout));
}

std::variant<Response, std::string> Client::Call(
    const Request& request, const InterimHandler& on_interim, Timeout timeout) {
  const Deadline deadline = DeadlineAfter(timeout);
  Request sent = request;
  if (sent.id.is_null()) sent.id = next_id_++;
  if (!sent.protocol) sent.protocol = kProtocolVersion;

  if (auto failure = SendAll(EncodeRequest(sent), deadline)) {
    // A daemon that hangs up on us may have said why first (e.g.
    // permission_denied): read that rather than report a bare EPIPE.
    if (!failure->peer_closed) return std::move(failure->message);
  }
  for (;;) {
    auto read = ReadUntil(deadline);
    if (auto* why = std::get_if<std::string>(&read)) return std::move(*why);
    Response& response = std::get<Response>(read);
    if (response.id == sent.id) {
      if (!response.more) return std::move(response);
      if (on_interim) on_interim(response);
      continue;
    }
    // An error about the connection as a whole carries no id.
    if (response.id.is_null() && !response.ok) return std::move(response);
    return "workerd answered request " +
           response.id.dump(-1, ' ', false, Json::error_handler_t::replace) +
           " while request " +
           sent.id.dump(-1, ' ', false, Json::error_handler_t::replace) +
           " was waiting";
  }
}

}  // namespace workerd::proto
