// The programs' depends_on at runtime: the gate each program's workers
// ask before they start, starting what a program needs first, releasing
// held workers when their dependencies come good, rolling the dependents
// that asked for restart_with_dependency, and the order to stop in. The
// graph and the conditions are pure (dependency_graph.h,
// dependency_gate.h); this applies them to the live programs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"
#include "daemon/dependency_gate.h"
#include "daemon/ordered_stop.h"
#include "daemon/program.h"

namespace workerd {

class Dependencies {
 public:
  // Both are the supervisor's and outlive this: the specs as loaded (for
  // the graph) and the programs built from them.
  Dependencies(const std::vector<ProgramSpec>& specs,
               const std::vector<std::unique_ptr<Program>>& programs)
      : specs_(specs), programs_(programs) {}

  // May a worker of `program` start now?
  GateVerdict Gate(std::string_view program) const;

  // Starts, dependencies first, whatever `program` needs that is neither
  // met nor on its way (not started, stopped, failed or blocked), even
  // programs with autostart = false.
  void StartNeeds(const Program& program);

  // After workers changed: held workers are judged again (and start when
  // their gate opens), and a program with restart_with_dependency is
  // rolled once a dependency that was restarted by request meets its
  // condition again.
  void Check();

  // The programs that depend on `program`, directly or not, in the order
  // to stop them (a program before what it depends on).
  std::vector<Program*> Dependents(const Program& program) const;

  // A stop of `programs` (any order) that follows the dependencies.
  OrderedStop StopInOrder(std::vector<Program*> programs) const;

 private:
  Program* Find(std::string_view name) const;
  ProgramView ViewOf(const Program& program) const;
  void FollowRestartedDependencies(Program& program);
  // The generations of `program`'s dependencies now.
  std::map<std::string, int> DependencyGenerations(
      const Program& program) const;

  const std::vector<ProgramSpec>& specs_;
  const std::vector<std::unique_ptr<Program>>& programs_;
  // restart_with_dependency: per program, its own generation and its
  // dependencies' when it last (re)started.
  struct Seen {
    int own = -1;
    std::map<std::string, int> dependencies;
  };
  std::map<std::string, Seen> seen_;
};

}  // namespace workerd
