#include "daemon/dependency_graph.h"

#include <algorithm>
#include <optional>

namespace workerd {
namespace {

std::optional<std::size_t> IndexOf(const std::vector<ProgramSpec>& programs,
                                   std::string_view name) {
  for (std::size_t i = 0; i < programs.size(); ++i) {
    if (programs[i].name == name) return i;
  }
  return std::nullopt;
}

// For each program, the indices of the programs it depends on.
std::vector<std::vector<std::size_t>> Edges(
    const std::vector<ProgramSpec>& programs) {
  std::vector<std::vector<std::size_t>> edges(programs.size());
  for (std::size_t i = 0; i < programs.size(); ++i) {
    for (const Dependency& dependency : programs[i].depends_on) {
      if (auto target = IndexOf(programs, dependency.program)) {
        edges[i].push_back(*target);
      }
    }
  }
  return edges;
}

bool DependsOn(const ProgramSpec& program, std::string_view name) {
  return std::any_of(
      program.depends_on.begin(), program.depends_on.end(),
      [&](const Dependency& dependency) { return dependency.program == name; });
}

// `marked[i]` for every program reachable from `from` along `edges`.
void Reach(const std::vector<std::vector<std::size_t>>& edges,
           std::size_t from, std::vector<bool>& marked) {
  for (std::size_t next : edges[from]) {
    if (marked[next]) continue;
    marked[next] = true;
    Reach(edges, next, marked);
  }
}

}  // namespace

std::vector<std::size_t> StartOrder(const std::vector<ProgramSpec>& programs) {
  const auto edges = Edges(programs);
  std::vector<std::size_t> order;
  std::vector<bool> placed(programs.size(), false);
  // Repeatedly take the first program in file order whose dependencies are
  // all placed: file order wherever the graph leaves a choice.
  while (order.size() < programs.size()) {
    bool progress = false;
    for (std::size_t i = 0; i < programs.size(); ++i) {
      if (placed[i]) continue;
      if (!std::all_of(edges[i].begin(), edges[i].end(),
                       [&](std::size_t d) { return placed[d]; })) {
        continue;
      }
      placed[i] = true;
      order.push_back(i);
      progress = true;
      break;
    }
    if (progress) continue;
    for (std::size_t i = 0; i < programs.size(); ++i) {
      if (!placed[i]) order.push_back(i);
    }
    break;
  }
  return order;
}

std::vector<std::string> DirectDependents(
    const std::vector<ProgramSpec>& programs, std::string_view name) {
  std::vector<std::string> dependents;
  for (const ProgramSpec& program : programs) {
    if (DependsOn(program, name)) dependents.push_back(program.name);
  }
  return dependents;
}

std::vector<std::string> AllDependents(const std::vector<ProgramSpec>& programs,
                                       std::string_view name) {
  const auto from = IndexOf(programs, name);
  if (!from) return {};
  // Reversed edges: from a program to the programs that depend on it.
  std::vector<std::vector<std::size_t>> dependents(programs.size());
  const auto edges = Edges(programs);
  for (std::size_t i = 0; i < programs.size(); ++i) {
    for (std::size_t d : edges[i]) dependents[d].push_back(i);
  }
  std::vector<bool> marked(programs.size(), false);
  Reach(dependents, *from, marked);
  std::vector<std::string> result;
  const auto order = StartOrder(programs);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (marked[*it] && *it != *from) result.push_back(programs[*it].name);
  }
  return result;
}

std::vector<std::string> AllDependencies(
    const std::vector<ProgramSpec>& programs, std::string_view name) {
  const auto from = IndexOf(programs, name);
  if (!from) return {};
  std::vector<bool> marked(programs.size(), false);
  Reach(Edges(programs), *from, marked);
  std::vector<std::string> result;
  for (std::size_t i : StartOrder(programs)) {
    if (marked[i] && i != *from) result.push_back(programs[i].name);
  }
  return result;
}

std::vector<std::string> FindCycle(const std::vector<ProgramSpec>& programs) {
  const auto edges = Edges(programs);
  enum class Mark { kNew, kOnPath, kDone };
  std::vector<Mark> marks(programs.size(), Mark::kNew);
  std::vector<std::size_t> path;
  std::vector<std::string> cycle;
  // Depth first; a program met again while on the path closes a cycle.
  auto visit = [&](auto& self, std::size_t i) -> bool {
    marks[i] = Mark::kOnPath;
    path.push_back(i);
    for (std::size_t next : edges[i]) {
      if (marks[next] == Mark::kOnPath) {
        std::vector<std::size_t> on_cycle(
            std::find(path.begin(), path.end(), next), path.end());
        // Told from the program that comes first in the file.
        std::rotate(on_cycle.begin(),
                    std::min_element(on_cycle.begin(), on_cycle.end()),
                    on_cycle.end());
        for (std::size_t member : on_cycle) {
          cycle.push_back(programs[member].name);
        }
        cycle.push_back(cycle.front());
        return true;
      }
      if (marks[next] == Mark::kNew && self(self, next)) return true;
    }
    path.pop_back();
    marks[i] = Mark::kDone;
    return false;
  };
  for (std::size_t i = 0; i < programs.size(); ++i) {
    if (marks[i] == Mark::kNew && visit(visit, i)) break;
  }
  return cycle;
}

}  // namespace workerd
