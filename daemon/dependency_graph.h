// The programs' `depends_on` as a graph: orders to start and stop in,
// who depends on whom, and cycles. Pure functions over the specs, so the
// config loader can check a file and the supervisor can act on it with the
// same answers. Names that match no program are ignored here (the loader
// reports them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"

namespace workerd {

// Indices into `programs`, every program after the programs it depends on
// and otherwise in file order. Programs on a cycle (which a loaded config
// never has) come last, in file order.
std::vector<std::size_t> StartOrder(const std::vector<ProgramSpec>& programs);

// The programs that list `name` in their depends_on, in file order.
std::vector<std::string> DirectDependents(
    const std::vector<ProgramSpec>& programs, std::string_view name);

// Everything that depends on `name`, directly or through others, in the
// order to stop them: a program comes before the programs it depends on.
std::vector<std::string> AllDependents(const std::vector<ProgramSpec>& programs,
                                       std::string_view name);

// Everything `name` needs, directly or through others, in the order to
// start them (StartOrder's), `name` itself not included.
std::vector<std::string> AllDependencies(
    const std::vector<ProgramSpec>& programs, std::string_view name);

// A cycle through depends_on, as the programs on it with the first one
// repeated at the end ("web", "jobs", "web"), starting at the earliest
// program of that cycle in file order; empty when there is none. A
// program that depends on itself is a cycle of one ("web", "web").
std::vector<std::string> FindCycle(const std::vector<ProgramSpec>& programs);

}  // namespace workerd
