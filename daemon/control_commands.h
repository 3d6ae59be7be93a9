// The control protocol's commands (proto/PROTOCOL.md), carried out on the
// supervisor. Arguments are checked completely before anything changes
// (control_arguments.h); workers are described by worker_json.h. `restart`
// is in restart_command.cc, `reload` in reload_command.cc, `logs` and `reopen_logs` in logs_command.cc,
// the rest in control_commands.cc.
#pragma once

#include <functional>
#include <variant>
#include <vector>

#include "daemon/control_arguments.h"
#include "daemon/control_server.h"
#include "daemon/supervisor.h"

namespace workerd {

class ControlCommands : public RequestHandler {
 public:
  explicit ControlCommands(Supervisor& supervisor) : supervisor_(supervisor) {}

  void Handle(const proto::Request& request, Reply reply) override;

 private:
  struct WorkerRef {
    std::string program;
    int instance;
  };

  void Version(const proto::Request& request, Reply& reply);
  void Status(const proto::Request& request, Reply& reply);
  void Start(const proto::Request& request, Reply& reply);
  void Stop(const proto::Request& request, Reply& reply);
  void Restart(const proto::Request& request, Reply& reply);
  void Scale(const proto::Request& request, Reply& reply);
  void Reload(const proto::Request& request, Reply& reply);
  void Shutdown(const proto::Request& request, Reply& reply);
  void Logs(const proto::Request& request, Reply& reply);
  void ReopenLogs(const proto::Request& request, Reply& reply);

  using ProgramAction = std::function<void(Program&)>;
  using WorkerAction = std::function<void(Program&, int instance)>;

  // start, stop and restart: act on each target, then answer.
  // With `instances_busy_while_rolling`, a target naming one instance of
  // a program in a rolling restart is refused with `busy`. `extra` is
  // merged into the result (warnings).
  void ActOnTargets(const proto::Request& request, Reply& reply,
                    const ProgramAction& program_action,
                    const WorkerAction& worker_action, bool must_be_ready,
                    bool instances_busy_while_rolling = false,
                    proto::Json extra = proto::Json::object());
  // Answers with the workers once they have settled (or at once without
  // `wait`); with `must_be_ready`, fails unless each of them is ready (or,
  // a oneshot, completed).
  void AnswerWhenSettled(const proto::Request& request, Reply reply,
                         std::vector<WorkerRef> workers, bool must_be_ready,
                         proto::Json extra = proto::Json::object());
  // stop --with-dependents: whole programs and what depends on them.
  void StopWithDependents(const proto::Request& request, Reply& reply);
  // "web and jobs depend on redis and keep running; ...", for each
  // program stopped alone while dependents of it run.
  proto::Json DependentsWarnings(const std::vector<ResolvedTarget>& targets);
  proto::Json WorkersJson(const std::vector<WorkerRef>& workers) const;
  const Worker* Find(const WorkerRef& ref) const;

  // Answers `request` with the error an argument's parse holds, if any.
  template <typename T>
  static bool Refused(const std::variant<T, proto::Error>& parsed,
                      const proto::Request& request, Reply& reply) {
    const auto* error = std::get_if<proto::Error>(&parsed);
    if (error != nullptr) reply(proto::Response::Failure(request.id, *error));
    return error != nullptr;
  }

  Supervisor& supervisor_;
};

}  // namespace workerd
