#include "ctl/run.h"

#include <optional>
#include <ostream>
#include <utility>

#include "ctl/render.h"
#include "proto/client.h"
#include "proto/exit_codes.h"

namespace workerd::ctl {
namespace {

using proto::Json;

// Error codes workerctl reports on its own, beside the daemon's.
constexpr const char* kNotRunningCode = "not_running";
constexpr const char* kConnectFailedCode = "connect_failed";
constexpr const char* kProtocolErrorCode = "protocol_error";

std::string Dump(const Json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace);
}

// Prints an error: a line on `err`, or a JSON object on `out` with --json.
// `extra` adds fields to the JSON (the version command's own version).
void ReportError(const Invocation& invocation, std::ostream& out,
                 std::ostream& err, const std::string& code,
                 const std::string& message, Json result = nullptr,
                 Json extra = Json::object()) {
  if (!invocation.json) {
    err << "workerctl: " << message << '\n';
    return;
  }
  Json json = std::move(extra);
  json["error"] = {{"code", code}, {"message", message}};
  if (!result.is_null()) json["result"] = std::move(result);
  out << Dump(json) << '\n';
}

std::string Render(const std::string& command, const Json& result) {
  if (command == "status") return RenderStatus(result);
  if (command == "scale") return RenderScale(result);
  if (command == "shutdown") return RenderShutdown(result);
  if (command == "version") return RenderVersion(result);
  if (command == "restart") return RenderRestart(result);
  return RenderWorkers(result);  // start, stop, restart
}

}  // namespace

int Run(const Invocation& invocation, const std::string& socket_path,
        std::ostream& out, std::ostream& err) {
  auto built = BuildRequest(invocation);
  if (auto* usage = std::get_if<std::string>(&built)) {
    // Usage errors are about the command line, never JSON.
    err << "workerctl: " << *usage << '\n';
    return proto::kCtlUsage;
  }
  const proto::Request& request = std::get<proto::Request>(built);
  const bool is_version = invocation.command == "version";

  // When the daemon cannot answer, `version` still prints its own half: as
  // text before the error, or as fields beside it in JSON.
  auto own_version = [&]() -> Json {
    if (!is_version) return Json::object();
    if (invocation.json) return VersionJson(std::nullopt);
    out << RenderVersion(std::nullopt);
    return Json::object();
  };

  auto connected = proto::Client::Connect(socket_path);
  if (auto* failure = std::get_if<proto::ConnectError>(&connected)) {
    using Kind = proto::ConnectError::Kind;
    Json extra = own_version();
    switch (failure->kind) {
      case Kind::kPermissionDenied:
        ReportError(invocation, out, err, proto::error_code::kPermissionDenied,
                    failure->message, nullptr, std::move(extra));
        return proto::kCtlPermissionDenied;
      case Kind::kNotRunning:
        ReportError(invocation, out, err, kNotRunningCode, failure->message,
                    nullptr, std::move(extra));
        return proto::kCtlNotRunning;
      case Kind::kOther:
        // Still "cannot reach workerd" from the caller's point of view.
        ReportError(invocation, out, err, kConnectFailedCode, failure->message,
                    nullptr, std::move(extra));
        return proto::kCtlNotRunning;
    }
  }
  proto::Client& client = std::get<proto::Client>(connected);

  // A rolling restart reports each step as it happens.
  auto show_progress = [&](const proto::Response& interim) {
    if (!invocation.json) out << RenderProgress(interim.result) << std::flush;
  };
  auto answer = client.Call(request, show_progress);
  if (auto* why = std::get_if<std::string>(&answer)) {
    ReportError(invocation, out, err, kProtocolErrorCode, *why, nullptr,
                own_version());
    return proto::kCtlProtocolError;
  }
  proto::Response& response = std::get<proto::Response>(answer);

  if (response.ok) {
    if (invocation.json) {
      out << Dump(is_version ? VersionJson(response.result) : response.result)
          << '\n';
    } else {
      out << Render(invocation.command, response.result);
    }
    return proto::kCtlOk;
  }

  // DecodeResponse guarantees an error on a response that is not ok.
  const proto::Error error = response.error.value_or(
      proto::Error{proto::error_code::kFailed, "workerd gave no reason"});
  if (error.code == proto::error_code::kPermissionDenied) {
    std::string message = error.message;
    if (message.find("control_group") == std::string::npos) {
      message +=
          " (only root, workerd's own user and members of its control_group "
          "may use workerctl)";
    }
    ReportError(invocation, out, err, error.code, message, nullptr,
                own_version());
    return proto::kCtlPermissionDenied;
  }
  // A failed command still says where each worker ended up.
  Json extra = Json::object();
  if (is_version) {
    extra = own_version();
  } else if (!response.result.is_null() && !invocation.json) {
    out << Render(invocation.command, response.result);
  }
  ReportError(invocation, out, err, error.code, error.message,
              std::move(response.result), std::move(extra));
  return proto::kCtlFailed;
}

}  // namespace workerd::ctl
