#include "proto/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/as_nobody.h"
#include "tests/unit/fake_control_server.h"

namespace workerd::proto {
namespace {

using testing::FakeControlServer;
using namespace std::chrono_literals;

Client ConnectOrDie(const std::string& path) {
  auto connected = Client::Connect(path);
  if (auto* error = std::get_if<ConnectError>(&connected)) {
    ADD_FAILURE() << "cannot connect: " << error->message;
    std::abort();
  }
  return std::move(std::get<Client>(connected));
}

Request StatusRequest() {
  Request request;
  request.command = "status";
  return request;
}

// Answers every request with a success echoing its id and command.
FakeControlServer::Reply Echo(const std::string& line) {
  auto decoded = DecodeRequest(line);
  const Request& request = std::get<Request>(decoded);
  return {EncodeResponse(
      Response::Success(request.id, {{"command", request.command}}))};
}

TEST(ClientConnectTest, MissingSocketMeansNotRunning) {
  auto connected = Client::Connect("/nonexistent/workerd/control.sock");
  ASSERT_TRUE(std::holds_alternative<ConnectError>(connected));
  const ConnectError& error = std::get<ConnectError>(connected);
  EXPECT_EQ(error.kind, ConnectError::Kind::kNotRunning);
  EXPECT_EQ(error.message,
            "workerd is not running (no socket at "
            "/nonexistent/workerd/control.sock)");
}

TEST(ClientConnectTest, StaleSocketFileMeansNotRunning) {
  char dir[] = "/tmp/workerd-unit-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/control.sock";
  // Bound but never listened on, as a daemon that died leaves it.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ::close(fd);

  auto connected = Client::Connect(path);
  ASSERT_TRUE(std::holds_alternative<ConnectError>(connected));
  EXPECT_EQ(std::get<ConnectError>(connected).kind,
            ConnectError::Kind::kNotRunning);
  EXPECT_EQ(std::get<ConnectError>(connected).message,
            "workerd is not running (nothing listens on " + path + ")");
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST(ClientConnectTest, TooLongPathIsExplained) {
  const std::string path = "/tmp/" + std::string(200, 'x');
  auto connected = Client::Connect(path);
  ASSERT_TRUE(std::holds_alternative<ConnectError>(connected));
  EXPECT_EQ(std::get<ConnectError>(connected).kind, ConnectError::Kind::kOther);
  EXPECT_EQ(std::get<ConnectError>(connected).message,
            "the control socket path " + path +
                " is too long (205 bytes; a Unix socket path has at most 107)");
}

TEST(ClientConnectTest, SocketWithoutPermissionIsPermissionDenied) {
  FakeControlServer server(Echo);
  ASSERT_EQ(::chmod(server.path().c_str(), 0), 0);
  // Root is never denied by file modes: the connect runs as nobody.
  std::string outcome = workerd::testing::AsNobody([&] {
    auto connected = Client::Connect(server.path());
    if (!std::holds_alternative<ConnectError>(connected)) return std::string("connected");
    const ConnectError& error = std::get<ConnectError>(connected);
    return std::string(error.kind == ConnectError::Kind::kPermissionDenied
                           ? "denied: "
                           : "other: ") +
           error.message;
  });
  EXPECT_EQ(outcome, "denied: permission denied to connect to " +
                         server.path() +
                         " (only root, workerd's own user and members of its "
                         "control_group may connect)");
}

TEST(ClientTest, SendsOneLineWithIdAndProtocolAndReturnsTheAnswer) {
  FakeControlServer server(Echo);
  Client client = ConnectOrDie(server.path());
  Request request = StatusRequest();
  request.args = {{"targets", {"web"}}};
  auto answer = client.Call(request);
  ASSERT_TRUE(std::holds_alternative<Response>(answer))
      << std::get<std::string>(answer);
  const Response& response = std::get<Response>(answer);
  EXPECT_TRUE(response.ok);
  EXPECT_EQ(response.id, Json(1));
  EXPECT_EQ(response.result, Json({{"command", "status"}}));
  EXPECT_EQ(server.received(),
            std::vector<std::string>{
                R"({"id":1,"command":"status","args":{"targets":["web"]},)"
                R"("protocol":1})"});
}

TEST(ClientTest, NumbersRequestsOnOneConnectionAndKeepsChosenIds) {
  FakeControlServer server(Echo);
  Client client = ConnectOrDie(server.path());
  EXPECT_EQ(std::get<Response>(client.Call(StatusRequest())).id, Json(1));
  EXPECT_EQ(std::get<Response>(client.Call(StatusRequest())).id, Json(2));
  Request chosen = StatusRequest();
  chosen.id = "mine";
  EXPECT_EQ(std::get<Response>(client.Call(chosen)).id, Json("mine"));
  EXPECT_EQ(server.received().size(), 3u);
}

TEST(ClientTest, ReportsInterimResponsesThenReturnsTheFinalOne) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{
        EncodeResponse(Response::Interim(Json(1), {{"step", 1}})) +
        EncodeResponse(Response::Interim(Json(1), {{"step", 2}})) +
        EncodeResponse(Response::Success(Json(1), {{"step", "done"}}))};
  });
  Client client = ConnectOrDie(server.path());
  std::vector<Json> interim;
  auto answer = client.Call(StatusRequest(), [&](const Response& response) {
    EXPECT_TRUE(response.more);
    interim.push_back(response.result);
  });
  ASSERT_TRUE(std::holds_alternative<Response>(answer));
  EXPECT_FALSE(std::get<Response>(answer).more);
  EXPECT_EQ(std::get<Response>(answer).result, Json({{"step", "done"}}));
  EXPECT_EQ(interim, (std::vector<Json>{{{"step", 1}}, {{"step", 2}}}));
}

TEST(ClientTest, ErrorAnswersAreAnswers) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{EncodeResponse(Response::Failure(
        Json(1),
        Error{error_code::kUnknownTarget, "no program named \"wbe\""}))};
  });
  Client client = ConnectOrDie(server.path());
  auto answer = client.Call(StatusRequest());
  ASSERT_TRUE(std::holds_alternative<Response>(answer));
  EXPECT_FALSE(std::get<Response>(answer).ok);
  EXPECT_EQ(std::get<Response>(answer).error,
            (Error{"unknown_target", "no program named \"wbe\""}));
}

TEST(ClientTest, ConnectionClosedMidAnswer) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{R"({"id":1,"ok":tr)", /*close=*/true};
  });
  Client client = ConnectOrDie(server.path());
  auto answer = client.Call(StatusRequest());
  ASSERT_TRUE(std::holds_alternative<std::string>(answer));
  EXPECT_EQ(std::get<std::string>(answer),
            "connection closed by workerd before it answered");
  EXPECT_TRUE(client.PeerClosed());
  // The connection stays unusable, and says so.
  EXPECT_EQ(std::get<std::string>(client.Call(StatusRequest())),
            "connection closed by workerd before it answered");
}

TEST(ClientTest, ConnectionClosedAfterAnInterimResponse) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{
        EncodeResponse(Response::Interim(Json(1), {{"step", 1}})), true};
  });
  Client client = ConnectOrDie(server.path());
  int interim = 0;
  auto answer =
      client.Call(StatusRequest(), [&](const Response&) { ++interim; });
  EXPECT_EQ(interim, 1);
  ASSERT_TRUE(std::holds_alternative<std::string>(answer));
  EXPECT_EQ(std::get<std::string>(answer),
            "connection closed by workerd before it answered");
}

TEST(ClientTest, ConnectionErrorWithoutIdIsReturnedEvenIfSendingFailed) {
  // What a daemon does to a peer it does not let in: one error, then close.
  FakeControlServer server(
      Echo,
      EncodeResponse(Response::Failure(
          nullptr, Error{error_code::kPermissionDenied,
                         "uid 1000 is not allowed to control workerd"})),
      /*close_after_greeting=*/true);
  Client client = ConnectOrDie(server.path());
  auto answer = client.Call(StatusRequest());
  ASSERT_TRUE(std::holds_alternative<Response>(answer))
      << std::get<std::string>(answer);
  EXPECT_TRUE(std::get<Response>(answer).id.is_null());
  EXPECT_EQ(std::get<Response>(answer).error,
            (Error{"permission_denied",
                   "uid 1000 is not allowed to control workerd"}));
}

TEST(ClientTest, MalformedAnswerIsAnError) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{"{\"id\":1,\"result\":{}}\n"};
  });
  Client client = ConnectOrDie(server.path());
  auto answer = client.Call(StatusRequest());
  ASSERT_TRUE(std::holds_alternative<std::string>(answer));
  EXPECT_EQ(std::get<std::string>(answer),
            "workerd sent an invalid response: response has no boolean \"ok\"");
}

TEST(ClientTest, AnswerToAnotherRequestIsAnError) {
  FakeControlServer server([](const std::string&) {
    return FakeControlServer::Reply{
        EncodeResponse(Response::Success(Json(41), nullptr))};
  });
  Client client = ConnectOrDie(server.path());
  auto answer = client.Call(StatusRequest());
  ASSERT_TRUE(std::holds_alternative<std::string>(answer));
  EXPECT_EQ(std::get<std::string>(answer),
            "workerd answered request 41 while request 1 was waiting");
}

TEST(ClientTest, TimesOutWhenNoAnswerComes) {
  FakeControlServer server(
      [](const std::string&) { return FakeControlServer::Reply{}; });
  Client client = ConnectOrDie(server.path());
  const auto start = std::chrono::steady_clock::now();
  auto answer = client.Call(StatusRequest(), {}, 50ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(std::holds_alternative<std::string>(answer));
  EXPECT_EQ(std::get<std::string>(answer),
            "workerd did not answer within 50ms");
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 10s);
}

TEST(ClientTest, LargeRequestsAndAnswersCrossInPieces) {
  // Far beyond a socket buffer in both directions: partial writes and reads.
  const std::string big(768 << 10, 'b');
  FakeControlServer server([](const std::string& line) {
    auto decoded = DecodeRequest(line);
    if (!std::holds_alternative<Request>(decoded)) {
      return FakeControlServer::Reply{
          EncodeResponse(Response::Failure(nullptr, std::get<Error>(decoded)))};
    }
    const Request& request = std::get<Request>(decoded);
    return FakeControlServer::Reply{EncodeResponse(Response::Success(
        request.id, {{"size", request.args["blob"].get<std::string>().size()},
                     {"back", request.args["blob"]}}))};
  });
  Client client = ConnectOrDie(server.path());
  Request request = StatusRequest();
  request.args = {{"blob", big}};
  auto answer = client.Call(request);
  ASSERT_TRUE(std::holds_alternative<Response>(answer))
      << std::get<std::string>(answer);
  EXPECT_EQ(std::get<Response>(answer).result["size"], big.size());
  EXPECT_EQ(std::get<Response>(answer).result["back"], big);
}

TEST(ClientTest, WorksOverASocketpair) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Client client = Client::Adopt(fds[0], "a socketpair");
  // The answer is already waiting when the request goes out.
  const std::string answer_line =
      EncodeResponse(Response::Success(Json(1), {{"version", "0.1.0"}}));
  ASSERT_EQ(::write(fds[1], answer_line.data(), answer_line.size()),
            static_cast<ssize_t>(answer_line.size()));
  auto answer = client.Call(StatusRequest());
  ASSERT_TRUE(std::holds_alternative<Response>(answer));
  EXPECT_EQ(std::get<Response>(answer).result, Json({{"version", "0.1.0"}}));

  char buffer[256];
  const ssize_t n = ::read(fds[1], buffer, sizeof(buffer));
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n > 0 ? n : 0)),
            "{\"id\":1,\"command\":\"status\",\"protocol\":1}\n");
  ::close(fds[1]);
}

TEST(ClientTest, RawAccessForTestsThatMisbehaveOnPurpose) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Client client = Client::Adopt(fds[0], "a socketpair");
  EXPECT_EQ(client.SendRaw("not json\n"), std::nullopt);
  const std::string reply =
      EncodeResponse(Response::Failure(nullptr, Error{"bad_request", "x"}));
  ASSERT_EQ(::write(fds[1], reply.data(), reply.size()),
            static_cast<ssize_t>(reply.size()));
  ::close(fds[1]);
  auto first = client.ReadResponse(1s);
  ASSERT_TRUE(std::holds_alternative<Response>(first));
  EXPECT_EQ(std::get<Response>(first).error, (Error{"bad_request", "x"}));
  auto second = client.ReadResponse(1s);
  ASSERT_TRUE(std::holds_alternative<std::string>(second));
  EXPECT_TRUE(client.PeerClosed());
}

TEST(ClientTest, MovedFromClientOwnsNothing) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Client first = Client::Adopt(fds[0], "a socketpair");
  Client second = std::move(first);
  EXPECT_EQ(first.fd(), -1);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(second.fd(), fds[0]);
  { Client third = std::move(second); }
  // The only owner is gone: the peer sees end of file.
  char c;
  EXPECT_EQ(::read(fds[1], &c, 1), 0);
  ::close(fds[1]);
}

}  // namespace
}  // namespace workerd::proto
