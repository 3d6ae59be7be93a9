#include "proto/message.h"

#include <gtest/gtest.h>

#include <string>

namespace workerd::proto {

// So that a failed comparison shows the code and the message.
void PrintTo(const Error& error, std::ostream* os) {
  *os << "Error{\"" << error.code << "\", \"" << error.message << "\"}";
}

namespace {

Request DecodeOk(std::string_view line) {
  auto decoded = DecodeRequest(line);
  if (auto* error = std::get_if<Error>(&decoded)) {
    ADD_FAILURE() << "unexpected error for " << line << ": " << error->code
                  << ": " << error->message;
    return {};
  }
  return std::get<Request>(decoded);
}

Error DecodeError(std::string_view line) {
  auto decoded = DecodeRequest(line);
  if (!std::holds_alternative<Error>(decoded)) {
    ADD_FAILURE() << "expected an error for " << line;
    return {};
  }
  return std::get<Error>(decoded);
}

std::string ResponseError(std::string_view line) {
  auto decoded = DecodeResponse(line);
  if (!std::holds_alternative<std::string>(decoded)) {
    ADD_FAILURE() << "expected an error for " << line;
    return "";
  }
  return std::get<std::string>(decoded);
}

TEST(DecodeRequestTest, ReadsEveryField) {
  const Request request =
      DecodeOk(R"({"id": 7, "command": "stop", "args": {"targets": ["web:2"]},)"
               R"( "protocol": 1})");
  EXPECT_EQ(request.id, Json(7));
  EXPECT_EQ(request.command, "stop");
  EXPECT_EQ(request.args, Json::parse(R"({"targets": ["web:2"]})"));
  EXPECT_EQ(request.protocol, 1);
}

TEST(DecodeRequestTest, OptionalFieldsDefault) {
  const Request request = DecodeOk(R"({"command":"status"})");
  EXPECT_TRUE(request.id.is_null());
  EXPECT_EQ(request.args, Json::object());
  EXPECT_EQ(request.protocol, std::nullopt);

  const Request nulls =
      DecodeOk(R"({"id":null,"command":"status","args":null,"protocol":null})");
  EXPECT_TRUE(nulls.id.is_null());
  EXPECT_EQ(nulls.args, Json::object());
  EXPECT_EQ(nulls.protocol, std::nullopt);
}

TEST(DecodeRequestTest, AcceptsStringIdsAndIgnoresUnknownFields) {
  const Request request =
      DecodeOk(R"({"id":"abc","command":"version","future":[1,2]})");
  EXPECT_EQ(request.id, Json("abc"));
  EXPECT_EQ(request.command, "version");
}

TEST(DecodeRequestTest, ExplainsInvalidJson) {
  EXPECT_EQ(DecodeError("{\"id\":1,"),
            (Error{"bad_request",
                   "request is not valid JSON: syntax error while parsing "
                   "object key - unexpected end of input; expected string "
                   "literal (column 9)"}));
  EXPECT_EQ(DecodeError("hello"),
            (Error{"bad_request",
                   "request is not valid JSON: syntax error while parsing "
                   "value - invalid literal; last read: 'h' (column 1)"}));
}

TEST(DecodeRequestTest, RejectsEmptyLines) {
  EXPECT_EQ(DecodeError(""), (Error{"bad_request", "request is empty"}));
  EXPECT_EQ(DecodeError("  \t"), (Error{"bad_request", "request is empty"}));
}

TEST(DecodeRequestTest, RejectsInvalidUtf8) {
  const Error error = DecodeError("{\"command\":\"st\xff\"}");
  EXPECT_EQ(error.code, "bad_request");
  EXPECT_TRUE(error.message.starts_with("request is not valid JSON: "))
      << error.message;
}

TEST(DecodeRequestTest, RequiresAnObject) {
  EXPECT_EQ(
      DecodeError("[1,2]"),
      (Error{"bad_request", "request must be a JSON object, not an array"}));
  EXPECT_EQ(
      DecodeError("\"status\""),
      (Error{"bad_request", "request must be a JSON object, not a string"}));
  EXPECT_EQ(DecodeError("null"),
            (Error{"bad_request", "request must be a JSON object, not null"}));
}

TEST(DecodeRequestTest, ChecksFieldTypes) {
  EXPECT_EQ(DecodeError(R"({"id":1})"),
            (Error{"bad_request", "request has no \"command\""}));
  EXPECT_EQ(DecodeError(R"({"command":5})"),
            (Error{"bad_request", "\"command\" must be a string"}));
  EXPECT_EQ(DecodeError(R"({"id":1.5,"command":"status"})"),
            (Error{"bad_request", "\"id\" must be an integer or a string"}));
  EXPECT_EQ(DecodeError(R"({"id":[1],"command":"status"})"),
            (Error{"bad_request", "\"id\" must be an integer or a string"}));
  EXPECT_EQ(DecodeError(R"({"command":"status","args":[]})"),
            (Error{"bad_request", "\"args\" must be an object"}));
  EXPECT_EQ(DecodeError(R"({"command":"status","protocol":"1"})"),
            (Error{"bad_request", "\"protocol\" must be an integer"}));
}

TEST(DecodeRequestTest, RefusesOtherProtocolVersions) {
  EXPECT_EQ(DecodeError(R"({"command":"status","protocol":2})"),
            (Error{"unsupported_protocol",
                   "protocol version 2 is not supported (workerd speaks "
                   "version 1)"}));
  EXPECT_EQ(DecodeError(R"({"command":"status","protocol":0})").code,
            "unsupported_protocol");
  EXPECT_EQ(
      DecodeError(R"({"command":"status","protocol":18446744073709551615})"),
      (Error{"unsupported_protocol",
             "protocol version 18446744073709551615 is not supported (workerd "
             "speaks version 1)"}));
  // Beyond 64 bits JSON numbers are floating point.
  EXPECT_EQ(
      DecodeError(R"({"command":"status","protocol":99999999999999999999})"),
      (Error{"bad_request", "\"protocol\" must be an integer"}));
  EXPECT_EQ(DecodeError(R"({"command":"status","protocol":4294967297})").code,
            "unsupported_protocol");
}

TEST(DecodeRequestTest, RefusesDeepNestingBeforeParsing) {
  std::string deep = R"({"command":"status","args":{"x":)";
  deep += std::string(100000, '[') + std::string(100000, ']') + "}}";
  EXPECT_EQ(DecodeError(deep),
            (Error{"bad_request", "request nests deeper than 64 levels"}));
  // Brackets inside strings do not count.
  const Request request = DecodeOk(R"({"command":"status","args":{"x":")" +
                                   std::string(100, '[') + R"(\"["}})");
  EXPECT_EQ(request.args["x"], std::string(100, '[') + "\"[");
}

TEST(RequestIdOfTest, FindsTheIdOfARefusedRequest) {
  EXPECT_EQ(RequestIdOf(R"({"id":9,"command":5})"), Json(9));
  EXPECT_EQ(RequestIdOf(R"({"id":"x","protocol":3})"), Json("x"));
  EXPECT_TRUE(RequestIdOf(R"({"id":1.5})").is_null());
  EXPECT_TRUE(RequestIdOf("{\"id\":9,").is_null());
  EXPECT_TRUE(RequestIdOf("[1]").is_null());
}

TEST(EncodeRequestTest, WritesOneLineInFieldOrder) {
  Request request{Json(3), "stop", {{"targets", {"web:2"}}}, 1};
  EXPECT_EQ(EncodeRequest(request),
            "{\"id\":3,\"command\":\"stop\",\"args\":{\"targets\":[\"web:2\"]},"
            "\"protocol\":1}\n");
  EXPECT_EQ(
      EncodeRequest(Request{Json("a"), "status", Json::object(), std::nullopt}),
      "{\"id\":\"a\",\"command\":\"status\"}\n");
}

TEST(EncodeRequestTest, RoundTripsThroughDecode) {
  Request request{Json(42), "scale", {{"workers", {{"web", 8}}}}, 1};
  std::string line = EncodeRequest(request);
  line.pop_back();
  const Request decoded = DecodeOk(line);
  EXPECT_EQ(decoded.id, request.id);
  EXPECT_EQ(decoded.command, request.command);
  EXPECT_EQ(decoded.args, request.args);
  EXPECT_EQ(decoded.protocol, request.protocol);
}

TEST(EncodeResponseTest, SuccessHasIdOkAndResult) {
  EXPECT_EQ(EncodeResponse(Response::Success(
                Json(7), {{"version", "0.1.0"}, {"protocol", 1}})),
            "{\"id\":7,\"ok\":true,\"result\":{\"protocol\":1,\"version\":"
            "\"0.1.0\"}}\n");
  EXPECT_EQ(EncodeResponse(Response::Success(nullptr, nullptr)),
            "{\"id\":null,\"ok\":true}\n");
}

TEST(EncodeResponseTest, FailureHasErrorAndOptionalResult) {
  EXPECT_EQ(
      EncodeResponse(Response::Failure(
          Json(7), Error{error_code::kUnknownTarget,
                         "no program named \"wbe\" (did you mean \"web\"?)"})),
      "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"unknown_target\","
      "\"message\":\"no program named \\\"wbe\\\" (did you mean "
      "\\\"web\\\"?)\"}}\n");
  EXPECT_EQ(EncodeResponse(Response::Failure(
                Json("x"), Error{error_code::kFailed, "web:0 did not start"},
                {{"workers", Json::array()}})),
            "{\"id\":\"x\",\"ok\":false,\"result\":{\"workers\":[]},\"error\":"
            "{\"code\":\"failed\",\"message\":\"web:0 did not start\"}}\n");
}

TEST(EncodeResponseTest, InterimCarriesMore) {
  EXPECT_EQ(EncodeResponse(Response::Interim(Json(1), {{"done", 1}})),
            "{\"id\":1,\"ok\":true,\"result\":{\"done\":1},\"more\":true}\n");
}

TEST(EncodeResponseTest, ReplacesInvalidUtf8InsteadOfThrowing) {
  const Response response = Response::Failure(
      Json(1), Error{"failed", "exec \"caf\xe9\": No such file or directory"},
      {{"message", "bad \xff byte"}});
  std::string line;
  ASSERT_NO_THROW(line = EncodeResponse(response));
  EXPECT_EQ(line,
            "{\"id\":1,\"ok\":false,\"result\":{\"message\":\"bad \xEF\xBF\xBD "
            "byte\"},\"error\":{\"code\":\"failed\",\"message\":\"exec "
            "\\\"caf\xEF\xBF\xBD\\\": No such file or directory\"}}\n");
  // What was written is valid JSON again.
  line.pop_back();
  EXPECT_TRUE(std::holds_alternative<Response>(DecodeResponse(line)));
}

TEST(EncodeResponseTest, EscapesControlCharactersOntoOneLine) {
  const std::string line =
      EncodeResponse(Response::Success(Json(1), {{"message", "a\nb\r\tc"}}));
  EXPECT_EQ(
      line,
      "{\"id\":1,\"ok\":true,\"result\":{\"message\":\"a\\nb\\r\\tc\"}}\n");
}

TEST(DecodeResponseTest, ReadsSuccessFailureAndInterim) {
  auto success = DecodeResponse(R"({"id":7,"ok":true,"result":{"a":1}})");
  ASSERT_TRUE(std::holds_alternative<Response>(success));
  const Response& ok = std::get<Response>(success);
  EXPECT_EQ(ok.id, Json(7));
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.result, Json::parse(R"({"a":1})"));
  EXPECT_FALSE(ok.error.has_value());
  EXPECT_FALSE(ok.more);

  auto failure = DecodeResponse(
      R"({"id":"x","ok":false,"error":{"code":"failed","message":"m"},)"
      R"("result":[1]})");
  ASSERT_TRUE(std::holds_alternative<Response>(failure));
  const Response& bad = std::get<Response>(failure);
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error, (Error{"failed", "m"}));
  EXPECT_EQ(bad.result, Json::parse("[1]"));

  auto interim = DecodeResponse(R"({"id":1,"ok":true,"more":true})");
  ASSERT_TRUE(std::holds_alternative<Response>(interim));
  EXPECT_TRUE(std::get<Response>(interim).more);
  EXPECT_TRUE(std::get<Response>(interim).result.is_null());
}

TEST(DecodeResponseTest, RoundTripsEncodedResponses) {
  const Response original = Response::Failure(
      Json(5), Error{"failed", "did not start"}, {{"workers", {1, 2}}});
  std::string line = EncodeResponse(original);
  line.pop_back();
  auto decoded = DecodeResponse(line);
  ASSERT_TRUE(std::holds_alternative<Response>(decoded));
  const Response& copy = std::get<Response>(decoded);
  EXPECT_EQ(copy.id, original.id);
  EXPECT_EQ(copy.ok, original.ok);
  EXPECT_EQ(copy.result, original.result);
  EXPECT_EQ(copy.error, original.error);
  EXPECT_EQ(copy.more, original.more);
}

TEST(DecodeResponseTest, ExplainsWhatIsWrong) {
  EXPECT_EQ(ResponseError("{\"id\":1,\"ok\":tr"),
            "response is not valid JSON: syntax error while parsing value - "
            "invalid literal; last read: '\"ok\":tr' (column 16)");
  EXPECT_EQ(ResponseError("[]"),
            "response must be a JSON object, not an array");
  EXPECT_EQ(ResponseError(R"({"id":1,"result":{}})"),
            "response has no boolean \"ok\"");
  EXPECT_EQ(ResponseError(R"({"id":1,"ok":"yes"})"),
            "response has no boolean \"ok\"");
  EXPECT_EQ(ResponseError(R"({"id":{},"ok":true})"),
            "response \"id\" must be an integer or a string");
  EXPECT_EQ(ResponseError(R"({"id":1,"ok":true,"more":1})"),
            "response \"more\" must be a boolean");
  EXPECT_EQ(ResponseError(R"({"id":1,"ok":false})"),
            "error response has no \"error\" object with a string \"code\" "
            "and \"message\"");
  EXPECT_EQ(ResponseError(R"({"id":1,"ok":false,"error":{"code":"x"}})"),
            "error response has no \"error\" object with a string \"code\" "
            "and \"message\"");
}

TEST(ErrorCodeTest, MatchesTheProtocolDocument) {
  EXPECT_STREQ(error_code::kBadRequest, "bad_request");
  EXPECT_STREQ(error_code::kLineTooLong, "line_too_long");
  EXPECT_STREQ(error_code::kUnsupportedProtocol, "unsupported_protocol");
  EXPECT_STREQ(error_code::kUnknownCommand, "unknown_command");
  EXPECT_STREQ(error_code::kInvalidArgument, "invalid_argument");
  EXPECT_STREQ(error_code::kUnknownTarget, "unknown_target");
  EXPECT_STREQ(error_code::kFailed, "failed");
  EXPECT_STREQ(error_code::kShuttingDown, "shutting_down");
  EXPECT_STREQ(error_code::kTooManyClients, "too_many_clients");
  EXPECT_STREQ(error_code::kPermissionDenied, "permission_denied");
}

}  // namespace
}  // namespace workerd::proto
