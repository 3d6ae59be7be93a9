// The control protocol's messages (PROTOCOL.md) as values, and their
// encoding as JSON lines. Nothing here does I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace workerd::proto {

using Json = nlohmann::json;

// The protocol version this code speaks.
inline constexpr int kProtocolVersion = 1;

// Deeper nesting than this in a request or response is refused: nlohmann's
// copy, comparison and dump recurse, so a line of a million '[' would
// otherwise overflow the stack of whoever handles it.
inline constexpr int kMaxJsonDepth = 64;

// The `code` of an error response, one constant per row of PROTOCOL.md.
namespace error_code {
inline constexpr const char* kBadRequest = "bad_request";
inline constexpr const char* kLineTooLong = "line_too_long";
inline constexpr const char* kUnsupportedProtocol = "unsupported_protocol";
inline constexpr const char* kUnknownCommand = "unknown_command";
inline constexpr const char* kInvalidArgument = "invalid_argument";
inline constexpr const char* kUnknownTarget = "unknown_target";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kBusy = "busy";
inline constexpr const char* kTooSlow = "too_slow";
inline constexpr const char* kShuttingDown = "shutting_down";
inline constexpr const char* kTooManyClients = "too_many_clients";
inline constexpr const char* kPermissionDenied = "permission_denied";
inline constexpr const char* kConfigInvalid = "config_invalid";
}  // namespace error_code

struct Error {
  std::string code;     // one of error_code, for programs
  std::string message;  // a sentence, for people

  bool operator==(const Error&) const = default;
};

struct Request {
  Json id;  // null, an integer or a string; echoed in every response
  std::string command;
  Json args = Json::object();
  std::optional<int> protocol;  // as sent; nullopt when absent
};

struct Response {
  Json id;
  bool ok = true;
  Json result;  // null when absent
  std::optional<Error> error;
  bool more = false;  // an interim response; the final one follows

  static Response Success(Json id, Json result);
  // A `failed` error may carry a result with the details (PROTOCOL.md).
  static Response Failure(Json id, Error error, Json result = nullptr);
  // A progress report before the final response.
  static Response Interim(Json id, Json result);
};

// Parses one request line (without its '\n'). Errors are `bad_request` with a
// sentence saying what is wrong (e.g. "request is not valid JSON: ...",
// "\"command\" must be a string"), or `unsupported_protocol` when `protocol`
// names a version other than kProtocolVersion. Unknown fields are ignored.
// Never throws.
std::variant<Request, Error> DecodeRequest(std::string_view line);

// The `id` of a request line that DecodeRequest refused, when the line is an
// object with a valid `id`; null otherwise. Lets the daemon address its
// error response to the request that caused it.
Json RequestIdOf(std::string_view line);

// One line ending in '\n'. `args` is left out when it is an empty object,
// `protocol` when unset. Invalid UTF-8 in strings is replaced by U+FFFD.
std::string EncodeRequest(const Request& request);

// One line ending in '\n', fields in the order id, ok, result, error, more
// (`result` omitted when null, `error` when unset, `more` when false).
// Never throws: invalid UTF-8 in strings is replaced by U+FFFD.
std::string EncodeResponse(const Response& response);

// Parses one response line. On failure, a sentence saying why the line is not
// a valid response. Never throws.
std::variant<Response, std::string> DecodeResponse(std::string_view line);

}  // namespace workerd::proto
