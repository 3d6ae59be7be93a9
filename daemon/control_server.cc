#include "daemon/control_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

#include "proto/json_lines.h"

namespace workerd {

class ControlServer::Connection
    : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ControlServer& server, std::uint64_t id, UniqueFd fd, Peer peer)
      : server_(server), id_(id), fd_(std::move(fd)), peer_(peer) {}

  void Begin() {
    std::weak_ptr<Connection> weak = shared_from_this();
    io_ = server_.loop_.AddIo(fd_.Get(), EPOLLIN, [weak](uint32_t revents) {
      if (auto self = weak.lock()) self->OnIo(revents);
    });
    ArmIdleTimer();
  }

  void Send(const proto::Response& response) {
    if (closed_) return;
    out_ += proto::EncodeResponse(response);
    if (!response.more) busy_ = false;
    Flush();
    if (closed_) return;
    if (out_.size() > server_.limits_.max_unsent_bytes) {
      spdlog::warn("control client pid {} does not read its answers; "
                   "closing its connection",
                   peer_.pid);
      Close();
      return;
    }
    if (!busy_) {
      ArmIdleTimer();
      // Not from inside the handler's call stack: it may still be running.
      std::weak_ptr<Connection> weak = shared_from_this();
      server_.loop_.RunSoon([weak] {
        if (auto self = weak.lock()) self->ProcessLines();
      });
    }
    UpdateInterest();
  }

  void Flush() {
    while (!out_.empty()) {
      ssize_t n = ::send(fd_.Get(), out_.data(), out_.size(),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        Close();  // the client went away
        return;
      }
      out_.erase(0, static_cast<std::size_t>(n));
    }
    if (close_when_flushed_) {
      Close();
      return;
    }
    if (drained_) server_.loop_.RunSoon(std::exchange(drained_, nullptr));
  }

  std::size_t Unsent() const { return out_.size(); }

  void WhenDrained(std::function<void()> ready) {
    if (closed_) return;
    drained_ = std::move(ready);
    if (out_.empty()) server_.loop_.RunSoon(std::exchange(drained_, nullptr));
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    io_.Reset();
    idle_.Reset();
    fd_.Reset();
    drained_ = nullptr;
    std::weak_ptr<Connection> weak = shared_from_this();
    server_.loop_.RunSoon([weak] {
      if (auto self = weak.lock()) self->server_.Forget(self->id_);
    });
  }

 private:
  void OnIo(uint32_t revents) {
    if (revents & EPOLLOUT) Flush();
    if (closed_) return;
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) Receive();
    if (!closed_) UpdateInterest();
  }

  void Receive() {
    char buffer[65536];
    ssize_t n = ::recv(fd_.Get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      // The client hung up; whatever it asked for carries on without it.
      Close();
      return;
    }
    reader_.Append(std::string_view(buffer, static_cast<std::size_t>(n)));
    ProcessLines();
  }

  void ProcessLines() {
    if (closed_ || processing_) return;
    processing_ = true;
    while (!busy_ && !closed_ && !close_when_flushed_) {
      std::optional<std::string> line = reader_.NextLine();
      if (!line) {
        if (reader_.Overflowed()) {
          RefuseAndClose(proto::error_code::kLineTooLong,
                         "request line exceeds 1 MiB; closing the connection");
        }
        break;
      }
      if (line->find_first_not_of(" \t") == std::string::npos) continue;
      Dispatch(*line);
      // One request per dispatch: the next one waits for RunSoon, so a
      // client that pipelines many requests takes turns with the others.
      break;
    }
    processing_ = false;
    if (!closed_) UpdateInterest();
  }

  void Dispatch(const std::string& line) {
    idle_.Reset();
    auto decoded = proto::DecodeRequest(line);
    busy_ = true;
    if (auto* error = std::get_if<proto::Error>(&decoded)) {
      Send(proto::Response::Failure(proto::RequestIdOf(line), *error));
      return;
    }
    std::weak_ptr<Connection> weak = shared_from_this();
    const proto::Request& request = std::get<proto::Request>(decoded);
    try {
      server_.handler_.Handle(
          request,
          Reply(
              [weak](proto::Response response) {
                if (auto self = weak.lock()) self->Send(response);
              },
              [weak] {
                auto self = weak.lock();
                return self && !self->closed_;
              },
              [weak]() -> std::size_t {
                auto self = weak.lock();
                return self ? self->Unsent() : 0;
              },
              [weak](std::function<void()> ready) {
                if (auto self = weak.lock()) self->WhenDrained(std::move(ready));
              }));
    } catch (const std::exception& error) {
      // The request failed, not the daemon; the connection is answered so
      // that it does not wait (and stay busy) forever.
      spdlog::error("control request \"{}\" failed: {}", request.command,
                    error.what());
      if (busy_) {
        Send(proto::Response::Failure(
            request.id, {proto::error_code::kFailed,
                         std::string("internal error: ") + error.what()}));
      }
    }
  }

  void RefuseAndClose(const char* code, const char* message) {
    out_ += proto::EncodeResponse(
        proto::Response::Failure(nullptr, proto::Error{code, message}));
    close_when_flushed_ = true;
    Flush();
  }

  // Read only while no request is in progress: a client that pipelines
  // requests waits in its own socket buffer, not in our memory.
  void UpdateInterest() {
    if (!io_) return;
    uint32_t events = 0;
    if (!busy_ && !close_when_flushed_) events |= EPOLLIN;
    if (!out_.empty()) events |= EPOLLOUT;
    sd_event_source_set_io_events(io_.Get(), events);
  }

  void ArmIdleTimer() {
    std::weak_ptr<Connection> weak = shared_from_this();
    idle_ = server_.loop_.AddTimer(
        server_.loop_.Now() + server_.limits_.idle_timeout,
        [weak] {
          if (auto self = weak.lock()) {
            if (self->busy_) return;
            spdlog::info("closing control connection of pid {}: idle",
                         self->peer_.pid);
            self->Close();
          }
        },
        Duration(1000));
  }

  ControlServer& server_;
  std::uint64_t id_;
  UniqueFd fd_;
  Peer peer_;
  EventSource io_;
  EventSource idle_;
  proto::LineReader reader_;
  std::string out_;
  std::function<void()> drained_;  // runs once out_ is empty
  bool busy_ = false;  // a request is in progress
  bool processing_ = false;
  bool close_when_flushed_ = false;
  bool closed_ = false;
};

ControlServer::ControlServer(EventLoop& loop, UnixListener listener,
                             AccessPolicy policy, RequestHandler& handler,
                             ControlServerLimits limits)
    : loop_(loop),
      listener_(std::move(listener)),
      policy_(policy),
      handler_(handler),
      limits_(limits) {
  accept_source_ = loop_.AddIo(listener_.fd.Get(), EPOLLIN,
                               [this](uint32_t) { OnAcceptable(); });
}

ControlServer::~ControlServer() {
  connections_.clear();
  accept_source_.Reset();
  RemoveUnixListenerFile(listener_);
}

void ControlServer::StopAccepting() { accept_source_.Reset(); }

void ControlServer::FlushAll() {
  for (auto& [id, connection] : connections_) connection->Flush();
}

void ControlServer::OnAcceptable() {
  // A bounded batch per wake-up, so a flood of connects cannot starve the
  // rest of the loop.
  for (int i = 0; i < 16; ++i) {
    int fd = ::accept4(listener_.fd.Get(), nullptr, nullptr,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        spdlog::warn("cannot accept a control connection: {}",
                     std::strerror(errno));
      }
      return;
    }
    std::optional<Peer> peer = GetPeer(fd);
    if (!peer || !PeerAllowed(fd, *peer, policy_)) {
      spdlog::warn("refused a control connection from {}: not root, "
                   "workerd's user or in the control group",
                   peer ? fmt::format("uid {} (pid {})", peer->uid, peer->pid)
                        : std::string("an unknown peer"));
      Reject(fd, proto::error_code::kPermissionDenied,
             "permission denied: only root, workerd's user and members of "
             "control_group may use this socket");
      continue;
    }
    if (connections_.size() >= limits_.max_clients) {
      spdlog::warn("refused a control connection from pid {}: {} clients "
                   "are connected already",
                   peer->pid, connections_.size());
      Reject(fd, proto::error_code::kTooManyClients,
             "too many control connections; try again later");
      continue;
    }
    std::uint64_t id = next_id_++;
    auto connection =
        std::make_shared<Connection>(*this, id, UniqueFd(fd), *peer);
    connections_.emplace(id, connection);
    connection->Begin();
  }
}

void ControlServer::Reject(int fd, const char* code, const char* message) {
  UniqueFd owned(fd);
  std::string line = proto::EncodeResponse(
      proto::Response::Failure(nullptr, proto::Error{code, message}));
  // Best effort: a fresh socket has room for one short line.
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void ControlServer::Forget(std::uint64_t id) { connections_.erase(id); }

}  // namespace workerd
