// workerd: reads workers.toml, starts the programs' workers and supervises
// them until told to stop. See workerd(8).
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "daemon/config.h"
#include "daemon/control_commands.h"
#include "daemon/control_server.h"
#include "daemon/event_loop.h"
#include "daemon/listeners.h"
#include "daemon/log_router.h"
#include "daemon/logging.h"
#include "daemon/orphan_reaper.h"
#include "daemon/service_notifier.h"
#include "daemon/spawner.h"
#include "daemon/supervisor.h"
#include "daemon/unix_socket.h"
#include "daemon/worker_launch.h"
#include "proto/default_socket.h"
#include "proto/exit_codes.h"
#include "proto/version.h"

extern char** environ;

namespace workerd {
namespace {

constexpr const char* kDefaultConfig = "/etc/workerd/workers.toml";

// One pidfd per worker plus its pipes: the default soft limit of 1024 is
// too low for a large pool.
void RaiseOpenFileLimit() {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int CountWorkers(const Config& config) {
  int workers = 0;
  for (const ProgramSpec& program : config.programs) workers += program.workers;
  return workers;
}

// Logs why workerd cannot run and, under systemd, puts it in the unit's
// status line too, where `systemctl status` shows it.
int CannotRun(ServiceNotifier* service, const std::string& error) {
  spdlog::error("{}", error);
  if (service != nullptr) service->Status("cannot run: " + error);
  return proto::kDaemonFailure;
}

int Run(const std::string& config_path, bool check_only, bool dev) {
  std::unique_ptr<ServiceNotifier> service =
      check_only ? nullptr : ServiceNotifier::FromEnvironment();
  ConfigLoad load = LoadConfigFile(config_path);
  if (!load.config) {
    for (const ConfigError& error : load.errors) {
      std::fprintf(stderr, "%s\n", error.ToString().c_str());
    }
    std::fprintf(stderr, "workerd: %s is not valid; nothing was started\n",
                 config_path.c_str());
    if (service != nullptr) {
      service->Status(load.errors.empty()
                          ? config_path + " is not valid"
                          : load.errors.front().ToString());
    }
    return proto::kDaemonConfigInvalid;
  }
  Config& config = *load.config;
  if (check_only) {
    const int workers = CountWorkers(config);
    std::printf("%s: valid (%zu program%s, %d worker%s)\n",
                config_path.c_str(), config.programs.size(),
                config.programs.size() == 1 ? "" : "s", workers,
                workers == 1 ? "" : "s");
    return proto::kDaemonOk;
  }
  SetLogLevel(config.daemon.log_level);
  RunOptions options{.log_default = DefaultLogMode(environ), .dev = dev};
  ApplyRunOptions(config, options);
  // Colour is development mode's, and only for a terminal that wants it.
  const bool dev_mode = config.daemon.dev;
  UseColourLogs(dev_mode && ColourWanted(STDERR_FILENO, environ));
  if (dev_mode) spdlog::info("development mode: watching where `watch` is set");

  BlockSignals({SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1});
  ::signal(SIGPIPE, SIG_IGN);
  RaiseOpenFileLimit();
  if (!BecomeSubreaper()) {
    spdlog::warn("cannot become a child subreaper; processes that "
                 "daemonize away from workers will not be reaped by workerd");
  }

  // Before anything else: a worker must never start without its sockets,
  // and a port taken by someone else is an error at start, not at spawn.
  auto listeners = Listeners::Open(config, TakeInheritedSockets());
  if (auto* error = std::get_if<std::string>(&listeners)) {
    return CannotRun(service.get(), *error);
  }
  for (const SocketSpec& socket : config.sockets) {
    spdlog::info("socket {}: listening on {} ({})", socket.name,
                 std::get<Listeners>(listeners).BoundAddress(socket.name),
                 BalanceName(socket.balance));
  }

  std::string socket_path = config.daemon.control_socket.empty()
                                ? proto::DefaultControlSocketPath()
                                : config.daemon.control_socket;
  auto listener = ListenUnix(socket_path, config.daemon.control_mode,
                             config.daemon.control_group_gid);
  if (auto* error = std::get_if<std::string>(&listener)) {
    return CannotRun(service.get(), *error);
  }

  EventLoop loop;
  // Before any worker starts too: a log file that cannot be written is an
  // error now, not a worker that fails at each start.
  auto logs = LogRouter::Open(
      loop, config,
      LogColours{.stdout_lines = dev_mode && ColourWanted(STDOUT_FILENO, environ),
                 .stderr_lines =
                     dev_mode && ColourWanted(STDERR_FILENO, environ)});
  if (auto* error = std::get_if<std::string>(&logs)) {
    return CannotRun(service.get(), *error);
  }
  LogRouter& log_router = *std::get<std::unique_ptr<LogRouter>>(logs);
  ProcessSpawner spawner;
  AccessPolicy policy{::geteuid(), config.daemon.control_group_gid};
  Supervisor supervisor(loop, spawner, std::move(config),
                        InheritableEnvironment(environ),
                        std::move(std::get<Listeners>(listeners)), &log_router,
                        options);
  ControlCommands commands(supervisor);
  ControlServer server(loop, std::move(std::get<UnixListener>(listener)),
                       policy, commands);
  spdlog::info("workerd {} running {}; control socket {}", proto::Version(),
               config_path, server.path());
  supervisor.ReportTo(service.get());
  // The loop feeds systemd's watchdog itself, well within WATCHDOG_USEC:
  // if the loop hangs, the pings stop and systemd steps in.
  if (const int watchdog = sd_event_set_watchdog(loop.Get(), 1);
      watchdog > 0) {
    spdlog::info("sending WATCHDOG=1 to the service manager");
  } else if (watchdog < 0) {
    spdlog::warn("cannot feed the service manager's watchdog: {}",
                 std::strerror(-watchdog));
  }
  if (auto error = supervisor.Begin()) {
    return CannotRun(service.get(), *error);
  }
  int status = loop.Run();
  server.FlushAll();
  return status;
}

}  // namespace
}  // namespace workerd

int main(int argc, char** argv) {
  using namespace workerd;
  CLI::App app{"workerd: supervises the worker processes of workers.toml",
               "workerd"};
  std::string config_path = kDefaultConfig;
  bool check_only = false;
  bool version = false;
  bool dev = false;
  app.add_option("-c,--config", config_path, "the configuration file")
      ->capture_default_str();
  app.add_flag("--check", check_only,
               "validate the configuration and exit: 0 when valid, 3 when not");
  app.add_flag("--dev", dev,
               "development mode: every program's output on the terminal, "
               "in colour, and `watch` restarts programs when their files "
               "change (as [daemon] dev = true)");
  app.add_flag("--version", version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int status = app.exit(error);
    return status == 0 ? proto::kDaemonOk : proto::kDaemonUsage;
  }
  if (version) {
    std::printf("workerd %s\n", proto::Version());
    return proto::kDaemonOk;
  }
  SetUpLogging();
  try {
    return Run(config_path, check_only, dev);
  } catch (const std::exception& error) {
    spdlog::critical("workerd cannot go on: {}", error.what());
    return proto::kDaemonFailure;
  }
}
