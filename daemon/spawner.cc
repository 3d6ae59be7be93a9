#include "daemon/spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/credentials.h"
#include "daemon/exec_path.h"

namespace workerd {
namespace {

// The child runs on its own small stack in workerd's address space until it
// execs, and never returns from its first frame. Instrumented code must not
// run there: ASan poisons shadow memory for a frame's locals on entry and
// clears it on return, so the shadow of the borrowed stack would stay
// poisoned in the memory workerd reuses next; sanitizer interceptors of libc
// calls (sigaction, _exit, ...) would update runtime state the suspended
// parent owns; a UBSan report would take locks the parent may hold. (Built
// without the attributes, the ASan unit tests warn about an unknown stack
// and then fail with a false stack-buffer-underflow in the parent.) So
// every function that runs in the child carries these attributes and talks
// to the kernel only through syscall(2), which no sanitizer intercepts.
#define WORKERD_CHILD_CODE \
  __attribute__((no_sanitize_address, no_sanitize_undefined))

// Raw syscalls rather than libc wrappers in the child also keep glibc's
// process-wide bookkeeping out of it: glibc's setuid() in a threaded process
// would signal every thread of workerd to change their credentials too.

constexpr std::string_view kListenPidPrefix = "LISTEN_PID=";

// The kernel's sigset for rt_sigprocmask/rt_sigaction: 64 signals on every
// architecture but MIPS, where _NSIG is 129.
constexpr size_t kKernelSigsetBytes = _NSIG / 8;

// 64 KiB is far more than the child routine needs; it leaves room for the
// dynamic linker resolving a lazily bound symbol on first use, which saves
// the full vector register state on the stack.
constexpr size_t kChildStackBytes = size_t{64} * 1024;

// What the child reports through the error pipe before it exits 127.
enum class ChildStage : int32_t {
  kSetsid,
  kDup,
  kCloseRange,
  kChdir,
  kSetgroups,
  kSetgid,
  kSetuid,
  kSigmask,
  kParentDeathSignal,
  kJournal,
  kExec,
};

struct ChildFailure {
  ChildStage stage;
  int32_t error;
  int32_t fd;  // for kDup: the fd that could not be moved
};

// Everything the child needs, prepared by the parent. The child reads it
// and writes only into `moved_fds` and `listen_pid_digits`, both buffers
// of this spawn.
struct ChildPlan {
  const char* const* exec_paths;
  size_t exec_path_count;
  char* const* argv;
  char* const* envp;
  const char* directory;    // nullptr: keep the cwd
  char* listen_pid_digits;  // nullptr: no LISTEN_PID; else room for 20
  int error_fd;             // write end of the CLOEXEC error pipe
  // Sources of the fd plan: [0] /dev/null, [1] stdout, [2] stderr (-1 to
  // keep workerd's), then the listen fds, then the error pipe last.
  const int* source_fds;
  int* moved_fds;  // same length: the sources duplicated above the targets
  size_t source_count;
  size_t listen_count;
  bool set_groups;
  const gid_t* groups;
  size_t group_count;
  bool set_gid;
  gid_t gid;
  bool set_uid;
  uid_t uid;
  int parent_death_signal;  // 0: none
  pid_t parent_pid;         // workerd, to tell whether it died already
  // The journal's stream socket, or journal_address_length 0 for none;
  // the headers for fd 1 and fd 2.
  sockaddr_un journal_address;
  socklen_t journal_address_length;
  const char* journal_headers[2];
  size_t journal_header_lengths[2];
};

// syscall(2) returning -errno on failure, so the child does not depend on
// reading errno (which lives in the parent thread's TLS it shares).
WORKERD_CHILD_CODE long ChildSyscall(long number, long a = 0, long b = 0,
                                     long c = 0, long d = 0) {
  long result = syscall(number, a, b, c, d);
  return result < 0 ? -errno : result;
}

[[noreturn]] WORKERD_CHILD_CODE void ChildFail(int fd, ChildStage stage,
                                               long negative_errno,
                                               int detail = -1) {
  ChildFailure failure{stage, static_cast<int32_t>(-negative_errno), detail};
  // One write under PIPE_BUF is atomic; if it fails there is nobody left to
  // tell, and the parent reports the bare exit instead.
  syscall(SYS_write, fd, &failure, sizeof(failure));
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

WORKERD_CHILD_CODE void ChildFormatPid(char* out, long pid) {
  char reversed[24];
  int n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  for (int i = 0; i < n; ++i) out[i] = reversed[n - 1 - i];
  out[n] = '\0';
}

// Opens a stream to the journal at `target` (1 or 2), as
// sd_journal_stream_fd does. Non-blocking while connecting: a journald
// whose backlog is full must fail this spawn, not hang workerd, which is
// suspended until the child execs.
WORKERD_CHILD_CODE long ChildOpenJournalStream(const ChildPlan& plan,
                                               int target) {
  long fd = ChildSyscall(SYS_socket, AF_UNIX,
                         SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fd;
  long r = ChildSyscall(SYS_connect, fd,
                        reinterpret_cast<long>(&plan.journal_address),
                        plan.journal_address_length);
  if (r >= 0) r = ChildSyscall(SYS_shutdown, fd, SHUT_RD);
  if (r >= 0) {
    r = ChildSyscall(SYS_write, fd,
                     reinterpret_cast<long>(plan.journal_headers[target - 1]),
                     static_cast<long>(plan.journal_header_lengths[target - 1]));
    // A fresh socket takes a few dozen bytes whole.
    if (r >= 0 &&
        static_cast<size_t>(r) != plan.journal_header_lengths[target - 1]) {
      r = -EIO;
    }
  }
  // The worker writes to it as to any stdout: blocking.
  if (r >= 0) r = ChildSyscall(SYS_fcntl, fd, F_SETFL, 0);
  if (r >= 0) r = ChildSyscall(SYS_dup3, fd, target, 0);
  ChildSyscall(SYS_close, fd);
  return r;
}

WORKERD_CHILD_CODE int ChildMain(void* arg) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(arg);
  int error_fd = plan.error_fd;

  // Handlers are workerd's code and would run in this half-born process on
  // the borrowed stack; SIG_IGN would survive execve. Every signal goes back
  // to its default (an all-zero kernel sigaction is SIG_DFL on every
  // architecture). All signals are still blocked here, so none is lost or
  // handled early.
  struct {
    unsigned long words[8];
  } default_action = {};
  for (int sig = 1; sig < _NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ChildSyscall(SYS_rt_sigaction, sig, reinterpret_cast<long>(&default_action),
                 0, kKernelSigsetBytes);
  }

  // Its own session, and so its own process group: stopping the worker
  // signals the whole tree it forks without touching workerd. A session,
  // not just a group: processes may join only groups of their own session,
  // so no worker's process can move into another worker's group and be
  // taken for it (notify messages are attributed by process group).
  if (long r = ChildSyscall(SYS_setsid); r < 0) {
    ChildFail(error_fd, ChildStage::kSetsid, r);
  }

  // The fd plan. Targets are 0..2, 3..3+n-1 for the listen fds and 3+n for
  // the error pipe. First every source moves above all targets, so no dup2
  // onto a target can clobber a source not yet placed (two listen fds that
  // are already 4 and 3 would otherwise collapse into one).
  const int listen_end = 3 + static_cast<int>(plan.listen_count);
  const int floor = listen_end + 1;
  for (size_t i = 0; i < plan.source_count; ++i) {
    if (plan.source_fds[i] < 0) {
      plan.moved_fds[i] = -1;
      continue;
    }
    long r =
        ChildSyscall(SYS_fcntl, plan.source_fds[i], F_DUPFD_CLOEXEC, floor);
    if (r < 0) ChildFail(error_fd, ChildStage::kDup, r, plan.source_fds[i]);
    plan.moved_fds[i] = static_cast<int>(r);
  }
  // The error pipe sits at 3+n, still CLOEXEC, so it survives close_range
  // below and vanishes with a successful execve.
  const int moved_error_fd = plan.moved_fds[plan.source_count - 1];
  if (long r = ChildSyscall(SYS_dup3, moved_error_fd, listen_end, O_CLOEXEC);
      r < 0) {
    ChildFail(error_fd, ChildStage::kDup, r, plan.error_fd);
  }
  error_fd = listen_end;
  // dup2 clears FD_CLOEXEC on the target: these are meant to be inherited.
  for (size_t i = 0; i + 1 < plan.source_count; ++i) {
    if (plan.moved_fds[i] < 0) continue;
    // Source i goes to fd i: stdio at 0..2, listen fds from 3.
    if (long r =
            ChildSyscall(SYS_dup2, plan.moved_fds[i], static_cast<long>(i));
        r < 0) {
      ChildFail(error_fd, ChildStage::kDup, r, plan.source_fds[i]);
    }
  }
  // Whatever else workerd had open without CLOEXEC (from a library, or
  // inherited from its own parent) must not leak into the worker; this also
  // drops the moved copies.
  if (long r = ChildSyscall(SYS_close_range, floor, ~0U, 0); r < 0) {
    ChildFail(error_fd, ChildStage::kCloseRange, r);
  }

  if (plan.directory != nullptr) {
    if (long r =
            ChildSyscall(SYS_chdir, reinterpret_cast<long>(plan.directory));
        r < 0) {
      ChildFail(error_fd, ChildStage::kChdir, r);
    }
  }

  if (plan.listen_pid_digits != nullptr) {
    ChildFormatPid(plan.listen_pid_digits, ChildSyscall(SYS_getpid));
  }

  // Groups and gid first: after setuid the privilege to change them is gone.
  if (plan.set_groups) {
    if (long r =
            ChildSyscall(SYS_setgroups, static_cast<long>(plan.group_count),
                         reinterpret_cast<long>(plan.groups));
        r < 0) {
      ChildFail(error_fd, ChildStage::kSetgroups, r);
    }
  }
  if (plan.set_gid) {
    if (long r = ChildSyscall(SYS_setgid, plan.gid); r < 0) {
      ChildFail(error_fd, ChildStage::kSetgid, r);
    }
  }
  if (plan.set_uid) {
    if (long r = ChildSyscall(SYS_setuid, plan.uid); r < 0) {
      ChildFail(error_fd, ChildStage::kSetuid, r);
    }
  }

  // After the credentials: changing them clears the parent-death signal.
  if (plan.parent_death_signal != 0) {
    if (long r = ChildSyscall(SYS_prctl, PR_SET_PDEATHSIG,
                              plan.parent_death_signal);
        r < 0) {
      ChildFail(error_fd, ChildStage::kParentDeathSignal, r);
    }
    // workerd died before the signal was armed: nobody would supervise
    // this worker, and nobody reads the error pipe either.
    if (ChildSyscall(SYS_getppid) != plan.parent_pid) {
      ChildSyscall(SYS_exit_group, 127);
    }
  }

  // After the credentials: the journal records the user that connects.
  if (plan.journal_address_length > 0) {
    for (int target = 1; target <= 2; ++target) {
      if (long r = ChildOpenJournalStream(plan, target); r < 0) {
        ChildFail(error_fd, ChildStage::kJournal, r);
      }
    }
  }

  // The mask is inherited across execve; the worker starts with none.
  uint64_t empty_mask[2] = {0, 0};
  if (long r = ChildSyscall(SYS_rt_sigprocmask, SIG_SETMASK,
                            reinterpret_cast<long>(empty_mask), 0,
                            kKernelSigsetBytes);
      r < 0) {
    ChildFail(error_fd, ChildStage::kSigmask, r);
  }

  // execvp's rules: a candidate that is missing (or whose directory is)
  // moves on to the next; so does EACCES, which is what gets reported if
  // nothing runs. Any other error is about the program found: stop there.
  long error = -ENOENT;
  bool saw_eacces = false;
  for (size_t i = 0; i < plan.exec_path_count; ++i) {
    long r = ChildSyscall(
        SYS_execve, reinterpret_cast<long>(plan.exec_paths[i]),
        reinterpret_cast<long>(plan.argv), reinterpret_cast<long>(plan.envp));
    if (r == -EACCES) {
      saw_eacces = true;
    } else if (r == -ENOENT || r == -ENOTDIR || r == -ESTALE || r == -ENODEV ||
               r == -ETIMEDOUT) {
      error = r;
    } else {
      ChildFail(error_fd, ChildStage::kExec, r);
    }
  }
  ChildFail(error_fd, ChildStage::kExec, saw_eacces ? -EACCES : error);
}

// --- Parent side ---------------------------------------------------------

bool StartsWithAny(std::string_view entry,
                   std::initializer_list<std::string_view> prefixes) {
  for (std::string_view prefix : prefixes) {
    if (entry.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

bool ContainsNul(const std::vector<std::string>& strings) {
  for (const std::string& s : strings) {
    if (s.find('\0') != std::string::npos) return true;
  }
  return false;
}

SpawnError MakeError(std::string stage, std::string subject, int error) {
  return SpawnError{std::move(stage), std::move(subject), error};
}

SpawnError ErrorFromChild(const ChildFailure& failure,
                          const SpawnRequest& request,
                          const Credentials& creds) {
  switch (failure.stage) {
    case ChildStage::kSetsid:
      return MakeError("setsid", "", failure.error);
    case ChildStage::kDup:
      return MakeError("dup", std::to_string(failure.fd), failure.error);
    case ChildStage::kCloseRange:
      return MakeError("close_range", "", failure.error);
    case ChildStage::kChdir:
      return MakeError("chdir", request.directory, failure.error);
    case ChildStage::kSetgroups:
      return MakeError("setgroups", creds.uid ? std::to_string(*creds.uid) : "",
                       failure.error);
    case ChildStage::kSetgid:
      return MakeError("setgid", std::to_string(creds.gid.value_or(0)),
                       failure.error);
    case ChildStage::kSetuid:
      return MakeError("setuid", std::to_string(creds.uid.value_or(0)),
                       failure.error);
    case ChildStage::kSigmask:
      return MakeError("sigprocmask", "", failure.error);
    case ChildStage::kParentDeathSignal:
      return MakeError("prctl", "PR_SET_PDEATHSIG", failure.error);
    case ChildStage::kJournal:
      return MakeError("journal",
                       request.journal ? request.journal->socket_path : "",
                       failure.error);
    case ChildStage::kExec:
      return MakeError("exec", request.argv[0], failure.error);
  }
  return MakeError("spawn", request.argv[0], failure.error);
}

// Blocks every signal, glibc's internal ones included, for the life of the
// object: while the child borrows workerd's memory no handler may run in it,
// and the child inherits this mask until it has reset the dispositions.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    uint64_t all[2] = {~uint64_t{0}, ~uint64_t{0}};
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, all, saved_, kKernelSigsetBytes);
  }
  ~AllSignalsBlocked() {
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, saved_, nullptr,
            kKernelSigsetBytes);
  }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;

 private:
  uint64_t saved_[2] = {0, 0};
};

class ChildStack {
 public:
  ChildStack() {
    // One extra page at the bottom stays inaccessible, so an overflow
    // faults instead of scribbling over workerd's heap.
    void* mapping =
        mmap(nullptr, kChildStackBytes + kGuardBytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) return;
    base_ = static_cast<char*>(mapping);
    mprotect(base_, kGuardBytes, PROT_NONE);
  }
  ~ChildStack() {
    if (base_ != nullptr) munmap(base_, kChildStackBytes + kGuardBytes);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;

  bool Valid() const { return base_ != nullptr; }
  // Stacks grow down on every architecture Linux/glibc run workerd on.
  void* Top() const { return base_ + kGuardBytes + kChildStackBytes; }

 private:
  static constexpr size_t kGuardBytes = 4096;
  char* base_ = nullptr;
};

void Reap(pid_t pid) {
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::string SpawnError::ToString() const {
  const char* description = strerrordesc_np(error);
  std::string text = stage;
  if (!subject.empty()) {
    // Numbers read plainly (`setuid 33`); names and paths are quoted so an
    // empty or space-laden one is visible (`chdir "/srv/my app"`).
    bool numeric = stage == "setuid" || stage == "setgid" ||
                   stage == "setgroups" || stage == "dup" ||
                   stage == "getpwuid";
    text += ' ';
    if (numeric) {
      text += subject;
    } else {
      text += '"';
      text += subject;
      text += '"';
    }
  }
  text += ": ";
  text += description != nullptr ? std::string(description)
                                 : "error " + std::to_string(error);
  return text;
}

SpawnResult ProcessSpawner::Spawn(const SpawnRequest& request) {
  if (request.argv.empty()) return MakeError("exec", "", EINVAL);
  // A hole in 3.. would keep whatever workerd has at that number.
  for (int fd : request.listen_fds) {
    if (fd < 0) return MakeError("dup", std::to_string(fd), EBADF);
  }
  if (ContainsNul(request.argv) || ContainsNul(request.env) ||
      request.directory.find('\0') != std::string::npos) {
    return MakeError("exec", request.argv[0], EINVAL);
  }

  // argv and envp as execve wants them, pointing into the request.
  std::vector<char*> argv;
  argv.reserve(request.argv.size() + 1);
  for (const std::string& arg : request.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  const size_t listen_count = request.listen_fds.size();
  std::string listen_fds_entry;
  std::string listen_names_entry;
  // "LISTEN_PID=" plus room for any pid's digits, filled in by the child.
  std::array<char, kListenPidPrefix.size() + 24> listen_pid_entry{};
  std::vector<char*> envp;
  envp.reserve(request.env.size() + 4);
  for (const std::string& entry : request.env) {
    // Ours replace any the caller left, so the worker never sees two.
    if (listen_count > 0 &&
        StartsWithAny(entry,
                      {"LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES="})) {
      continue;
    }
    envp.push_back(const_cast<char*>(entry.c_str()));
  }
  if (listen_count > 0) {
    listen_fds_entry = "LISTEN_FDS=" + std::to_string(listen_count);
    listen_names_entry = "LISTEN_FDNAMES=";
    for (size_t i = 0; i < listen_count; ++i) {
      if (i > 0) listen_names_entry += ':';
      // systemd's name for an fd nobody named.
      listen_names_entry += i < request.listen_fd_names.size()
                                ? request.listen_fd_names[i]
                                : std::string("unknown");
    }
    kListenPidPrefix.copy(listen_pid_entry.data(), kListenPidPrefix.size());
    envp.push_back(listen_fds_entry.data());
    envp.push_back(listen_pid_entry.data());
    envp.push_back(listen_names_entry.data());
  }
  envp.push_back(nullptr);

  const std::vector<std::string> candidates =
      ExecCandidates(request.argv[0], request.env);
  std::vector<const char*> exec_paths;
  exec_paths.reserve(candidates.size());
  for (const std::string& candidate : candidates) {
    exec_paths.push_back(candidate.c_str());
  }

  const Credentials creds = ResolveCredentials(request.uid, request.gid);
  if (creds.lookup_error != 0) {
    return MakeError("getpwuid", std::to_string(*request.uid),
                     creds.lookup_error);
  }

  UniqueFd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null) return MakeError("open", "/dev/null", errno);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) return MakeError("pipe", "", errno);
  UniqueFd error_read(pipe_fds[0]);
  UniqueFd error_write(pipe_fds[1]);

  std::vector<int> source_fds;
  source_fds.reserve(listen_count + 4);
  source_fds.push_back(dev_null.Get());
  source_fds.push_back(request.stdout_fd);
  source_fds.push_back(request.stderr_fd);
  source_fds.insert(source_fds.end(), request.listen_fds.begin(),
                    request.listen_fds.end());
  source_fds.push_back(error_write.Get());
  std::vector<int> moved_fds(source_fds.size(), -1);

  ChildPlan plan{};
  plan.exec_paths = exec_paths.data();
  plan.exec_path_count = exec_paths.size();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.directory =
      request.directory.empty() ? nullptr : request.directory.c_str();
  plan.listen_pid_digits =
      listen_count > 0 ? listen_pid_entry.data() + kListenPidPrefix.size()
                       : nullptr;
  plan.error_fd = error_write.Get();
  plan.source_fds = source_fds.data();
  plan.moved_fds = moved_fds.data();
  plan.source_count = source_fds.size();
  plan.listen_count = listen_count;
  plan.set_groups = creds.set_groups;
  plan.groups = creds.groups.data();
  plan.group_count = creds.groups.size();
  plan.set_gid = creds.gid.has_value();
  plan.gid = creds.gid.value_or(0);
  plan.set_uid = creds.uid.has_value();
  plan.uid = creds.uid.value_or(0);
  plan.parent_death_signal = request.parent_death_signal;
  plan.parent_pid = ::getpid();

  if (request.journal) {
    const std::string& path = request.journal->socket_path;
    if (path.empty() || path.size() >= sizeof(plan.journal_address.sun_path)) {
      return MakeError("journal", path, ENAMETOOLONG);
    }
    plan.journal_address.sun_family = AF_UNIX;
    path.copy(plan.journal_address.sun_path, path.size());
    plan.journal_address_length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    plan.journal_headers[0] = request.journal->stdout_header.data();
    plan.journal_header_lengths[0] = request.journal->stdout_header.size();
    plan.journal_headers[1] = request.journal->stderr_header.data();
    plan.journal_header_lengths[1] = request.journal->stderr_header.size();
  }

  ChildStack stack;
  if (!stack.Valid()) return MakeError("mmap", "", errno);

  // CLONE_VM|CLONE_VFORK: the child borrows workerd's memory instead of
  // copying its page tables, so a spawn costs the same whatever workerd's
  // size, and workerd sleeps until the child has exec'd or exited.
  // CLONE_PIDFD hands back the pidfd with no window in which the pid could
  // be reused (it is not in the child's fd table: the kernel installs it
  // after copying that).
  int pidfd = -1;
  pid_t pid;
  int clone_errno = 0;
  {
    AllSignalsBlocked blocked;
    // Linux 5.9 or later is required (close_range in the child), so
    // CLONE_PIDFD (5.2) is always there.
    pid = clone(ChildMain, stack.Top(),
                CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &plan, &pidfd);
    if (pid < 0) clone_errno = errno;
  }
  if (pid < 0) return MakeError("clone", request.argv[0], clone_errno);
  UniqueFd owned_pidfd(pidfd);

  // Our copy of the write end must go, or the read below never sees EOF.
  error_write.Reset();
  ChildFailure failure{};
  ssize_t got;
  do {
    got = read(error_read.Get(), &failure, sizeof(failure));
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof(failure))) {
    Reap(pid);
    return ErrorFromChild(failure, request, creds);
  }
  if (got != 0) {
    // A short record or a failed read: the exec did not happen cleanly.
    int error = got < 0 ? errno : EIO;
    kill(pid, SIGKILL);
    Reap(pid);
    return MakeError("exec", request.argv[0], error);
  }
  return SpawnedProcess{pid, std::move(owned_pidfd)};
}

}  // namespace workerd
