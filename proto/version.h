// The version of this build of workerd and workerctl.
#pragma once

namespace workerd::proto {

// "0.1.0": the project version CMake passes as WORKERD_VERSION. A function
// rather than a constant so that only proto's sources need the definition.
const char* Version();

}  // namespace workerd::proto
