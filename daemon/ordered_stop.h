// Stops a set of programs in reverse dependency order: a program is told
// to stop once every program of the set that depends on it has no process
// left, so web is gone before the queue it talks to stops. Used by
// shutdown and by `stop --with-dependents`.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "daemon/program.h"

namespace workerd {

class OrderedStop {
 public:
  struct Step {
    Program* program;
    // The steps of the programs of the set that depend on it, directly or
    // not: indices into the steps.
    std::vector<std::size_t> dependents;
  };

  explicit OrderedStop(std::vector<Step> steps) : steps_(std::move(steps)) {}

  // Stops every program whose dependents are gone; true once every
  // program of the set has been stopped and has no process left. Call
  // again after workers change.
  bool Advance();

 private:
  std::vector<Step> steps_;
  std::vector<bool> stopped_ = std::vector<bool>(steps_.size(), false);
};

}  // namespace workerd
