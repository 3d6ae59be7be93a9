#include "daemon/ordered_stop.h"

#include <algorithm>

namespace workerd {

bool OrderedStop::Advance() {
  bool done = true;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    if (!stopped_[i]) {
      const bool dependents_gone = std::all_of(
          step.dependents.begin(), step.dependents.end(),
          [&](std::size_t dependent) {
            return stopped_[dependent] && steps_[dependent].program->Idle();
          });
      if (dependents_gone) {
        stopped_[i] = true;
        step.program->Stop();
      }
    }
    if (!stopped_[i] || !step.program->Idle()) done = false;
  }
  return done;
}

}  // namespace workerd
