#include "proto/version.h"

#ifndef WORKERD_VERSION
#error "WORKERD_VERSION must be defined by the build (see proto/CMakeLists.txt)"
#endif

namespace workerd::proto {

const char* Version() { return WORKERD_VERSION; }

}  // namespace workerd::proto
