// workerctl: the command line. Parsing only; the work is in workerctl_core
// (invocation, run, render) so that the tests can link it.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ctl/invocation.h"
#include "ctl/run.h"
#include "proto/exit_codes.h"
#include "proto/version.h"

namespace {

constexpr const char* kTargetFooter =
    "TARGET is a program (web) or one instance of it (web:2); no TARGET\n"
    "means every program.";

constexpr const char* kRestartFooter =
    "TARGET is a program (web) or one instance of it (web:2); no TARGET\n"
    "means every program. Each slot gets a new worker on the same sockets;\n"
    "once it is ready the old one is stopped gracefully. If a new worker\n"
    "does not become ready, the rollout stops and the old worker of that\n"
    "slot keeps serving (exit status 1).";

constexpr const char* kLogsFooter =
    "TARGET is a program (web) or one instance of it (web:2). Each line is\n"
    "shown as in workerd's log files, TIME PROGRAM:INSTANCE STREAM: TEXT,\n"
    "with STREAM+ for a line cut at 16 KiB that goes on in the next one.\n"
    "Without -n, every line workerd holds in memory (log_buffer); with\n"
    "--json, one JSON object per line. For a program with log = \"journal\"\n"
    "workerctl runs journalctl -t NAME instead, with -n and -f passed on.\n"
    "\n"
    "logs --reopen reopens every log file, e.g. after logrotate moved them.";

constexpr const char* kReloadFooter =
    "workerd reads the workers.toml it was started with again (as on\n"
    "SIGHUP) and applies the difference: new programs start, removed ones\n"
    "stop, changed ones get new workers one slot at a time (as restart),\n"
    "and changed worker counts scale. If the file is invalid, or a new\n"
    "socket cannot be bound, nothing changes and the errors are printed\n"
    "(exit status 1). [daemon] control_* changes wait for a restart.";

constexpr const char* kFooter =
    "TARGET is a program (web) or one instance of it (web:2); no TARGET\n"
    "means every program. The options above may also follow the subcommand.\n"
    "\n"
    "Exit status: 0 done, 1 workerd refused or failed the command, 2 usage\n"
    "error, 3 workerd is not running, 4 permission denied, 5 broken answer\n"
    "or connection lost.";

}  // namespace

int main(int argc, char** argv) {
  using workerd::ctl::Invocation;
  CLI::App app{"Control a running workerd.", "workerctl"};
  // Before any subcommand exists: global options are then also accepted
  // after the subcommand (`workerctl status --json`).
  app.fallthrough();
  app.require_subcommand(1);
  // workerctl's own version, without a daemon; `version` asks workerd too.
  app.set_version_flag("--version",
                       std::string("workerctl ") + workerd::proto::Version(),
                       "Print workerctl's version and exit");
  app.footer(kFooter);
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    std::string what = e.what();
    // `workerctl frob` is reported by CLI11 as a missing subcommand; name
    // the word that was not understood instead.
    if (failed->get_parent() == nullptr && failed->get_subcommands().empty() &&
        e.get_name() == "RequiredError") {
      what = failed->remaining().empty()
                 ? "a command is required: status, start, stop, restart, "
                   "scale, reload, logs, shutdown or version"
                 : "unknown command \"" + failed->remaining().front() + "\"";
    }
    return "workerctl: " + what +
           "\nRun 'workerctl --help' for more information.\n";
  });

  Invocation invocation;
  std::string socket;
  CLI::Option* socket_option = app.add_option(
      "-s,--socket", socket,
      "Control socket of workerd (default: $WORKERD_SOCKET, else the "
      "default path of workerd, else /run/workerd/control.sock)");
  socket_option->type_name("PATH");
  app.add_flag("--json", invocation.json,
               "Print workerd's answer as JSON instead of text");
  app.add_flag("--no-wait", invocation.no_wait,
               "start/stop/restart/scale/reload: answer at once instead of "
               "waiting for the workers to settle");

  struct Command {
    const char* name;
    const char* help;
    const char* operands;  // nullptr: none
    const char* operands_help;
    const char* footer;
  };
  const Command commands[] = {
      {"status", "Show every worker, or those of the TARGETs", "TARGET",
       "Programs or instances to show", kTargetFooter},
      {"start",
       "Start stopped, exited or fatal workers, after what they depend on",
       "TARGET", "Programs or instances to start", kTargetFooter},
      {"stop",
       "Stop workers (--with-dependents: and the programs that depend on "
       "them, first)",
       "TARGET", "Programs or instances to stop", kTargetFooter},
      {"restart",
       "Replace workers one at a time, each new one ready before the old "
       "one stops (--all: all at once)",
       "TARGET", "Programs or instances to restart", kRestartFooter},
      {"scale", "Change the number of workers of programs", "NAME=N",
       "Program and the number of workers it should have",
       "Example: workerctl scale web=8 jobs=0"},
      {"reload",
       "Re-read workers.toml and apply what changed (--dry-run: only say "
       "what would change)",
       nullptr, nullptr, kReloadFooter},
      {"logs",
       "Show a program's output (-f: follow it; --reopen: reopen the log "
       "files)",
       "TARGET", "The program or instance whose output to show", kLogsFooter},
      {"shutdown", "Stop every worker, then workerd itself", nullptr, nullptr,
       ""},
      {"version", "Print workerctl's and workerd's versions", nullptr, nullptr,
       ""},
  };
  for (const Command& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    sub->footer(command.footer);
    if (command.operands != nullptr) {
      // Plain strings, not required here: NAME=N and targets are validated
      // by BuildRequest, which names the bad argument (see PITFALLS.md on
      // CLI11's delimiter).
      CLI::Option* operands = sub->add_option(
          command.operands, invocation.operands, command.operands_help);
      operands->type_name("");
    }
  }

  app.get_subcommand("restart")->add_flag(
      "--all,--at-once", invocation.at_once,
      "Stop and start every targeted worker at once instead of rolling");

  app.get_subcommand("stop")->add_flag(
      "--with-dependents", invocation.with_dependents,
      "Also stop every program that depends on the TARGETs, before them");

  app.get_subcommand("reload")->add_flag(
      "--dry-run", invocation.dry_run,
      "Check workers.toml and print what a reload would do, changing "
      "nothing");

  CLI::App* logs = app.get_subcommand("logs");
  // A string, checked by BuildRequest, whose message says what -n takes.
  std::string lines;
  CLI::Option* lines_option = logs->add_option(
      "-n,--lines", lines,
      "Only the last N lines (default: every line workerd holds)");
  lines_option->type_name("N");
  logs->add_flag("-f,--follow", invocation.follow,
                 "Keep printing new lines as the workers write them, until "
                 "interrupted");
  logs->add_flag("--stdout", invocation.stdout_only,
                 "Only what went to stdout");
  logs->add_flag("--stderr", invocation.stderr_only,
                 "Only what went to stderr");
  logs->add_flag("--reopen", invocation.reopen,
                 "Reopen every log file of workerd by its name (no TARGET)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; CLI11's own failure codes (104-114) are usage errors.
    const int code = app.exit(e);
    return code == 0 ? workerd::proto::kCtlOk : workerd::proto::kCtlUsage;
  }

  invocation.command = app.get_subcommands().front()->get_name();
  if (socket_option->count() > 0) invocation.socket = socket;
  if (lines_option->count() > 0) invocation.lines = lines;
  const std::string socket_path = workerd::ctl::ResolveSocketPath(
      invocation.socket, std::getenv("WORKERD_SOCKET"));
  return workerd::ctl::Run(invocation, socket_path, std::cout, std::cerr);
}
