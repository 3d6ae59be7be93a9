// A worker's two output streams, as they are named in log files, in
// `workerctl logs` and in the control protocol.
#pragma once

#include <string_view>

namespace workerd {

enum class OutputStream { kStdout, kStderr };

inline std::string_view OutputStreamName(OutputStream stream) {
  return stream == OutputStream::kStdout ? "stdout" : "stderr";
}

}  // namespace workerd
