// The listening sockets of workers.toml's [socket.NAME] tables, owned by
// workerd so that workers can come and go while the sockets stay open.
// `shared` sockets have one listener for every worker of every program
// that lists them; `reuseport` sockets have one SO_REUSEPORT listener per
// (program, slot), kept across that slot's restarts. A reload rebinds only
// the sockets whose definition changed; the ones it retires stay open for
// the workers that still have them.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/unique_fd.h"

namespace workerd {

struct ConfigDiff;

// Sockets passed to workerd itself by its own supervisor (systemd's
// LISTEN_FDS protocol, e.g. a .socket unit or systemd-socket-activate):
// each fd with its FileDescriptorName=.
struct InheritedSocket {
  std::string name;
  UniqueFd fd;
};

// Takes the sockets passed in workerd's environment (LISTEN_PID must be
// ours), marks them close-on-exec and removes LISTEN_* from the
// environment. Empty when there are none.
std::vector<InheritedSocket> TakeInheritedSockets();

// The fds a worker gets at 3, 4, ... (in the order of its program's
// `sockets`) and their names for LISTEN_FDNAMES.
struct WorkerSockets {
  std::vector<int> fds;
  std::vector<std::string> names;
  // One per fd: while a hold exists, its fd stays open in workerd (and a
  // Unix socket's file stays in place), even after a reload removed or
  // replaced the socket or ReleaseSlot dropped the slot. A worker keeps
  // them for as long as its process runs.
  std::vector<std::shared_ptr<const void>> holds;
};

class Listeners {
 public:
  Listeners() = default;
  Listeners(Listeners&&) noexcept = default;
  Listeners& operator=(Listeners&&) noexcept;
  ~Listeners();

  // Binds every socket of `config` before any worker starts, adopting an
  // inherited socket whose name matches instead of binding it. Reuseport
  // sockets get listeners for the initial `workers` of each program that
  // lists them. Inherited sockets that match no [socket.NAME] are closed
  // with a warning. Errors are sentences naming the socket and address:
  // `socket "http": cannot listen on 127.0.0.1:8080: Address already in
  // use`. On error nothing stays bound.
  static std::variant<Listeners, std::string> Open(
      const Config& config, std::vector<InheritedSocket> inherited = {});

  // The sockets of `spec`'s instance, binding a reuseport listener for a
  // slot that has none yet (after a scale up). The fds stay owned by
  // Listeners: close-on-exec, blocking, valid while the result's holds
  // exist (or, without them, until a reload retires the socket, ReleaseSlots
  // drops the slot or Listeners goes away). A shared socket's fd is the same
  // for every worker (one open file description: O_NONBLOCK set by one
  // worker is set for all).
  std::variant<WorkerSockets, std::string> ForWorker(const ProgramSpec& spec,
                                                     int instance);

  // Closes the reuseport listeners of `program`'s slots numbered `from`
  // and up (the slots were forgotten after a scale down), each once no
  // hold of it is left. A listener that no worker accepts on still gets its
  // share of connections, so a slot that will not run again should be released.
  // The socket passed by systemd for a reuseport socket is never closed here
  // (systemd keeps it open anyway).
  void ReleaseSlots(const std::string& program, int from);
  // Closes the reuseport listeners of one slot (its worker stopped, exited
  // or gave up); the slot's next start binds new ones.
  void ReleaseSlot(const std::string& program, int instance);
  // (A removed program needs no call of its own: ReleaseSlots(program, 0).)

  // Applies `diff.sockets` (DiffConfigs of the running config and `next`),
  // binding everything new before it changes anything:
  //  - kUnchanged: untouched, same fds and slot listeners.
  //  - kAdded: bound as Open binds (never adopted: systemd passes sockets
  //    only at startup), reuseport ones with listeners for the `workers` of
  //    each program of `next` that lists them, so that a taken address
  //    fails the reload rather than a later start.
  //  - kChanged in backlog, mode, owner or group only: applied to the same
  //    fds (listen() again, chmod/chown of the Unix socket file); a socket
  //    passed by systemd keeps systemd's backlog and file.
  //  - kChanged otherwise: a new listener (and slot listeners, as for
  //    kAdded) takes the name, and the old socket is retired.
  //  - kRemoved: retired.
  // A retired socket leaves Listeners (and its slot listeners the map), but
  // stays open, with its Unix socket file, until the last hold of it is
  // dropped; one passed by systemd is dropped with a warning, as systemd
  // still holds it. On error, a sentence naming the socket like Open's
  // (with a hint when workerd itself still listens on the address), and
  // nothing changed: whatever was bound is closed again.
  std::optional<std::string> Reload(const Config& next, const ConfigDiff& diff);

  // "127.0.0.1:8080", "[::1]:8080" or "unix:/run/app.sock" as bound (a
  // port of 0 resolved), for logs and tests; the configured address while
  // nothing is bound; empty for an unknown socket.
  std::string BoundAddress(const std::string& socket) const;

 private:
  // One bound [socket.NAME], shared by Listeners and the workers' holds;
  // the last owner closes it and removes its Unix socket file.
  struct Socket;
  // A listener's fd, its owner alive while the pointer is.
  using Listener = std::shared_ptr<const UniqueFd>;
  // (socket name, program name, instance) -> that slot's listener.
  using SlotKey = std::tuple<std::string, std::string, int>;
  using SlotMap = std::map<SlotKey, Listener>;

  static std::variant<std::shared_ptr<Socket>, std::string> Bind(
      const SocketSpec& spec, UniqueFd passed, const Config& config,
      const std::string& in_use_hint);
  static std::optional<std::string> BindSlots(
      const std::shared_ptr<Socket>& socket, const Config& config,
      SlotMap& slots, const std::string& in_use_hint);
  static std::variant<Listener, std::string> SlotListener(
      const std::shared_ptr<Socket>& socket, SlotMap& slots,
      const std::string& program, int instance, const std::string& in_use_hint);
  std::shared_ptr<Socket> Find(const std::string& name) const;
  std::string InUseHint(const SocketSpec& spec) const;
  std::optional<std::string> ChangeInPlace(
      const std::shared_ptr<Socket>& socket, const SocketSpec& spec,
      std::vector<std::function<void()>>& undo);
  void Retire(const std::shared_ptr<Socket>& socket, const Config& next);

  std::vector<std::shared_ptr<Socket>> sockets_;  // in the config's order
  SlotMap slot_listeners_;
  // Sockets a reload retired, until their last hold goes: for the hint of
  // an address that workerd still listens on.
  std::vector<std::weak_ptr<Socket>> retired_;
};

}  // namespace workerd
