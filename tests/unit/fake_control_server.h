// A stand-in for workerd's control socket in unit tests: a Unix socket in a
// temporary directory, served by a thread that answers each request line
// with whatever the test scripts. Lets the client and workerctl be tested
// against exact bytes, including broken ones.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "proto/json_lines.h"

namespace workerd::testing {

class FakeControlServer {
 public:
  struct Reply {
    std::string bytes;   // written as is: zero or more lines, or part of one
    bool close = false;  // hang up after writing
    // Unless closing, called once `bytes` are written, on the server's
    // thread, for what comes next: lets a test send more only after the
    // client has acted on the first part (e.g. printed it).
    std::function<Reply()> then = nullptr;
  };
  using Handler = std::function<Reply(const std::string& request_line)>;

  // `greeting` is written as soon as a connection is accepted (e.g. a
  // permission_denied error), and the connection closed after it when
  // `close_after_greeting`.
  explicit FakeControlServer(Handler handler, std::string greeting = "",
                             bool close_after_greeting = false)
      : handler_(std::move(handler)),
        greeting_(std::move(greeting)),
        close_after_greeting_(close_after_greeting) {
    char dir_template[] = "/tmp/workerd-unit-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = dir_template;
    path_ = dir_ + "/control.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, path_.size());
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address),
               sizeof(address)) != 0 ||
        ::listen(listen_fd_, 8) != 0 || ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
      throw std::runtime_error("cannot set up the fake control socket");
    }
    thread_ = std::thread([this] { Serve(); });
  }

  ~FakeControlServer() {
    (void)!::write(stop_pipe_[1], "x", 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  FakeControlServer(const FakeControlServer&) = delete;
  FakeControlServer& operator=(const FakeControlServer&) = delete;

  const std::string& path() const { return path_; }

  // Every request line received so far, over all connections.
  std::vector<std::string> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  // Waits for `fd` to become readable; false when asked to stop.
  bool WaitReadable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return false;
      if (fds[0].revents != 0) return true;
    }
  }

  static void WriteAll(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;  // the client went away; the test will notice
      done += static_cast<std::size_t>(n);
    }
  }

  void Serve() {
    while (WaitReadable(listen_fd_)) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ServeConnection(fd);
      ::close(fd);
    }
  }

  void ServeConnection(int fd) {
    if (!greeting_.empty()) WriteAll(fd, greeting_);
    if (close_after_greeting_) return;
    proto::LineReader reader(proto::kMaxResponseLineBytes);
    char buffer[65536];
    while (WaitReadable(fd)) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      reader.Append(std::string_view(buffer, static_cast<std::size_t>(n)));
      while (auto line = reader.NextLine()) {
        {
          std::lock_guard lock(mutex_);
          received_.push_back(*line);
        }
        Reply reply = handler_(*line);
        for (;;) {
          WriteAll(fd, reply.bytes);
          if (reply.close) return;
          if (!reply.then) break;
          const std::function<Reply()> then = std::move(reply.then);
          reply = then();
        }
      }
    }
  }

  Handler handler_;
  std::string greeting_;
  bool close_after_greeting_;
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> received_;
};

}  // namespace workerd::testing
