// Checking the programs' depends_on against each other, once every
// [program.NAME] is read (daemon/config_loader.h).

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/config_loader.h"
#include "daemon/dependency_graph.h"
#include "daemon/suggest.h"
#include "daemon/toml_reader.h"

namespace workerd::config_internal {
namespace {

template <typename T>
bool Contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

const ProgramSpec* Find(const std::vector<ProgramSpec>& programs,
                        const std::string& name) {
  for (const ProgramSpec& program : programs) {
    if (program.name == name) return &program;
  }
  return nullptr;
}

// Reports what is wrong with one entry of `program`'s depends_on, and gives
// an entry of the list form its condition. False after reporting.
bool CheckDependency(LoadContext& context,
                     const std::vector<ProgramSpec>& programs,
                     const ProgramSpec& program, Dependency* dependency) {
  Errors& errors = context.errors;
  if (dependency->program == program.name) {
    errors.Add(dependency->position,
               "depends_on: " + program.name + " cannot depend on itself");
    return false;
  }
  const ProgramSpec* target = Find(programs, dependency->program);
  if (target == nullptr) {
    std::vector<std::string> others;
    for (const ProgramSpec& other : programs) {
      if (other.name != program.name) others.push_back(other.name);
    }
    const std::optional<std::string> meant =
        Suggest(dependency->program, others);
    errors.Add(dependency->position,
               "depends_on: there is no program " +
                   Quoted(dependency->program) +
                   (meant ? TableReader::DidYouMean(meant)
                          : "; declare it with " +
                                Header("program", dependency->program)));
    return false;
  }
  // A target whose type is wrong has had its error; its type is unknown.
  if (Contains(context.untyped_programs, target->name)) return true;
  const bool oneshot = target->type == ProgramType::kOneshot;
  if (Contains(context.default_conditions, dependency->position)) {
    dependency->condition =
        oneshot ? DependencyCondition::kCompleted : DependencyCondition::kReady;
  } else if (dependency->condition == DependencyCondition::kCompleted &&
             !oneshot) {
    errors.Add(dependency->position,
               "depends_on: \"completed\" applies to oneshot programs, and " +
                   target->name +
                   " is a service; use \"ready\" or \"started\"");
    return false;
  }
  return true;
}

}  // namespace

void CheckDependencies(LoadContext& context,
                       std::vector<ProgramSpec>* programs) {
  bool entries_valid = true;
  for (ProgramSpec& program : *programs) {
    for (Dependency& dependency : program.depends_on) {
      if (!CheckDependency(context, *programs, program, &dependency)) {
        entries_valid = false;
      }
    }
  }
  // A cycle through a misnamed entry would only add noise.
  if (!entries_valid) return;
  const std::vector<std::string> cycle = FindCycle(*programs);
  if (cycle.size() < 2) return;
  // Reported where the cycle's first program names the next one.
  const ProgramSpec* first = Find(*programs, cycle[0]);
  SourcePosition at = first->position;
  for (const Dependency& dependency : first->depends_on) {
    if (dependency.program == cycle[1]) {
      at = dependency.position;
      break;
    }
  }
  std::string path;
  for (const std::string& name : cycle) {
    if (!path.empty()) path += " -> ";
    path += name;
  }
  context.errors.Add(at, "depends_on makes a cycle: " + path);
}

}  // namespace workerd::config_internal
