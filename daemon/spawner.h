// Starts one worker process: spec values in, pid and pidfd out. The child
// side runs between vfork-style clone and execve and may only make
// async-signal-safe system calls; everything it needs is prepared here in
// the parent first.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "daemon/journal_stream.h"
#include "daemon/unique_fd.h"

namespace workerd {

struct SpawnRequest {
  // argv[0] without a slash is looked up in the PATH of `env` (falling back
  // to "/usr/local/bin:/usr/bin:/bin"); with a slash it is used as it is,
  // relative to `directory`. Unlike execvp, a file without #! that the
  // kernel cannot run is reported (ENOEXEC), not handed to /bin/sh.
  std::vector<std::string> argv;
  std::vector<std::string> env;  // the complete environment, "KEY=VALUE"
  std::string directory;         // empty: stay in workerd's directory
  // Target for the child's fd 1 and 2; -1 keeps workerd's own.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // When set, fd 1 and 2 are instead connections to the journal that the
  // child itself opens just before execve (so the journal records the
  // worker's pid and user), each starting with its header.
  std::optional<JournalStreams> journal;
  // Placed at fd 3, 4, ... in this order, with LISTEN_FDS, LISTEN_PID (the
  // child's own pid) and LISTEN_FDNAMES set when non-empty.
  std::vector<int> listen_fds;
  std::vector<std::string> listen_fd_names;
  // A uid without a gid takes the primary group of its passwd entry (no
  // entry: a "getpwuid" SpawnError). When workerd is root, the
  // supplementary groups become the user's, or just the gid when the uid
  // has no passwd entry.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Sent to the child by the kernel if workerd dies first (prctl
  // PR_SET_PDEATHSIG, set after the credentials change, which clears it);
  // 0: none. A child started after workerd already died exits 127.
  int parent_death_signal = 0;
};

struct SpawnedProcess {
  pid_t pid = -1;
  UniqueFd pidfd;
};

// Why a spawn failed. `stage` is what was being done ("exec", "chdir",
// "setuid", "clone", ...), `subject` what it was done to (the program or
// directory), `error` the errno.
struct SpawnError {
  std::string stage;
  std::string subject;
  int error = 0;

  // `exec "gunicornn": No such file or directory`; numeric subjects (uid,
  // gid, fd) go unquoted: `setuid 33: Operation not permitted`.
  std::string ToString() const;
};

using SpawnResult = std::variant<SpawnedProcess, SpawnError>;

// The seam the supervision tests replace with a fake.
class Spawner {
 public:
  virtual ~Spawner() = default;
  virtual SpawnResult Spawn(const SpawnRequest& request) = 0;
};

// Spawns real processes. The child: default signal dispositions, its own
// session and process group, stdin from /dev/null, stdout/stderr as requested, the
// listen fds at 3.., every other fd closed, directory, gid/uid, an empty
// signal mask, execve. A failure before or at execve comes back as a
// SpawnError (reported over a CLOEXEC pipe), never as a process exiting 127.
class ProcessSpawner : public Spawner {
 public:
  SpawnResult Spawn(const SpawnRequest& request) override;
};

}  // namespace workerd
