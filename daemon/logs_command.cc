// `logs` and `reopen_logs` (PROTOCOL.md, "logs").
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "daemon/control_arguments.h"
#include "daemon/control_commands.h"
#include "daemon/log_router.h"
#include "daemon/log_stream.h"
#include "daemon/suggest.h"

namespace workerd {

using proto::Json;
namespace error_code = proto::error_code;

namespace {

proto::Error Invalid(std::string message) {
  return {error_code::kInvalidArgument, std::move(message)};
}

// `lines`: a count of at least 0, or null/absent for everything kept.
std::variant<std::optional<std::size_t>, proto::Error> LinesArgument(
    const Json& args) {
  if (!args.contains("lines") || args["lines"].is_null()) {
    return std::optional<std::size_t>();
  }
  const Json& lines = args["lines"];
  if (!lines.is_number_integer() || lines.get<std::int64_t>() < 0) {
    return Invalid("\"lines\" must be an integer of at least 0, or null for "
                   "every line kept");
  }
  return std::optional<std::size_t>(lines.get<std::uint64_t>());
}

// `stream`: "stdout", "stderr", or null/absent for both.
std::variant<std::optional<OutputStream>, proto::Error> StreamArgument(
    const Json& args) {
  if (!args.contains("stream") || args["stream"].is_null()) {
    return std::optional<OutputStream>();
  }
  const Json& stream = args["stream"];
  if (stream == "stdout") return std::optional(OutputStream::kStdout);
  if (stream == "stderr") return std::optional(OutputStream::kStderr);
  return Invalid("\"stream\" must be \"stdout\", \"stderr\" or null");
}

// Where the output of a program whose ring cannot help can be found.
std::string ElsewhereSentence(const ProgramLog& log) {
  switch (log.mode()) {
    case LogMode::kFile:
      return "its output is in " + log.file_writer()->name();
    case LogMode::kInherit:
      return "its output goes to workerd's own stdout and stderr";
    case LogMode::kJournal:
    case LogMode::kNull:
      break;
  }
  return {};
}

}  // namespace

void ControlCommands::Logs(const proto::Request& request, Reply& reply) {
  auto fail = [&](proto::Error error) {
    reply(proto::Response::Failure(request.id, std::move(error)));
  };
  const Json& args = request.args;
  if (!args.contains("targets") || !args["targets"].is_array() ||
      args["targets"].size() != 1) {
    return fail(Invalid(
        "logs takes exactly one target in \"targets\", like [\"web\"] or "
        "[\"web:2\"]"));
  }
  auto resolved = ResolveTargets(supervisor_, args);
  if (auto* error = std::get_if<proto::Error>(&resolved)) return fail(*error);
  const ResolvedTarget target =
      std::get<std::vector<ResolvedTarget>>(resolved).front();
  auto lines = LinesArgument(args);
  if (auto* error = std::get_if<proto::Error>(&lines)) return fail(*error);
  auto stream = StreamArgument(args);
  if (auto* error = std::get_if<proto::Error>(&stream)) return fail(*error);
  auto follow = BoolArgument(args, "follow", false);
  if (auto* error = std::get_if<proto::Error>(&follow)) return fail(*error);

  const std::string& name = target.program->name();
  ProgramLog* log =
      supervisor_.logs() ? supervisor_.logs()->Find(name) : nullptr;
  if (log == nullptr) {
    return fail({error_code::kFailed,
                 fmt::format("this workerd does not capture the output of "
                             "{}; it goes to workerd's own stdout and stderr",
                             name)});
  }
  switch (log->mode()) {
    case LogMode::kJournal: {
      // workerd never sees this output: say where it is.
      Json result = {{"log", "journal"}, {"identifier", name}};
      if (target.instance) {
        const Worker* worker = target.program->FindWorker(*target.instance);
        if (worker != nullptr && worker->pid() != 0) {
          result["pid"] = worker->pid();
        }
      }
      reply(proto::Response::Success(request.id, std::move(result)));
      return;
    }
    case LogMode::kNull:
      return fail({error_code::kFailed,
                   fmt::format("{} has log = \"null\": its output is "
                               "discarded, so there is nothing to show",
                               name)});
    case LogMode::kFile:
    case LogMode::kInherit:
      break;
  }
  if (log->ring().capacity() == 0) {
    return fail({error_code::kFailed,
                 fmt::format("{} keeps no output in memory (log_buffer = 0); "
                             "{}",
                             name, ElsewhereSentence(*log))});
  }
  LogFilter filter{target.instance, std::get<std::optional<OutputStream>>(stream)};
  auto log_stream = std::make_shared<LogStream>(
      *log, request.id, reply, filter,
      std::get<std::optional<std::size_t>>(lines), std::get<bool>(follow));
  log_stream->Start();
}

void ControlCommands::ReopenLogs(const proto::Request& request, Reply& reply) {
  LogRouter* logs = supervisor_.logs();
  if (logs == nullptr) {
    reply(proto::Response::Success(request.id, {{"reopened", Json::array()}}));
    return;
  }
  logs->ReopenFiles([id = request.id, reply](
                        std::vector<LogRouter::Reopened> files) {
    Json reopened = Json::array();
    std::vector<std::string> errors;
    for (const LogRouter::Reopened& file : files) {
      if (file.error.empty()) {
        reopened.push_back(file.path);
      } else {
        errors.push_back(file.error);
      }
    }
    Json result = {{"reopened", std::move(reopened)}};
    if (errors.empty()) {
      reply(proto::Response::Success(id, std::move(result)));
      return;
    }
    std::string message = errors.front();
    if (errors.size() > 1) {
      message += fmt::format(" (and {} more)", errors.size() - 1);
    }
    reply(proto::Response::Failure(id, {error_code::kFailed, message},
                                   std::move(result)));
  });
}

}  // namespace workerd
