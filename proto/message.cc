#include "proto/message.h"

#include <cstdint>
#include <limits>
#include <utility>

namespace workerd::proto {
namespace {

// Strings are dumped as UTF-8 (no \u escapes beyond what JSON requires), and
// bytes that are not valid UTF-8 become U+FFFD instead of an exception: a
// worker's message or an exec error may carry any bytes.
std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Whether brackets nest deeper than `limit`, found by a scan that skips
// strings. Cheap, and it runs before nlohmann builds (and later recursively
// copies or destroys) anything.
bool NestedDeeperThan(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// nlohmann's parse_error text is "[json.exception.parse_error.101] parse
// error at line 1, column 5: syntax error ..."; a JSON line has one line, so
// keep the column and the explanation.
std::string DescribeParseError(const Json::parse_error& e) {
  std::string text = e.what();
  if (const auto bracket = text.find("] "); bracket != std::string::npos) {
    text.erase(0, bracket + 2);
  }
  constexpr std::string_view kLinePrefix = "parse error at line 1, ";
  if (text.starts_with(kLinePrefix)) {
    text.erase(0, kLinePrefix.size());
    // "column 5: syntax error ..." -> "syntax error ... (column 5)"
    if (const auto colon = text.find(": "); colon != std::string::npos) {
      text = text.substr(colon + 2) + " (" + text.substr(0, colon) + ")";
    }
  }
  return text;
}

// Parses `line` as JSON, or explains why not, naming what the line was
// supposed to be ("request", "response").
std::variant<Json, std::string> ParseLine(std::string_view line,
                                          std::string_view what) {
  if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::string(what) + " is empty";
  }
  if (NestedDeeperThan(line, kMaxJsonDepth)) {
    return std::string(what) + " nests deeper than " +
           std::to_string(kMaxJsonDepth) + " levels";
  }
  try {
    return Json::parse(line);
  } catch (const Json::parse_error& e) {
    return std::string(what) + " is not valid JSON: " + DescribeParseError(e);
  }
}

std::string WithArticle(const Json& value) {
  const std::string name = value.type_name();
  if (name == "null") return name;
  if (name == "array" || name == "object") return "an " + name;
  return "a " + name;
}

bool IsValidId(const Json& id) {
  return id.is_null() || id.is_number_integer() || id.is_string();
}

// The value of `key` in `object`, or nullptr when absent. A null value
// counts as absent: PROTOCOL.md makes every optional field nullable.
const Json* Find(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Error BadRequest(std::string message) {
  return Error{error_code::kBadRequest, std::move(message)};
}

}  // namespace

Response Response::Success(Json id, Json result) {
  Response response;
  response.id = std::move(id);
  response.result = std::move(result);
  return response;
}

Response Response::Failure(Json id, Error error, Json result) {
  Response response;
  response.id = std::move(id);
  response.ok = false;
  response.result = std::move(result);
  response.error = std::move(error);
  return response;
}

Response Response::Interim(Json id, Json result) {
  Response response = Success(std::move(id), std::move(result));
  response.more = true;
  return response;
}

std::variant<Request, Error> DecodeRequest(std::string_view line) {
  auto parsed = ParseLine(line, "request");
  if (auto* why = std::get_if<std::string>(&parsed)) {
    return BadRequest(std::move(*why));
  }
  Json& json = std::get<Json>(parsed);
  if (!json.is_object()) {
    return BadRequest("request must be a JSON object, not " +
                      WithArticle(json));
  }

  Request request;
  if (const Json* id = Find(json, "id")) {
    if (!IsValidId(*id)) {
      return BadRequest("\"id\" must be an integer or a string");
    }
    request.id = std::move(json["id"]);
  }

  const auto command = json.find("command");
  if (command == json.end() || command->is_null()) {
    return BadRequest("request has no \"command\"");
  }
  if (!command->is_string()) {
    return BadRequest("\"command\" must be a string");
  }
  request.command = command->get<std::string>();

  if (const Json* args = Find(json, "args")) {
    if (!args->is_object()) return BadRequest("\"args\" must be an object");
    request.args = std::move(json["args"]);
  }

  if (const Json* protocol = Find(json, "protocol")) {
    if (!protocol->is_number_integer()) {
      return BadRequest("\"protocol\" must be an integer");
    }
    const std::string shown = Dump(*protocol);
    const bool fits =
        protocol->is_number_unsigned()
            ? protocol->get<std::uint64_t>() <=
                  static_cast<std::uint64_t>(std::numeric_limits<int>::max())
            : protocol->get<std::int64_t>() >=
                      std::numeric_limits<int>::min() &&
                  protocol->get<std::int64_t>() <=
                      std::numeric_limits<int>::max();
    if (!fits || protocol->get<std::int64_t>() != kProtocolVersion) {
      return Error{error_code::kUnsupportedProtocol,
                   "protocol version " + shown +
                       " is not supported (workerd speaks version " +
                       std::to_string(kProtocolVersion) + ")"};
    }
    request.protocol = kProtocolVersion;
  }
  return request;
}

Json RequestIdOf(std::string_view line) {
  auto parsed = ParseLine(line, "request");
  const Json* json = std::get_if<Json>(&parsed);
  if (json == nullptr || !json->is_object()) return nullptr;
  const auto id = json->find("id");
  if (id == json->end() || !IsValidId(*id)) return nullptr;
  return *id;
}

std::string EncodeRequest(const Request& request) {
  std::string line = "{\"id\":";
  line += Dump(request.id);
  line += ",\"command\":";
  line += Dump(Json(request.command));
  if (!(request.args.is_object() && request.args.empty()) &&
      !request.args.is_null()) {
    line += ",\"args\":";
    line += Dump(request.args);
  }
  if (request.protocol) {
    line += ",\"protocol\":";
    line += std::to_string(*request.protocol);
  }
  line += "}\n";
  return line;
}

std::string EncodeResponse(const Response& response) {
  // Built by hand rather than as a Json object so that the fields keep the
  // documented order (nlohmann sorts keys) and the result is not copied.
  std::string line = "{\"id\":";
  line += Dump(response.id);
  line += response.ok ? ",\"ok\":true" : ",\"ok\":false";
  if (!response.result.is_null()) {
    line += ",\"result\":";
    line += Dump(response.result);
  }
  if (response.error) {
    line += ",\"error\":{\"code\":";
    line += Dump(Json(response.error->code));
    line += ",\"message\":";
    line += Dump(Json(response.error->message));
    line += "}";
  }
  if (response.more) line += ",\"more\":true";
  line += "}\n";
  return line;
}

std::variant<Response, std::string> DecodeResponse(std::string_view line) {
  auto parsed = ParseLine(line, "response");
  if (auto* why = std::get_if<std::string>(&parsed)) return std::move(*why);
  Json& json = std::get<Json>(parsed);
  if (!json.is_object()) {
    return "response must be a JSON object, not " + WithArticle(json);
  }

  Response response;
  if (const Json* id = Find(json, "id")) {
    if (!IsValidId(*id)) {
      return std::string("response \"id\" must be an integer or a string");
    }
    response.id = std::move(json["id"]);
  }

  const auto ok = json.find("ok");
  if (ok == json.end() || !ok->is_boolean()) {
    return std::string("response has no boolean \"ok\"");
  }
  response.ok = ok->get<bool>();

  if (const Json* more = Find(json, "more")) {
    if (!more->is_boolean()) {
      return std::string("response \"more\" must be a boolean");
    }
    response.more = more->get<bool>();
  }

  if (!response.ok) {
    const Json* error = Find(json, "error");
    const Json* code =
        error && error->is_object() ? Find(*error, "code") : nullptr;
    const Json* message =
        error && error->is_object() ? Find(*error, "message") : nullptr;
    if (code == nullptr || !code->is_string() || message == nullptr ||
        !message->is_string()) {
      return std::string(
          "error response has no \"error\" object with a string \"code\" and "
          "\"message\"");
    }
    response.error =
        Error{code->get<std::string>(), message->get<std::string>()};
  }

  if (const auto result = json.find("result"); result != json.end()) {
    response.result = std::move(*result);
  }
  return response;
}

}  // namespace workerd::proto
