#include "daemon/watcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <fstream>
#include <utility>

namespace workerd {
namespace {

// Editors save by writing a new file and renaming it over the old one
// (IN_MOVED_TO), or by writing in place (IN_CLOSE_WRITE); IN_CREATE,
// IN_DELETE and IN_MOVED_FROM tell of files and directories that come and
// go. IN_EXCL_UNLINK: nothing about files already unlinked.
constexpr std::uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                  IN_CREATE | IN_DELETE | IN_ONLYDIR |
                                  IN_EXCL_UNLINK;

// Reads per wakeup before the loop gets a turn; the rest waits for the
// next one (the source is level-triggered).
constexpr int kMaxReadsPerWakeup = 16;

std::string Join(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

// Whether `path` is `dir` or under it.
bool Within(const std::string& path, const std::string& dir) {
  if (dir.empty()) return true;
  return path.starts_with(dir) &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

// A sysctl's value for a message; "" when it cannot be read.
std::string Sysctl(const char* path) {
  std::ifstream in(path);
  std::string value;
  in >> value;
  return value;
}

std::string LimitHint(const char* name, const char* example) {
  const std::string value =
      Sysctl((std::string("/proc/sys/fs/inotify/") + name).c_str());
  return fmt::format("{}; raise it, e.g. with sysctl -w fs.inotify.{}={}",
                     value.empty()
                         ? fmt::format("(fs.inotify.{})", name)
                         : fmt::format("(fs.inotify.{} = {})", name, value),
                     name, example);
}

std::string WatchError(const std::string& path, int error) {
  if (error == ENOSPC) {
    return fmt::format(
        "cannot watch {}: the limit of inotify watches is "
        "reached {}, or watch fewer directories",
        path, LimitHint("max_user_watches", "524288"));
  }
  return fmt::format("cannot watch {}: {}", path, strerror(error));
}

}  // namespace

std::string WatchTrigger::Describe() const {
  constexpr std::string_view kOverflow = "more than inotify could queue";
  if (overflowed) {
    if (path.empty()) return fmt::format("many files changed ({})", kOverflow);
    return fmt::format("{} changed (and many more: {})", path, kOverflow);
  }
  if (changes <= 1) return path + " changed";
  return fmt::format("{} changed (and {} more)", path, changes - 1);
}

std::variant<std::unique_ptr<Watcher>, std::string> Watcher::Start(
    EventLoop& loop, WatcherOptions options, ChangeCallback on_change,
    ErrorCallback on_error) {
  struct stat info;
  if (::stat(options.directory.c_str(), &info) != 0) {
    return fmt::format("cannot watch {}: {}", options.directory,
                       strerror(errno));
  }
  if (!S_ISDIR(info.st_mode)) {
    return fmt::format("cannot watch {}: {}", options.directory,
                       strerror(ENOTDIR));
  }
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) {
    if (errno == EMFILE) {
      return fmt::format(
          "cannot watch {}: the limit of inotify instances is reached {}",
          options.directory, LimitHint("max_user_instances", "1024"));
    }
    return fmt::format("cannot watch {}: inotify_init1: {}", options.directory,
                       strerror(errno));
  }
  std::unique_ptr<Watcher> watcher(
      new Watcher(loop, std::move(options), std::move(fd), std::move(on_change),
                  std::move(on_error)));
  if (std::string error = watcher->AddTree("", false); !error.empty()) {
    return error;
  }
  if (watcher->paths_.empty() && !watcher->options_.watch.empty()) {
    // Gone between the stat above and the watch.
    return fmt::format("cannot watch {}: {}", watcher->options_.directory,
                       strerror(ENOENT));
  }
  try {
    watcher->io_ =
        loop.AddIo(watcher->fd_.Get(), EPOLLIN,
                   [w = watcher.get()](uint32_t) { w->OnReadable(); });
  } catch (const std::exception& e) {
    return fmt::format("cannot watch {}: {}", watcher->options_.directory,
                       e.what());
  }
  return watcher;
}

std::variant<std::unique_ptr<Watcher>, std::string> Watcher::Start(
    EventLoop& loop, const ProgramSpec& program, ChangeCallback on_change,
    ErrorCallback on_error) {
  if (program.watch.empty() || program.watch_directory.empty()) {
    return fmt::format("program {} has nothing to watch", program.name);
  }
  WatcherOptions options;
  options.directory = program.watch_directory;
  options.debounce = program.watch_debounce;
  for (const auto& [written, patterns] :
       {std::pair{&program.watch, &options.watch},
        std::pair{&program.ignore, &options.ignore}}) {
    for (const std::string& text : *written) {
      auto parsed = WatchPattern::Parse(text);
      if (const std::string* error = std::get_if<std::string>(&parsed)) {
        return *error;  // the loader let it through: a bug, but say it
      }
      patterns->push_back(std::get<WatchPattern>(std::move(parsed)));
    }
  }
  return Start(loop, std::move(options), std::move(on_change),
               std::move(on_error));
}

Watcher::Watcher(EventLoop& loop, WatcherOptions options, UniqueFd fd,
                 ChangeCallback on_change, ErrorCallback on_error)
    : loop_(loop),
      options_(std::move(options)),
      fd_(std::move(fd)),
      on_change_(std::move(on_change)),
      on_error_(std::move(on_error)) {
  for (const WatchPattern& pattern : options_.watch) {
    if (std::string root = pattern.Root(); !root.empty()) {
      roots_.push_back(std::move(root));
    }
  }
}

// The sources go before the inotify fd they watch (members are destroyed
// in reverse order, and io_ is declared after fd_).
Watcher::~Watcher() = default;

std::string Watcher::Absolute(const std::string& relative) const {
  if (relative.empty()) return options_.directory;
  if (options_.directory == "/") return "/" + relative;
  return options_.directory + "/" + relative;
}

bool Watcher::Wanted(const std::string& relative_dir) const {
  return WatchDirectoryMatters(options_.watch, options_.ignore, relative_dir);
}

bool Watcher::OnTheWayToARoot(const std::string& relative_dir) const {
  return std::any_of(
      roots_.begin(), roots_.end(),
      [&](const std::string& root) { return Within(root, relative_dir); });
}

std::string Watcher::AddTree(const std::string& relative_dir,
                             bool report_files) {
  std::vector<std::string> stack = {relative_dir};
  // Watch descriptors met in this walk: the same directory reached twice
  // (a bind mount, a followed link) is looked into once.
  std::set<int> seen;
  while (!stack.empty()) {
    const std::string dir = std::move(stack.back());
    stack.pop_back();
    if (!Wanted(dir)) continue;
    // Links are followed only on the way to a root a pattern names.
    const bool follow = dir.empty() || OnTheWayToARoot(dir);
    const std::string path = Absolute(dir);
    const int wd = ::inotify_add_watch(fd_.Get(), path.c_str(),
                                       kEvents | (follow ? 0 : IN_DONT_FOLLOW));
    if (wd < 0) {
      const int error = errno;
      // Gone or replaced since it was seen, or a link not followed.
      if (error == ENOENT || error == ENOTDIR || error == ELOOP) continue;
      // Not ours to read: only the program's directory itself must be.
      if (error == EACCES && !dir.empty()) continue;
      return WatchError(path, error);
    }
    if (!seen.insert(wd).second) continue;
    auto [entry, added] = paths_.try_emplace(wd, dir);
    if (!added && entry->second != dir) {
      // Watched already under another name: keep the first.
      continue;
    }
    if (added && paths_.size() > options_.max_directories) {
      ::inotify_rm_watch(fd_.Get(), wd);
      paths_.erase(entry);
      return fmt::format(
          "cannot watch {}: more than {} directories would be watched; "
          "narrow watch, or leave directories out with ignore",
          options_.directory, options_.max_directories);
    }
    const int dir_fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                                (follow ? 0 : O_NOFOLLOW));
    if (dir_fd < 0) continue;
    DIR* listing = ::fdopendir(dir_fd);
    if (listing == nullptr) {
      ::close(dir_fd);
      continue;
    }
    while (const dirent* found = ::readdir(listing)) {
      const std::string_view name = found->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = Join(dir, name);
      unsigned char type = found->d_type;
      if (type == DT_UNKNOWN) {
        struct stat info;
        if (::fstatat(dir_fd, found->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) {
          continue;
        }
        type = S_ISDIR(info.st_mode)   ? DT_DIR
               : S_ISLNK(info.st_mode) ? DT_LNK
                                       : DT_REG;
      }
      bool is_dir = type == DT_DIR;
      if (type == DT_LNK && OnTheWayToARoot(child)) {
        struct stat info;
        is_dir = ::fstatat(dir_fd, found->d_name, &info, 0) == 0 &&
                 S_ISDIR(info.st_mode);
      }
      if (report_files &&
          WatchMatters(options_.watch, options_.ignore, child)) {
        Change(child);
      }
      if (is_dir) stack.push_back(child);
    }
    ::closedir(listing);
  }
  return "";
}

void Watcher::RemoveTree(const std::string& relative_dir) {
  for (auto it = paths_.begin(); it != paths_.end();) {
    if (Within(it->second, relative_dir)) {
      ::inotify_rm_watch(fd_.Get(), it->first);
      it = paths_.erase(it);
    } else {
      ++it;
    }
  }
}

void Watcher::OnReadable() {
  // Room for many events at once; inotify_event's alignment for the casts.
  alignas(inotify_event) char buffer[64 * 1024];
  bool walk_again = false;
  std::string error;
  for (int reads = 0; reads < kMaxReadsPerWakeup; ++reads) {
    const ssize_t n = ::read(fd_.Get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      // Never expected; stop rather than spin on a readable fd.
      error = fmt::format(
          "stopped watching {}: reading inotify events "
          "failed: {}",
          options_.directory, n < 0 ? strerror(errno) : "end of file");
      io_.Reset();
      break;
    }
    for (const char* at = buffer; at < buffer + n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(at);
      at += sizeof(inotify_event) + event->len;
      if (event->mask & IN_Q_OVERFLOW) {
        Change("", /*overflow=*/true);
        walk_again = true;
        continue;
      }
      auto watched = paths_.find(event->wd);
      if (watched == paths_.end()) continue;  // removed meanwhile
      if (event->mask & IN_IGNORED) {
        paths_.erase(watched);
        continue;
      }
      if (event->len == 0) continue;  // about the directory itself
      const std::string path = Join(watched->second, event->name);
      const bool matters = WatchMatters(options_.watch, options_.ignore, path);
      if (!(event->mask & IN_ISDIR)) {
        if (matters) Change(path);
        continue;
      }
      if (event->mask & (IN_CREATE | IN_MOVED_TO)) {
        if (matters) Change(path);
        std::string problem = AddTree(path, /*report_files=*/true);
        if (error.empty()) error = std::move(problem);
      } else if (event->mask & (IN_MOVED_FROM | IN_DELETE)) {
        // A directory moved away takes its watched files with it, without
        // a word about each.
        const bool was_watched = std::any_of(
            paths_.begin(), paths_.end(),
            [&](const auto& entry) { return entry.second == path; });
        RemoveTree(path);
        if (matters || ((event->mask & IN_MOVED_FROM) && was_watched)) {
          Change(path);
        }
      }
    }
  }
  if (walk_again) {
    std::string problem = AddTree("", /*report_files=*/false);
    if (error.empty()) error = std::move(problem);
  }
  if (!error.empty() && on_error_) {
    ErrorCallback callback = on_error_;  // may destroy this watcher
    callback(error);
  }
}

void Watcher::Change(const std::string& path, bool overflow) {
  const TimePoint now = loop_.Now();
  if (pending_changes_ == 0) {
    first_change_ = now;
    first_path_ = overflow ? "" : path;
  }
  bool news = false;
  if (overflow) {
    news = !overflowed_;
    overflowed_ = true;
  } else if (changed_.size() < kMaxRememberedChanges) {
    news = changed_.insert(path).second;
  } else {
    news = !changed_.contains(path);
  }
  if (news) ++pending_changes_;
  // Each change pushes the timer out, within a cap from the first.
  const TimePoint deadline =
      std::min(now + options_.debounce, first_change_ + 10 * options_.debounce);
  if (!timer_) {
    timer_ = loop_.AddTimer(deadline, [this] { Fire(); });
  } else {
    loop_.Reschedule(timer_, deadline);
  }
}

void Watcher::Fire() {
  if (pending_changes_ == 0) return;
  WatchTrigger trigger{std::move(first_path_), pending_changes_, overflowed_};
  first_path_.clear();
  changed_.clear();
  pending_changes_ = 0;
  overflowed_ = false;
  ChangeCallback callback = on_change_;  // may destroy this watcher
  callback(trigger);
}

}  // namespace workerd
