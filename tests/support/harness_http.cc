#include "tests/support/harness_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace workerd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int Get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// A connected socket with send and receive timeouts, or a sentence.
std::variant<int, std::string> Connect(const HttpTarget& target,
                                       std::chrono::milliseconds timeout) {
  const bool unix_socket = !target.unix_path.empty();
  int fd = ::socket(unix_socket ? AF_UNIX : AF_INET,
                    SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  if (unix_socket) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, target.unix_path.c_str(),
                 sizeof address.sun_path - 1);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(target.port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (rc < 0) {
    std::string error = Errno("connect to " + target.ToString());
    ::close(fd);
    return error;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent,
                       MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(c));
  return text;
}

// Reads one answer from `fd`; `buffer` keeps bytes of a next answer.
std::variant<HttpAnswer, std::string> ReadAnswer(int fd, std::string& buffer) {
  auto fill = [&]() -> std::optional<std::string> {
    char chunk[4096];
    ssize_t n;
    do {
      n = ::recv(fd, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      return errno == EAGAIN ? std::string("timed out waiting for the answer")
                             : Errno("recv");
    }
    if (n == 0) return std::string("connection closed before a complete answer");
    buffer.append(chunk, static_cast<std::size_t>(n));
    return std::nullopt;
  };
  std::size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (auto error = fill()) return *error;
  }
  const std::string head = buffer.substr(0, end);
  HttpAnswer answer;
  if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) {
    return "malformed status line: " + head.substr(0, head.find('\r'));
  }
  answer.status = std::atoi(head.c_str() + 9);
  const std::string headers = Lower(head);
  std::size_t length = 0;
  if (auto at = headers.find("\r\ncontent-length:"); at != std::string::npos) {
    length = std::strtoul(headers.c_str() + at + 17, nullptr, 10);
  } else {
    return std::string("answer without Content-Length");
  }
  answer.server_closes =
      headers.find("\r\nconnection: close") != std::string::npos;
  while (buffer.size() < end + 4 + length) {
    if (auto error = fill()) return *error;
  }
  answer.body = buffer.substr(end + 4, length);
  buffer.erase(0, end + 4 + length);
  return answer;
}

// The server closed or reset the connection (not a timeout).
bool ClosedByServer(const std::string& error) {
  return error.find("closed before") != std::string::npos ||
         error.find(std::strerror(ECONNRESET)) != std::string::npos ||
         error.find(std::strerror(EPIPE)) != std::string::npos;
}

std::string Request(const std::string& path, bool keep_alive) {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

}  // namespace

std::string HttpTarget::ToString() const {
  return unix_path.empty() ? "127.0.0.1:" + std::to_string(port)
                           : "unix:" + unix_path;
}

int FreePort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd.Get(), reinterpret_cast<sockaddr*>(&address), length) < 0 ||
      ::getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&address),
                    &length) < 0) {
    return 0;
  }
  return ntohs(address.sin_port);
}

std::variant<HttpAnswer, std::string> HttpGet(
    const HttpTarget& target, const std::string& path,
    std::chrono::milliseconds timeout) {
  auto connected = Connect(target, timeout);
  if (auto* error = std::get_if<std::string>(&connected)) return *error;
  Fd fd(std::get<int>(connected));
  if (!SendAll(fd.Get(), Request(path, false))) return Errno("send");
  std::string buffer;
  return ReadAnswer(fd.Get(), buffer);
}

bool WaitForHttp(const HttpTarget& target, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  while (Clock::now() < until) {
    auto answer = HttpGet(target, "/", std::chrono::milliseconds(1000));
    if (auto* ok = std::get_if<HttpAnswer>(&answer); ok && ok->status == 200) {
      return true;
    }
    ::poll(nullptr, 0, 20);  // between attempts, not as a proof
  }
  return false;
}

LoadLoop::LoadLoop(HttpTarget target, int clients, bool keep_alive)
    : target_(std::move(target)), keep_alive_(keep_alive) {
  for (int i = 0; i < clients; ++i) threads_.emplace_back([this] { Client(); });
}

LoadLoop::~LoadLoop() { Stop(); }

LoadResult LoadLoop::Stop() {
  stop_ = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  std::lock_guard lock(mutex_);
  return result_;
}

void LoadLoop::Record(const std::variant<HttpAnswer, std::string>& answer) {
  std::lock_guard lock(mutex_);
  ++requests_;
  if (const auto* ok = std::get_if<HttpAnswer>(&answer); ok && ok->status == 200) {
    ++result_.ok;
    ++result_.bodies[ok->body];
    return;
  }
  ++result_.failed;
  if (result_.errors.size() < 10) {
    result_.errors.push_back(
        std::holds_alternative<std::string>(answer)
            ? std::get<std::string>(answer)
            : "status " + std::to_string(std::get<HttpAnswer>(answer).status));
  }
}

void LoadLoop::Client() {
  const auto timeout = std::chrono::seconds(10);
  while (!stop_) {
    if (!keep_alive_) {
      Record(HttpGet(target_, "/", timeout));
      continue;
    }
    auto connected = Connect(target_, timeout);
    if (auto* error = std::get_if<std::string>(&connected)) {
      Record(*error);
      continue;
    }
    Fd fd(std::get<int>(connected));
    std::string buffer;
    int answered = 0;
    while (!stop_) {
      const bool sent = SendAll(fd.Get(), Request("/", true));
      auto answer = sent ? ReadAnswer(fd.Get(), buffer)
                         : std::variant<HttpAnswer, std::string>(Errno("send"));
      const auto* ok = std::get_if<HttpAnswer>(&answer);
      if (ok == nullptr && answered > 0 && buffer.empty() &&
          ClosedByServer(std::get<std::string>(answer))) {
        std::lock_guard lock(mutex_);
        ++result_.retried;
        break;
      }
      Record(answer);
      ++answered;
      if (ok == nullptr || ok->server_closes) break;
    }
  }
}

}  // namespace workerd::e2e
