// Development mode's file watcher: one inotify instance on the event loop
// that watches the directories under a program's `watch` patterns and
// calls back, debounced, when a file that matters changed. Library code: it
// never logs; what went wrong comes back as a sentence for the caller to
// log with the program's name.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "daemon/config.h"
#include "daemon/event_loop.h"
#include "daemon/unique_fd.h"
#include "daemon/watch_pattern.h"

namespace workerd {

// A watcher gives up rather than watch more directories than this: a
// `watch` of "**" in a directory such as / is a mistake, not a project.
inline constexpr std::size_t kMaxWatchedDirectories = 65536;
// Distinct changed paths remembered for one callback; more are counted
// but not told apart.
inline constexpr std::size_t kMaxRememberedChanges = 4096;

// The changes folded into one callback.
struct WatchTrigger {
  // The first change that mattered, relative to the watched directory
  // ("src/app.py"); empty when the first news was an overflow.
  std::string path;
  // Distinct paths that changed, `path` included (at least 1; an overflow
  // counts as one).
  std::size_t changes = 0;
  // The kernel dropped events (IN_Q_OVERFLOW): many files changed, and
  // which ones is unknown.
  bool overflowed = false;

  // For the log: "src/app.py changed", "src/app.py changed (and 9 more)",
  // "many files changed (more than inotify could queue)".
  std::string Describe() const;
};

struct WatcherOptions {
  // Absolute; the patterns are relative to it.
  std::string directory;
  std::vector<WatchPattern> watch;
  std::vector<WatchPattern> ignore;
  Duration debounce{200};
  std::size_t max_directories = kMaxWatchedDirectories;
};

// Watches every directory under `directory` that WatchDirectoryMatters
// says is worth it, and the program directory itself, with one inotify
// watch each (IN_CLOSE_WRITE, IN_MOVED_TO, IN_MOVED_FROM, IN_CREATE,
// IN_DELETE: editors save by renaming a new file over the old one, so
// files are never watched themselves). Symbolic links to directories are
// followed only where a pattern names them on the way to its Root(), so a
// link back up cannot loop. A directory that appears later is watched as
// it appears, and the files already in it count as changes (they may have
// been written before the watch was there); one that goes away or is moved
// out stops being watched.
//
// A change is a path, relative to `directory`, that WatchMatters. The
// first change arms a timer of `debounce`; each further one pushes it out
// to `debounce` after itself, but never past 10 x `debounce` after the
// first, so that a steady stream of changes still fires. Then the callback
// gets the first changed path and how many were folded in. IN_Q_OVERFLOW
// counts as a change, and the directories are walked again in case new
// ones were missed.
class Watcher {
 public:
  using ChangeCallback = std::function<void(const WatchTrigger&)>;
  // A directory that appeared after the start could not be watched (e.g.
  // the inotify limit was reached); the watcher goes on without it. The
  // sentence names the directory and what to do.
  using ErrorCallback = std::function<void(const std::string&)>;

  // A running watcher, or a sentence such as
  // `cannot watch /srv/app/src: the limit of inotify watches is reached
  // (fs.inotify.max_user_watches = 8192); raise it, e.g. sysctl -w
  // fs.inotify.max_user_watches=524288`. Both callbacks run on the loop
  // and may destroy the watcher.
  static std::variant<std::unique_ptr<Watcher>, std::string> Start(
      EventLoop& loop, WatcherOptions options, ChangeCallback on_change,
      ErrorCallback on_error = {});
  // For a loaded program with `watch`: its watch_directory, watch, ignore
  // and watch_debounce.
  static std::variant<std::unique_ptr<Watcher>, std::string> Start(
      EventLoop& loop, const ProgramSpec& program, ChangeCallback on_change,
      ErrorCallback on_error = {});

  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // How many directories have an inotify watch.
  std::size_t WatchedDirectories() const { return paths_.size(); }
  // Whether changes are waiting for the debounce timer.
  bool Pending() const { return pending_changes_ > 0; }

 private:
  Watcher(EventLoop& loop, WatcherOptions options, UniqueFd fd,
          ChangeCallback on_change, ErrorCallback on_error);

  // Watches `relative_dir` and every directory under it that matters;
  // with `report_files`, the files found count as changes. "" on success,
  // else the first sentence of what failed badly (a limit); directories
  // that vanish or cannot be read meanwhile are skipped.
  std::string AddTree(const std::string& relative_dir, bool report_files);
  // Forgets the watches of `relative_dir` and of everything under it.
  void RemoveTree(const std::string& relative_dir);
  bool Wanted(const std::string& relative_dir) const;
  // Whether a pattern names this directory on the way to its root, so a
  // symbolic link there is followed.
  bool OnTheWayToARoot(const std::string& relative_dir) const;
  std::string Absolute(const std::string& relative) const;

  void OnReadable();
  // One path changed (it matters); `overflow`: the kernel lost count.
  void Change(const std::string& path, bool overflow = false);
  void Fire();

  EventLoop& loop_;
  WatcherOptions options_;
  std::vector<std::string> roots_;  // Root() of each watch pattern
  UniqueFd fd_;
  EventSource io_;
  EventSource timer_;
  ChangeCallback on_change_;
  ErrorCallback on_error_;
  std::unordered_map<int, std::string> paths_;  // watch descriptor -> dir

  // The changes waiting for the timer.
  std::size_t pending_changes_ = 0;
  std::string first_path_;
  std::set<std::string> changed_;
  bool overflowed_ = false;
  TimePoint first_change_;
};

}  // namespace workerd
