#include "ctl/run.h"

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

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

constexpr const char* kJournalHasNoStreams =
    "the journal does not record which stream a line came from; drop "
    "--stdout/--stderr";

// `logs TARGET`, as opposed to `logs --reopen`: its lines are printed as
// they come, for as long as they come.
bool StreamsLines(const Invocation& invocation) {
  return invocation.command == "logs" && !invocation.reopen;
}

// Indented for a person, except where the output is JSON lines (`logs`):
// there every object, errors included, stays on one line.
std::string Dump(const Invocation& invocation, const Json& json) {
  const int indent = StreamsLines(invocation) ? -1 : 2;
  return json.dump(indent, ' ', false, Json::error_handler_t::replace);
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
  out << Dump(invocation, json) << '\n';
}

// `command` is the request's: `logs --reopen` is reopen_logs.
std::string Render(const std::string& command, const Json& result, bool ok) {
  if (command == "status") return RenderStatus(result);
  if (command == "logs") return RenderLogLines(result);
  if (command == "reopen_logs") return RenderReopened(result, ok);
  if (command == "scale") return RenderScale(result);
  if (command == "shutdown") return RenderShutdown(result);
  if (command == "version") return RenderVersion(result);
  if (command == "restart") return RenderRestart(result);
  if (command == "reload") return RenderReload(result);
  return RenderWorkers(result);  // start, stop, restart
}

// A batch of `logs` lines, shown at once: with -f the next may be long in
// coming.
void PrintLogLines(const Invocation& invocation, const Json& result,
                   std::ostream& out) {
  out << (invocation.json ? LogLinesJson(result) : RenderLogLines(result))
      << std::flush;
}

// What workerd did but thinks the user should know (`stop` of a program
// that others depend on), on stderr after the answer. JSON output keeps
// them in the result.
void PrintWarnings(const Json& result, std::ostream& err) {
  if (!result.is_object() || !result.contains("warnings") ||
      !result["warnings"].is_array()) {
    return;
  }
  for (const Json& warning : result["warnings"]) {
    if (warning.is_string()) {
      err << "workerctl: warning: " << warning.get<std::string>() << '\n';
    }
  }
}

// A reload refused because workers.toml does not load: every error as the
// daemon wrote it ("workers.toml:3:11: ..."), so that an editor can jump to
// it, then what that means for the running daemon.
void PrintConfigErrors(const proto::Error& error, const Json& result,
                       std::ostream& err) {
  bool any = false;
  if (result.is_object() && result.contains("errors") &&
      result["errors"].is_array()) {
    for (const Json& line : result["errors"]) {
      if (!line.is_string()) continue;
      err << line.get<std::string>() << '\n';
      any = true;
    }
  }
  if (!any) err << error.message << '\n';
  err << "workerctl: workers.toml was not reloaded; workerd keeps running its "
         "current configuration\n";
}

bool IsJournalAnswer(const Json& result) {
  return result.is_object() && result.contains("log") &&
         result["log"] == "journal";
}

// The program logs to the journal, so workerd has none of its output:
// journalctl shows it instead, in workerctl's place.
int ReadJournal(const Invocation& invocation, const proto::Request& request,
                const Json& result, std::ostream& out, std::ostream& err,
                const Exec& exec) {
  if (request.args.contains("stream")) {
    ReportError(invocation, out, err, proto::error_code::kFailed,
                kJournalHasNoStreams, result);
    return proto::kCtlFailed;
  }
  if (invocation.json) {
    out << Dump(invocation, result) << '\n';
    return proto::kCtlOk;
  }
  const std::vector<std::string> argv = JournalctlCommand(result, request.args);
  out.flush();
  exec(argv);
  // Still here: journalctl is not installed (or not runnable). Say what
  // would have shown the output.
  const std::string& identifier = argv[2];  // journalctl -t IDENTIFIER
  err << "workerctl: " << identifier
      << " logs to the journal; read it with: " << ShellCommand(argv) << '\n';
  return proto::kCtlFailed;
}

}  // namespace

void ExecInPlace(const std::vector<std::string>& argv) {
  std::vector<char*> pointers;
  for (const std::string& arg : argv) {
    pointers.push_back(const_cast<char*>(arg.c_str()));
  }
  pointers.push_back(nullptr);
  std::fflush(nullptr);
  ::execvp(pointers[0], pointers.data());
}

int Run(const Invocation& invocation, const std::string& socket_path,
        std::ostream& out, std::ostream& err, const Exec& exec) {
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

  auto on_interim = [&](const proto::Response& interim) {
    if (StreamsLines(invocation)) {
      PrintLogLines(invocation, interim.result, out);
    } else if (!invocation.json) {
      // A rolling restart reports each step as it happens.
      out << RenderProgress(interim.result) << std::flush;
    }
  };
  auto answer = client.Call(request, on_interim);
  if (auto* why = std::get_if<std::string>(&answer)) {
    std::string message = std::move(*why);
    // `logs` may have been answering for a long while (-f): the usual
    // "before it answered" would not ring true.
    if (StreamsLines(invocation) && client.PeerClosed()) {
      message = "workerd closed the connection; it may have stopped";
    }
    ReportError(invocation, out, err, kProtocolErrorCode, message, nullptr,
                own_version());
    return proto::kCtlProtocolError;
  }
  proto::Response& response = std::get<proto::Response>(answer);

  if (response.ok) {
    if (StreamsLines(invocation) && IsJournalAnswer(response.result)) {
      return ReadJournal(invocation, request, response.result, out, err, exec);
    }
    if (StreamsLines(invocation)) {
      PrintLogLines(invocation, response.result, out);
    } else if (invocation.json) {
      out << Dump(invocation,
                  is_version ? VersionJson(response.result) : response.result)
          << '\n';
    } else {
      out << Render(request.command, response.result, true);
      PrintWarnings(response.result, err);
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
  if (error.code == proto::error_code::kConfigInvalid &&
      request.command == "reload" && !invocation.json) {
    PrintConfigErrors(error, response.result, err);
    return proto::kCtlFailed;
  }
  // A failed command still says where each worker ended up.
  Json extra = Json::object();
  if (is_version) {
    extra = own_version();
  } else if (!response.result.is_null() && !invocation.json) {
    out << Render(request.command, response.result, false);
    PrintWarnings(response.result, err);
  }
  ReportError(invocation, out, err, error.code, error.message,
              std::move(response.result), std::move(extra));
  return proto::kCtlFailed;
}

}  // namespace workerd::ctl
