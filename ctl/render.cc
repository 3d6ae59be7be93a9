#include "ctl/render.h"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/target.h"
#include "proto/version.h"

namespace workerd::ctl {
namespace {

using proto::Json;

constexpr std::string_view kGap = "  ";

// Lenient field access: a daemon newer than us may send other shapes.
const Json* Field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::int64_t> IntField(const Json& object, const char* key) {
  const Json* value = Field(object, key);
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  return value->get<std::int64_t>();
}

std::string StringField(const Json& object, const char* key) {
  const Json* value = Field(object, key);
  if (value == nullptr || !value->is_string()) return "";
  return value->get<std::string>();
}

const Json& ArrayField(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  const Json* value = Field(object, key);
  return value != nullptr && value->is_array() ? *value : kEmpty;
}

// Text from the daemon can come from a worker (STATUS=..., exec errors):
// keep each row on one line.
std::string OneLine(std::string text) {
  for (char& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return text;
}

// Columns are aligned by characters, not bytes, so that a UTF-8 message or
// program name does not shift the rows after it.
std::size_t DisplayWidth(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(),
      [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string OrDash(std::string text) { return text.empty() ? "-" : text; }

std::string OrDash(std::optional<std::int64_t> value) {
  return value ? std::to_string(*value) : "-";
}

// Rows of cells, printed with each column as wide as its widest cell and
// two spaces between columns. A row with `spans` set has two cells: the
// first column and a text that runs on from the second column regardless of
// the widths after it.
struct Row {
  std::vector<std::string> cells;
  bool spans = false;
};

std::string Table(const std::vector<Row>& rows) {
  std::vector<std::size_t> widths;
  for (const Row& row : rows) {
    const std::size_t counted = row.spans ? 1 : row.cells.size();
    if (widths.size() < counted) widths.resize(counted, 0);
    for (std::size_t i = 0; i < counted; ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row.cells[i]));
    }
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.cells.size(); ++i) {
      if (i > 0) line += kGap;
      line += row.cells[i];
      if (i < widths.size() && !(row.spans && i > 0)) {
        line.append(widths[i] - DisplayWidth(row.cells[i]), ' ');
      }
    }
    // Empty trailing cells (no message) and padding leave blanks at the end.
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  }
  return out;
}

std::string WorkerName(const Json& worker, const std::string& program) {
  std::string name = StringField(worker, "program");
  if (name.empty()) name = program;
  if (name.empty()) name = "?";
  if (const auto instance = IntField(worker, "instance")) {
    name += ":" + std::to_string(*instance);
  }
  // During a rolling restart a slot shows two rows: "web:2 (old)" and the
  // one replacing it, "web:2 (new)".
  const std::string handover = StringField(worker, "handover");
  if (!handover.empty()) name += " (" + handover + ")";
  return OneLine(std::move(name));
}

// The daemon's message and the worker's own STATUS=, as one cell.
std::string MessageText(const Json& worker) {
  std::string message = StringField(worker, "message");
  const std::string status = StringField(worker, "notify_status");
  if (!status.empty()) {
    if (!message.empty()) message += "; ";
    message += "status: " + status;
  }
  return OneLine(std::move(message));
}

std::string LastExitText(const Json& worker) {
  const Json* last_exit = Field(worker, "last_exit");
  return last_exit != nullptr ? OneLine(StringField(*last_exit, "text")) : "";
}

std::string Plural(std::int64_t n, std::string_view noun) {
  std::string text = std::to_string(n) + " ";
  text += noun;
  if (n != 1) text += 's';
  return text;
}

// One LINE of a `logs` result, ended by a newline.
std::string LogLine(const Json& line) {
  std::string out;
  // A log file without log_timestamps has no time either.
  const std::string time = OneLine(StringField(line, "time"));
  if (!time.empty()) out += time + " ";
  out += OneLine(OrDash(StringField(line, "program")));
  if (const auto instance = IntField(line, "instance")) {
    out += ":" + std::to_string(*instance);
  }
  out += " " + OneLine(OrDash(StringField(line, "stream")));
  const Json* partial = Field(line, "partial");
  out += partial != nullptr && *partial == true ? "+ " : ": ";
  out += StringField(line, "text");
  out += '\n';
  return out;
}

// Characters that mean nothing to a POSIX shell, so need no quotes.
bool IsShellSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') ||
         std::string_view("-_=+:,./@%").find(c) != std::string_view::npos;
}

std::string ShellWord(const std::string& word) {
  if (!word.empty() && std::all_of(word.begin(), word.end(), IsShellSafe)) {
    return word;
  }
  std::string quoted = "'";
  for (const char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// How a reload result names what was done to a program or socket, and how
// a dry run says it would be done.
struct ReloadVerb {
  std::string_view action;  // as the protocol writes it
  std::string_view done;
  std::string_view would;
};

constexpr ReloadVerb kProgramVerbs[] = {
    {"started", "started", "would start"},
    {"added", "added (autostart = false)", "would add (autostart = false)"},
    {"stopped", "stopped", "would stop"},
    {"rolled", "rolled", "would roll"},
    {"restarted", "restarted", "would restart"},
    {"updated", "updated", "would update"},
    {"scaled", "scaled", "would scale"},
    {"unchanged", "unchanged", "unchanged"},
};

constexpr ReloadVerb kSocketVerbs[] = {
    {"added", "added", "would add"},
    {"removed", "removed", "would remove"},
    {"changed", "changed", "would change"},
};

// The verb for `action`; an action we do not know as the daemon names it.
template <std::size_t N>
std::string ReloadVerbText(const ReloadVerb (&verbs)[N],
                           const std::string& action, bool dry_run) {
  for (const ReloadVerb& verb : verbs) {
    if (verb.action == action) {
      return std::string(dry_run ? verb.would : verb.done);
    }
  }
  return OneLine(OrDash(action));
}

// " (command, env)" for a non-empty `changes`, else "".
std::string ChangedKeys(const Json& entry) {
  std::string keys;
  for (const Json& key : ArrayField(entry, "changes")) {
    if (!key.is_string()) continue;
    if (!keys.empty()) keys += ", ";
    keys += OneLine(key.get<std::string>());
  }
  return keys.empty() ? "" : " (" + keys + ")";
}

// "web: rolled (command); scaled 4 -> 8", "jobs: scaled 2 -> 4", ...
std::string ReloadProgramLine(const Json& program, bool dry_run) {
  const std::string action = StringField(program, "action");
  std::string line = OneLine(OrDash(StringField(program, "name"))) + ": " +
                     ReloadVerbText(kProgramVerbs, action, dry_run) +
                     ChangedKeys(program);
  const auto from = IntField(program, "from");
  const auto to = IntField(program, "to");
  const std::string counts = OrDash(from) + " -> " + OrDash(to);
  if (action == "scaled") {
    line += " " + counts;
  } else if ((action == "rolled" || action == "restarted" ||
              action == "updated") &&
             from && to && *from != *to) {
    line += dry_run ? "; would scale " : "; scaled ";
    line += counts;
  }
  const Json* ok = Field(program, "ok");
  if (ok != nullptr && *ok == false) {
    line += "; failed";
    const std::string message = OneLine(StringField(program, "message"));
    if (!message.empty()) line += ": " + message;
  }
  return line + "\n";
}

}  // namespace

std::string FormatDuration(std::int64_t ms) {
  const std::int64_t seconds = std::max<std::int64_t>(ms, 0) / 1000;
  auto two_digits = [](std::int64_t n) {
    return (n < 10 ? "0" : "") + std::to_string(n);
  };
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) {
    return std::to_string(seconds / 60) + "m" + two_digits(seconds % 60) + "s";
  }
  if (seconds < 86400) {
    return std::to_string(seconds / 3600) + "h" +
           two_digits(seconds % 3600 / 60) + "m";
  }
  return std::to_string(seconds / 86400) + "d" +
         std::to_string(seconds % 86400 / 3600) + "h";
}

std::string RenderStatus(const Json& result) {
  const Json& programs = ArrayField(result, "programs");
  if (programs.empty()) return "no programs configured\n";

  bool any_message = false;
  for (const Json& program : programs) {
    for (const Json& worker : ArrayField(program, "instances")) {
      any_message = any_message || !MessageText(worker).empty();
    }
  }

  std::vector<Row> rows;
  Row header{{"NAME", "PID", "STATE", "UPTIME", "RESTARTS", "LAST EXIT"}};
  if (any_message) header.cells.push_back("MESSAGE");
  rows.push_back(std::move(header));
  for (const Json& program : programs) {
    const std::string name = StringField(program, "name");
    const Json& workers = ArrayField(program, "instances");
    if (workers.empty()) {
      rows.push_back(Row{{OneLine(OrDash(name)), "(no workers)"}, true});
      continue;
    }
    for (const Json& worker : workers) {
      const auto uptime = IntField(worker, "uptime_ms");
      Row row{{WorkerName(worker, name), OrDash(IntField(worker, "pid")),
               OrDash(OneLine(StringField(worker, "state"))),
               uptime ? FormatDuration(*uptime) : "-",
               OrDash(IntField(worker, "restarts")),
               OrDash(LastExitText(worker))}};
      if (any_message) {
        row.cells.push_back(MessageText(worker));
      }
      rows.push_back(std::move(row));
    }
  }
  return Table(rows);
}

std::string RenderWorkers(const Json& result) {
  const Json& workers = ArrayField(result, "workers");
  if (workers.empty()) return "no workers\n";
  std::vector<Row> rows;
  for (const Json& worker : workers) {
    std::string detail;
    if (const auto pid = IntField(worker, "pid")) {
      detail = "pid " + std::to_string(*pid);
    } else {
      // No process: say why, in the daemon's words.
      const std::string message = OneLine(StringField(worker, "message"));
      const std::string last_exit = LastExitText(worker);
      detail = message;
      // The daemon's message often quotes the exit already.
      if (!last_exit.empty() && message.find(last_exit) == std::string::npos) {
        if (!detail.empty()) detail += "; ";
        detail += last_exit;
      }
    }
    rows.push_back(Row{{WorkerName(worker, ""),
                        OrDash(OneLine(StringField(worker, "state"))),
                        std::move(detail)}});
  }
  return Table(rows);
}

std::string RenderScale(const Json& result) {
  const Json& programs = ArrayField(result, "programs");
  if (programs.empty()) return "nothing to scale\n";
  std::vector<Row> rows;
  for (const Json& program : programs) {
    const auto from = IntField(program, "from");
    const auto to = IntField(program, "to");
    std::string change = from && to && *from == *to
                             ? std::to_string(*to) + " (unchanged)"
                             : OrDash(from) + " -> " + OrDash(to);
    rows.push_back(Row{
        {OneLine(OrDash(StringField(program, "name"))), std::move(change)}});
  }
  return Table(rows);
}

std::string RenderReload(const Json& result) {
  const Json* dry_run_field = Field(result, "dry_run");
  const bool dry_run = dry_run_field != nullptr && *dry_run_field == true;
  std::string out = dry_run ? "dry run: nothing was changed\n" : "";
  std::string lines;
  for (const Json& program : ArrayField(result, "programs")) {
    lines += ReloadProgramLine(program, dry_run);
  }
  for (const Json& socket : ArrayField(result, "sockets")) {
    const std::string action = StringField(socket, "action");
    if (action == "unchanged") continue;
    lines += "socket " + OneLine(OrDash(StringField(socket, "name"))) + ": " +
             ReloadVerbText(kSocketVerbs, action, dry_run) +
             ChangedKeys(socket) + "\n";
  }
  return out + (lines.empty() ? "no programs configured\n" : lines);
}

std::string RenderShutdown(const Json& result) {
  const auto stopped = IntField(result, "stopped");
  if (!stopped) return "workerd is exiting\n";
  return "stopped " + Plural(*stopped, "worker") + "; workerd is exiting\n";
}

std::string RenderVersion(const std::optional<Json>& daemon_result) {
  std::string out = "workerctl ";
  out += proto::Version();
  out += " (protocol " + std::to_string(proto::kProtocolVersion) + ")\n";
  if (daemon_result) {
    out +=
        "workerd   " + OrDash(OneLine(StringField(*daemon_result, "version")));
    if (const auto protocol = IntField(*daemon_result, "protocol")) {
      out += " (protocol " + std::to_string(*protocol) + ")";
    }
    out += "\n";
  }
  return out;
}

Json VersionJson(const std::optional<Json>& daemon_result) {
  Json json = Json::object();
  json["workerctl"] = {{"version", proto::Version()},
                       {"protocol", proto::kProtocolVersion}};
  json["workerd"] = daemon_result ? *daemon_result : Json(nullptr);
  return json;
}

std::string RenderProgress(const Json& result) {
  const Json* progress = Field(result, "progress");
  if (progress == nullptr || !progress->is_object()) return "";
  std::string name = OneLine(StringField(*progress, "program"));
  if (const auto instance = IntField(*progress, "instance")) {
    name += ":" + std::to_string(*instance);
  }
  const std::string step = StringField(*progress, "step");
  const std::string old_pid = OrDash(IntField(*progress, "old_pid"));
  const std::string new_pid = OrDash(IntField(*progress, "new_pid"));
  const std::string count = "[" + OrDash(IntField(*progress, "done")) + "/" +
                            OrDash(IntField(*progress, "total")) + "]";
  std::string what;
  if (step == "starting") {
    what = "starting pid " + new_pid + " to replace pid " + old_pid;
  } else if (step == "ready") {
    what = "pid " + new_pid + " is ready; stopping pid " + old_pid;
  } else if (step == "replaced") {
    what = "replaced: pid " + new_pid + " serves";
  } else {
    what = OneLine(OrDash(step));
  }
  return count + " " + name + ": " + what + "\n";
}

std::string RenderRestart(const Json& result) {
  // Without waiting, the answer only names the programs now rolling.
  if (Field(result, "workers") == nullptr) {
    std::string out;
    for (const Json& program : ArrayField(result, "programs")) {
      out += OneLine(OrDash(StringField(program, "name"))) +
             ": rolling restart started\n";
    }
    return out.empty() ? "nothing to restart\n" : out;
  }
  std::string out = RenderWorkers(result);
  for (const Json& program : ArrayField(result, "programs")) {
    const auto total = IntField(program, "total");
    if (!total) continue;
    out += OneLine(StringField(program, "name")) + ": " +
           OrDash(IntField(program, "replaced")) + " of " +
           std::to_string(*total) + " workers replaced\n";
  }
  return out;
}

std::string RenderLogLines(const Json& result) {
  std::string out;
  for (const Json& line : ArrayField(result, "lines")) out += LogLine(line);
  return out;
}

std::string LogLinesJson(const Json& result) {
  std::string out;
  for (const Json& line : ArrayField(result, "lines")) {
    out += line.dump(-1, ' ', false, Json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

std::string RenderReopened(const Json& result, bool ok) {
  std::string out;
  for (const Json& path : ArrayField(result, "reopened")) {
    if (path.is_string())
      out += "reopened " + OneLine(path.get<std::string>()) + "\n";
  }
  if (out.empty() && ok) return "no log files to reopen\n";
  return out;
}

std::vector<std::string> JournalctlCommand(const Json& result,
                                           const Json& request_args) {
  std::string identifier = StringField(result, "identifier");
  if (identifier.empty()) {
    const Json& targets = ArrayField(request_args, "targets");
    if (!targets.empty() && targets.front().is_string()) {
      auto target = proto::ParseTarget(targets.front().get<std::string>());
      if (auto* parsed = std::get_if<proto::Target>(&target)) {
        identifier = parsed->program;
      }
    }
  }
  std::vector<std::string> argv = {"journalctl", "-t", identifier};
  // The journal records the worker's own pid: it opens its stream itself.
  if (const auto pid = IntField(result, "pid")) {
    argv.push_back("_PID=" + std::to_string(*pid));
  }
  if (const auto lines = IntField(request_args, "lines")) {
    argv.push_back("-n");
    argv.push_back(std::to_string(*lines));
  }
  const Json* follow = Field(request_args, "follow");
  if (follow != nullptr && *follow == true) argv.push_back("-f");
  return argv;
}

std::string ShellCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& word : argv) {
    if (!out.empty()) out += ' ';
    out += ShellWord(word);
  }
  return out;
}

}  // namespace workerd::ctl
