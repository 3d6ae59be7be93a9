// The listening sockets of workers.toml's [socket.NAME] tables, owned by
// workerd so that workers can come and go while the sockets stay open.
// `shared` sockets have one listener for every worker of every program
// that lists them; `reuseport` sockets have one SO_REUSEPORT listener per
// (program, slot), kept across that slot's restarts.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/unique_fd.h"

namespace workerd {

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
  // Listeners: close-on-exec, blocking, valid until ReleaseSlots drops the
  // slot or Listeners goes away. A shared socket's fd is the same for every
  // worker (one open file description: O_NONBLOCK set by one worker is set
  // for all).
  std::variant<WorkerSockets, std::string> ForWorker(const ProgramSpec& spec,
                                                     int instance);

  // Closes the reuseport listeners of `program`'s slots numbered `from`
  // and up (the slots were forgotten after a scale down). A listener that
  // no worker accepts on still gets its share of connections, so a slot
  // that will not run again should be released. The socket passed by
  // systemd for a reuseport socket is never closed here (systemd keeps it
  // open anyway).
  void ReleaseSlots(const std::string& program, int from);
  // Closes the reuseport listeners of one slot (its worker stopped, exited
  // or gave up); the slot's next start binds new ones.
  void ReleaseSlot(const std::string& program, int instance);

  // "127.0.0.1:8080", "[::1]:8080" or "unix:/run/app.sock" as bound (a
  // port of 0 resolved), for logs and tests; the configured address while
  // nothing is bound; empty for an unknown socket.
  std::string BoundAddress(const std::string& socket) const;

 private:
  struct Socket {
    SocketSpec spec;
    // kShared: the one listener. kReuseport: the socket passed by systemd,
    // if any, which serves slot 0 of `adopted_program` and stays open
    // until the end (systemd holds it too, so closing ours would leave it
    // in the SO_REUSEPORT group with no one to accept).
    UniqueFd listener;
    bool adopted = false;         // from systemd; its file is never unlinked
    std::string adopted_program;  // kReuseport: the first program listing it
    // TCP: where further listeners bind, once the first one resolved the
    // address (port 0, or systemd's own address).
    sockaddr_storage address{};
    socklen_t address_length = 0;
    std::string unix_path;  // a file we created, unlinked at the end
    ino_t unix_inode = 0;
  };
  // (socket name, program name, instance) -> that slot's listener.
  using SlotKey = std::tuple<std::string, std::string, int>;

  Socket* Find(const std::string& name);
  const Socket* Find(const std::string& name) const;
  std::variant<int, std::string> SlotListener(Socket& socket,
                                              const std::string& program,
                                              int instance);
  void Close();

  std::vector<Socket> sockets_;
  std::map<SlotKey, UniqueFd> slot_listeners_;
};

}  // namespace workerd
