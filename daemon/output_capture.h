// Reads the stdout and stderr pipes of one worker process for its
// program's log. While the log's writers are full, it stops reading, so
// the pipes fill and the worker waits: output is slowed, never dropped.
// When the process exits, whatever it wrote is read at once, before its
// exit is handled; the capture then lives on until the pipes' end (a child
// of the worker may still hold them).
#pragma once

#include <cstdint>
#include <memory>

#include "daemon/event_loop.h"
#include "daemon/line_splitter.h"
#include "daemon/output_stream.h"
#include "daemon/unique_fd.h"

namespace workerd {

class ProgramLog;

class OutputCapture : public std::enable_shared_from_this<OutputCapture> {
 public:
  OutputCapture(ProgramLog& log, int instance, UniqueFd stdout_read,
                UniqueFd stderr_read);
  ~OutputCapture();
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  // Starts reading. Separate from the constructor: it needs the object's
  // shared_ptr.
  void Begin();
  // The worker's process exited: reads everything it left in the pipes,
  // back-pressure or not, and ends its unfinished lines.
  void ProcessExited();
  // Reads what can be read without waiting; for shutdown.
  void DrainNow();
  int instance() const { return instance_; }
  bool Done() const { return pipes_[0].ended && pipes_[1].ended; }

 private:
  struct Pipe {
    OutputStream stream;
    UniqueFd fd;
    EventSource source;
    LineSplitter splitter;
    bool ended = false;
  };

  void OnReadable(Pipe& pipe);
  // One read; false when nothing more can be read now (or ever).
  bool ReadOnce(Pipe& pipe);
  void End(Pipe& pipe);
  void Pause();
  void Resume();

  ProgramLog& log_;
  int instance_;
  Pipe pipes_[2];
  bool paused_ = false;
};

}  // namespace workerd
