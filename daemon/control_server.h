// The control socket's server side: accepts connections, frames JSON lines,
// checks who connects, and hands each request to a handler, one request
// at a time per connection. It never blocks on a client: a client that
// sends too much, reads too little or says nothing for too long is cut off.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "daemon/event_loop.h"
#include "daemon/peer_credentials.h"
#include "daemon/unix_socket.h"
#include "proto/message.h"

namespace workerd {

// Sends a response to the client that made the request. Safe to call after
// the client has gone (it does nothing then). A response with `more` set
// is interim; the final one lets the connection's next request in.
class Reply {
 public:
  Reply() = default;
  explicit Reply(
      std::function<void(proto::Response)> send,
      std::function<bool()> connected = {},
      std::function<std::size_t()> unsent = {},
      std::function<void(std::function<void()>)> when_drained = {})
      : send_(std::move(send)),
        connected_(std::move(connected)),
        unsent_(std::move(unsent)),
        when_drained_(std::move(when_drained)) {}

  void operator()(proto::Response response) const {
    if (send_) send_(std::move(response));
  }
  // False once the client has gone: a wait kept only to answer it can be
  // dropped.
  bool Connected() const { return !connected_ || connected_(); }
  // Bytes of responses the client has not taken yet (beyond what the
  // kernel buffers). A long answer is sent as the client reads it.
  std::size_t Unsent() const { return unsent_ ? unsent_() : 0; }
  // Runs `ready` once, on the loop, when the client has taken everything
  // sent so far; never if it goes away first.
  void WhenDrained(std::function<void()> ready) const {
    if (when_drained_) when_drained_(std::move(ready));
  }

 private:
  std::function<void(proto::Response)> send_;
  std::function<bool()> connected_;
  std::function<std::size_t()> unsent_;
  std::function<void(std::function<void()>)> when_drained_;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void Handle(const proto::Request& request, Reply reply) = 0;
};

struct ControlServerLimits {
  std::size_t max_clients = 64;
  Duration idle_timeout{60000};
  std::size_t max_unsent_bytes = 4 << 20;
};

class ControlServer {
 public:
  ControlServer(EventLoop& loop, UnixListener listener, AccessPolicy policy,
                RequestHandler& handler, ControlServerLimits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return listener_.path; }
  std::size_t client_count() const { return connections_.size(); }
  // Stops accepting; existing connections keep being served.
  void StopAccepting();
  // Writes what can be written without blocking, before the daemon exits.
  void FlushAll();

 private:
  class Connection;
  friend class Connection;

  void OnAcceptable();
  void Reject(int fd, const char* code, const char* message);
  void Forget(std::uint64_t id);

  EventLoop& loop_;
  UnixListener listener_;
  AccessPolicy policy_;
  RequestHandler& handler_;
  ControlServerLimits limits_;
  EventSource accept_source_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections_;
};

}  // namespace workerd
