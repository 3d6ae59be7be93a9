// A blocking client for the control socket, used by workerctl and by the
// end-to-end tests. One request at a time; responses are matched by id.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "proto/json_lines.h"
#include "proto/message.h"

namespace workerd::proto {

struct ConnectError {
  enum class Kind {
    kNotRunning,        // no socket file, or nothing listens on it
    kPermissionDenied,  // the socket's mode keeps us out
    kOther,             // anything else; `message` says what
  };
  Kind kind = Kind::kOther;
  // A sentence naming the path, e.g. "workerd is not running (no socket at
  // /run/workerd/control.sock)".
  std::string message;
};

class Client {
 public:
  // nullopt: wait as long as it takes.
  using Timeout = std::optional<std::chrono::milliseconds>;
  using InterimHandler = std::function<void(const Response&)>;

  // Connects to the daemon's control socket. The connect itself blocks until
  // the daemon accepts (it never blocks on a client, so this is short).
  static std::variant<Client, ConnectError> Connect(
      const std::string& socket_path);

  // Takes ownership of an already connected stream socket (e.g. one end of a
  // socketpair in a test). `peer_name` is used in messages.
  static Client Adopt(int fd, std::string peer_name);

  Client(Client&& other) noexcept;
  Client& operator=(Client&& other) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // Sends one request and waits for its final response, calling
  // `on_interim` for each response with `more` set on the way. A null
  // request id is replaced by a fresh integer, and an unset `protocol` by
  // kProtocolVersion, so that the answer can be matched.
  //
  // Returns the final response whatever its `ok` (an error answer is an
  // answer), including an error the daemon sends with a null id for the
  // whole connection (permission_denied, too_many_clients, line_too_long).
  // Returns a sentence when there is no valid answer: "connection closed by
  // workerd before it answered", a malformed line, a timeout, an I/O error.
  std::variant<Response, std::string> Call(
      const Request& request, const InterimHandler& on_interim = {},
      Timeout timeout = std::nullopt);

  // Lower-level access for tests that speak the protocol badly on purpose.
  //
  // Writes all of `bytes` (no newline is added). On failure, a sentence.
  std::optional<std::string> SendRaw(std::string_view bytes,
                                     Timeout timeout = std::nullopt);
  // Reads the next response line, whatever its id.
  std::variant<Response, std::string> ReadResponse(
      Timeout timeout = std::nullopt);

  // Whether the daemon has closed the connection (seen while reading).
  bool PeerClosed() const { return peer_closed_; }

  int fd() const { return fd_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Expiry {
    Clock::time_point at;
    std::chrono::milliseconds after;  // the timeout it came from, for messages
  };
  using Deadline = std::optional<Expiry>;

  struct SendFailure {
    bool peer_closed;  // EPIPE/ECONNRESET: the daemon may have said why
    std::string message;
  };

  Client(int fd, std::string peer_name);

  static Deadline DeadlineAfter(Timeout timeout);
  std::optional<SendFailure> SendAll(std::string_view bytes, Deadline deadline);
  std::variant<Response, std::string> ReadUntil(Deadline deadline);
  // Waits until fd_ is readable (POLLIN) or writable (POLLOUT). On timeout
  // or error, a sentence.
  std::optional<std::string> WaitFor(short events, Deadline deadline);
  void Close();

  int fd_ = -1;
  std::string peer_name_;  // the socket path, for messages
  LineReader reader_{kMaxResponseLineBytes};
  bool peer_closed_ = false;
  std::int64_t next_id_ = 1;
};

}  // namespace workerd::proto
