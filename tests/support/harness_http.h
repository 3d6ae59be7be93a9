// HTTP over loopback for the end-to-end tests: one request, or a bounded
// load loop in background threads that counts every answer and failure,
// so a test can prove that no request failed while workers came and went.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace workerd::e2e {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0,
// read back and released).
int FreePort();

// Where an HTTP server listens: 127.0.0.1:port, or a unix socket path.
struct HttpTarget {
  int port = 0;
  std::string unix_path;  // used when not empty

  std::string ToString() const;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
  bool server_closes = false;  // "Connection: close" in the answer
};

// GET `path` over a fresh connection with "Connection: close". A sentence
// on failure: "connect to 127.0.0.1:8080: Connection refused", "connection
// closed before a complete answer", a timeout.
std::variant<HttpAnswer, std::string> HttpGet(
    const HttpTarget& target, const std::string& path = "/",
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Polls HttpGet until it answers 200 or the deadline passes.
bool WaitForHttp(const HttpTarget& target,
                 std::chrono::milliseconds deadline = std::chrono::seconds(10));

struct LoadResult {
  int ok = 0;      // complete 200 answers
  int failed = 0;  // refused, reset, timed out, incomplete or not 200
  // A reused keep-alive connection the server closed before answering the
  // next request (it was stopping): retried on a new connection, as HTTP
  // clients retry idempotent requests, and not a failure.
  int retried = 0;
  std::vector<std::string> errors;  // the first few failures, for messages
  std::map<std::string, int> bodies;  // answer body -> how many times
};

// `clients` threads sending GET / in a loop until Stop(). With keep_alive
// each thread reuses its connection until the server says
// "Connection: close" (which is not a failure); without it every request
// has a connection of its own.
class LoadLoop {
 public:
  LoadLoop(HttpTarget target, int clients, bool keep_alive);
  ~LoadLoop();
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;

  // Answers so far (ok + failed).
  int requests() const { return requests_.load(); }
  // Stops the threads and returns the totals.
  LoadResult Stop();

 private:
  void Client();
  void Record(const std::variant<HttpAnswer, std::string>& answer);

  HttpTarget target_;
  bool keep_alive_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  LoadResult result_;
  std::vector<std::thread> threads_;
};

}  // namespace workerd::e2e
