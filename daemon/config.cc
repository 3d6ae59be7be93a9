#include "daemon/config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <functional>
#include <sstream>
#include <variant>

#include "daemon/command_split.h"
#include "daemon/duration.h"
#include "daemon/expand.h"
#include "daemon/signals.h"
#include "daemon/suggest.h"
#include "daemon/unique_fd.h"

namespace workerd {
namespace {

namespace fs = std::filesystem;

template <typename T>
struct Choice {
  std::string_view name;
  T value;
};

constexpr Choice<RestartPolicy> kRestartPolicies[] = {
    {"always", RestartPolicy::kAlways},
    {"on-failure", RestartPolicy::kOnFailure},
    {"never", RestartPolicy::kNever}};

constexpr Choice<LogLevel> kLogLevels[] = {{"trace", LogLevel::kTrace},
                                           {"debug", LogLevel::kDebug},
                                           {"info", LogLevel::kInfo},
                                           {"warn", LogLevel::kWarn},
                                           {"error", LogLevel::kError}};

constexpr Choice<Balance> kBalances[] = {{"shared", Balance::kShared},
                                         {"reuseport", Balance::kReuseport}};

constexpr Choice<Readiness> kReadiness[] = {{"exec", Readiness::kExec},
                                            {"notify", Readiness::kNotify}};

// Set by workerd in every worker's environment: a value from the file would
// either be overwritten or break socket activation, readiness and the
// watchdog.
constexpr std::string_view kReservedEnv[] = {
    "LISTEN_FDS",    "LISTEN_PID",   "LISTEN_FDNAMES",  "NOTIFY_SOCKET",
    "WATCHDOG_USEC", "WATCHDOG_PID", "WORKERD_PROGRAM", "WORKERD_INSTANCE"};

SourcePosition PositionOf(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line),
          static_cast<int>(region.begin.column)};
}

bool IsBareKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// A key as TOML needs it written inside a dotted name: web, "my.app".
std::string TomlKey(std::string_view key) {
  return IsBareKey(key) ? std::string(key) : Quoted(key);
}

// A section header for messages: [deamon], [programs.web].
std::string Header(std::string_view name, std::string_view child) {
  std::string header = "[" + TomlKey(name);
  if (!child.empty()) header += "." + TomlKey(child);
  return header + "]";
}

bool Contains(std::string_view text, char c) {
  return text.find(c) != std::string_view::npos;
}

// What a value is, for "..., not <this>" when its type is wrong.
std::string Describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "the string " + Quoted(node.as_string()->get());
    case toml::node_type::integer: {
      // toml++ prints the integer as written: 0o660 stays 0o660.
      std::ostringstream out;
      out << "the integer " << *node.as_integer();
      return out.str();
    }
    case toml::node_type::floating_point: {
      // Shortest text that reads back the same, not toml++'s 17 digits.
      char digits[32];
      const double value = node.as_floating_point()->get();
      const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
      std::string text(digits, end);
      if (text.find_first_of(".eni") == std::string::npos) text += ".0";
      return "the float " + text;
    }
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// The errors of one load. They are sorted into file order at the end, since
// the loader reads keys in its own order.
class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}

  void Add(SourcePosition position, std::string message) {
    errors_.push_back({file_, position, std::move(message)});
  }
  void Add(const toml::node& at, std::string message) {
    Add(PositionOf(at.source()), std::move(message));
  }
  void Add(const toml::key& at, std::string message) {
    Add(PositionOf(at.source()), std::move(message));
  }

  std::size_t Count() const { return errors_.size(); }

  std::vector<ConfigError> Sorted() && {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                       return std::pair(a.position.line, a.position.column) <
                              std::pair(b.position.line, b.position.column);
                     });
    return std::move(errors_);
  }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// Reads one TOML table for the loader: hands out values by key, checks their
// types (a wrong type is an error, never a silent default), and remembers
// every key asked for, so that whatever is left over is reported as unknown,
// with the asked-for keys as the suggestions. The typed readers return the
// value's node when it is there and valid (for further checks at its
// position), else nullptr; on a bad value they report it and leave `*out`.
class TableReader {
 public:
  // `name`: the table's dotted name as in a header ("program.web.backoff").
  // `prefix`: put before keys in messages ("backoff.").
  TableReader(Errors& errors, const toml::table& table, std::string name,
              std::string prefix = "")
      : errors_(errors),
        table_(table),
        name_(std::move(name)),
        prefix_(std::move(prefix)) {}

  const std::string& name() const { return name_; }

  // The key as messages name it: "workers", "backoff.initial".
  std::string Name(std::string_view key) const {
    return prefix_ + TomlKey(key);
  }

  const toml::node* Find(std::string_view key) {
    known_.emplace_back(key);
    return table_.get(key);
  }

  void Error(const toml::node& at, std::string message) {
    errors_.Add(at, std::move(message));
  }

  // "<key> must be <expected>, not <what the value is>".
  void Mismatch(const toml::node& at, std::string_view key,
                std::string_view expected) {
    Error(at, Name(key) + " must be " + std::string(expected) + ", not " +
                  Describe(at));
  }

  const toml::node* String(std::string_view key, std::string* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return nullptr;
    if (!node->is_string()) {
      Mismatch(*node, key, "a string");
      return nullptr;
    }
    const std::string& value = node->as_string()->get();
    // A NUL would silently cut the string short once it reaches the kernel.
    if (Contains(value, '\0')) {
      Error(*node, Name(key) + " must not contain a NUL character");
      return nullptr;
    }
    *out = value;
    return node;
  }

  const toml::node* Integer(std::string_view key, int min, int max, int* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return nullptr;
    const std::string expected =
        "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!node->is_integer()) {
      Mismatch(*node, key, expected);
      return nullptr;
    }
    const std::int64_t value = node->as_integer()->get();
    if (value < min || value > max) {
      Error(*node, Name(key) + " must be " + expected + ", not " +
                       std::to_string(value));
      return nullptr;
    }
    *out = static_cast<int>(value);
    return node;
  }

  const toml::node* Bool(std::string_view key, bool* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return nullptr;
    if (!node->is_boolean()) {
      Mismatch(*node, key, "true or false");
      return nullptr;
    }
    *out = node->as_boolean()->get();
    return node;
  }

  // `allow_zero`: whether "0s" makes sense for this key.
  const toml::node* DurationAt(std::string_view key, bool allow_zero,
                               Duration* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return nullptr;
    if (!node->is_string()) {
      Mismatch(*node, key, "a duration like " + std::string(kDurationExamples));
      return nullptr;
    }
    std::string error;
    const std::optional<Duration> value =
        ParseDuration(node->as_string()->get(), &error);
    if (!value) {
      Error(*node, Name(key) + ": " + error);
      return nullptr;
    }
    if (!allow_zero && value->count() == 0) {
      Error(*node, Name(key) + " must be longer than 0s");
      return nullptr;
    }
    *out = *value;
    return node;
  }

  template <typename T, std::size_t N>
  const toml::node* OneOf(std::string_view key, const Choice<T> (&choices)[N],
                          T* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return nullptr;
    std::vector<std::string_view> names;
    std::string expected = "one of ";
    for (const Choice<T>& choice : choices) {
      if (!names.empty()) expected += ", ";
      expected += Quoted(choice.name);
      names.push_back(choice.name);
    }
    if (!node->is_string()) {
      Mismatch(*node, key, expected);
      return nullptr;
    }
    const std::string& value = node->as_string()->get();
    for (const Choice<T>& choice : choices) {
      if (value == choice.name) {
        *out = choice.value;
        return node;
      }
    }
    Error(*node, Name(key) + " must be " + expected + ", not " + Quoted(value) +
                     DidYouMean(Suggest(value, names)));
    return nullptr;
  }

  // `example` shows the expected shape: `{ initial = "100ms", max = "30s" }`.
  const toml::table* Table(std::string_view key, std::string_view example) {
    const toml::node* node = Find(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      Mismatch(*node, key, "a table like " + std::string(example));
      return nullptr;
    }
    return node->as_table();
  }

  // Keys nobody asked for, in toml++'s (alphabetical) order; errors are put
  // in file order at the end anyway.
  std::vector<std::pair<const toml::key*, const toml::node*>> UnknownKeys()
      const {
    std::vector<std::pair<const toml::key*, const toml::node*>> unknown;
    for (auto&& [key, node] : table_) {
      if (std::find(known_.begin(), known_.end(), key.str()) == known_.end()) {
        unknown.emplace_back(&key, &node);
      }
    }
    return unknown;
  }

  // `hint`, when set, may explain a key that has no suggestion.
  void ReportUnknownKeys(
      const std::function<std::string(std::string_view key,
                                      const toml::node& node)>& hint = {}) {
    const std::vector<std::string_view> candidates(known_.begin(),
                                                   known_.end());
    for (const auto& [key, node] : UnknownKeys()) {
      const std::optional<std::string> suggestion =
          Suggest(key->str(), candidates);
      errors_.Add(*key, "unknown key " + Quoted(key->str()) + " in [" + name_ +
                            "]" +
                            (suggestion || !hint ? DidYouMean(suggestion)
                                                 : hint(key->str(), *node)));
    }
  }

  static std::string DidYouMean(const std::optional<std::string>& suggestion) {
    return suggestion ? " (did you mean " + Quoted(*suggestion) + "?)" : "";
  }

 private:
  Errors& errors_;
  const toml::table& table_;
  std::string name_;
  std::string prefix_;
  std::vector<std::string> known_;
};

// Looks `name` up with a getpwnam_r-style function, growing the buffer as it
// asks. Returns 0, ENOENT when there is no such entry, or the lookup's error.
template <typename Entry, typename Function>
int LookUp(Function function, const std::string& name, Entry* entry,
           std::vector<char>* buffer) {
  buffer->resize(1024);
  while (true) {
    Entry* result = nullptr;
    const int error =
        function(name.c_str(), entry, buffer->data(), buffer->size(), &result);
    if (error == ERANGE && buffer->size() < (1u << 20)) {
      buffer->resize(buffer->size() * 2);
      continue;
    }
    // glibc may also say "not found" with these (getpwnam_r(3)).
    if (error == ENOENT || error == ESRCH || error == EBADF || error == EPERM) {
      return ENOENT;
    }
    if (error != 0) return error;
    return result == nullptr ? ENOENT : 0;
  }
}

// What a parse error of toml++ is inside of: arrays and inline tables being
// written, and a string. Just enough lexing to explain an error.
struct Opening {
  char bracket = 0;  // '[', '{', or the quote that opened a string
  std::string_view closer;
  int line = 0;
  int column = 0;
};

struct Openings {
  std::vector<Opening> brackets;  // innermost last
  std::optional<Opening> string;  // a string open at the stop position
};

Openings ScanOpenings(std::string_view text, SourcePosition stop) {
  Openings open;
  int line = 1, column = 1;
  bool line_blank = true;  // nothing but blanks before `i` on its line
  std::size_t i = 0;
  // Columns count characters, like toml++'s.
  auto step = [&] {
    const char c = text[i++];
    if (c == '\n') {
      ++line;
      column = 1;
      line_blank = true;
      return;
    }
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;
    if (c != ' ' && c != '\t') line_blank = false;
  };
  auto stopped = [&] {
    return i >= text.size() || line > stop.line ||
           (line == stop.line && column >= stop.column);
  };
  auto skip_line = [&] {
    while (!stopped() && text[i] != '\n') step();
  };
  while (!stopped()) {
    const char c = text[i];
    if (c == '#') {
      skip_line();
    } else if (c == '"' || c == '\'') {
      const bool multi_line = text.substr(i, 3) == std::string(3, c);
      Opening string{c, text.substr(i, multi_line ? 3 : 1), line, column};
      for (std::size_t n = 0; n < string.closer.size(); ++n) step();
      while (true) {
        if (stopped()) {
          open.string = string;
          return open;
        }
        if (!multi_line && text[i] == '\n') break;  // toml++ stops there
        if (text.substr(i).starts_with(string.closer)) {
          for (std::size_t n = 0; n < string.closer.size(); ++n) step();
          break;
        }
        if (c == '"' && text[i] == '\\' && i + 1 < text.size()) step();
        step();
      }
    } else if (c == '[' && open.brackets.empty() && line_blank) {
      skip_line();  // a table header, not an array
    } else {
      if (c == '[' || c == '{') {
        open.brackets.push_back({c, c == '[' ? "]" : "}", line, column});
      } else if ((c == ']' || c == '}') && !open.brackets.empty() &&
                 open.brackets.back().closer[0] == c) {
        open.brackets.pop_back();
      }
      step();
    }
  }
  return open;
}

std::string_view LineAt(std::string_view text, int line) {
  for (int n = 1; n < line; ++n) {
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return {};
    text.remove_prefix(end + 1);
  }
  return text.substr(0, text.find('\n'));
}

// Whether a line starts a new key = value or [section]: the sign that the
// array above it was never closed.
bool StartsEntry(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return false;
  line.remove_prefix(first);
  if (line.front() == '[') return true;
  const std::size_t equals = line.find('=');
  if (equals == std::string_view::npos || equals == 0) return false;
  return std::all_of(line.begin(), line.begin() + equals, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           Contains("_-.\"' \t", c);
  });
}

// The unquoted word around `column` of `line` ("gunicorn", "10s", "True").
std::string_view WordAt(std::string_view line, int column) {
  auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || Contains("_.:+-", c);
  };
  std::size_t at =
      std::min<std::size_t>(column > 0 ? column - 1 : 0, line.size());
  std::size_t begin = at, end = at;
  while (begin > 0 && word_char(line[begin - 1])) --begin;
  while (end < line.size() && word_char(line[end])) ++end;
  return line.substr(begin, end - begin);
}

std::string WhereFrom(const Opening& opening, int error_line) {
  if (opening.line == error_line) {
    return "column " + std::to_string(opening.column);
  }
  return "line " + std::to_string(opening.line) + ", column " +
         std::to_string(opening.column);
}

// toml++ describes the syntax error it met; where the cause is a common
// mistake (an unclosed array, a missing quote, 10s instead of "10s") say
// that instead.
std::string ExplainSyntaxError(std::string_view text,
                               const toml::parse_error& error,
                               SourcePosition at) {
  std::string_view description = error.description();
  std::string_view what;  // "array", "value", "string", ...
  constexpr std::string_view kPrefix = "Error while parsing ";
  if (description.starts_with(kPrefix)) {
    description.remove_prefix(kPrefix.size());
    const std::size_t colon = description.find(": ");
    if (colon != std::string_view::npos) {
      what = description.substr(0, colon);
      description.remove_prefix(colon + 2);
    }
  }
  const bool at_end = description.find("end-of-file") != std::string::npos;
  const std::string_view line = LineAt(text, at.line);
  const Openings open = ScanOpenings(text, at);

  // At the end of the line or file: the string was never closed (rather
  // than, say, holding a bad escape sequence).
  auto characters = [](std::string_view text) {
    return std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    });
  };
  if (open.string && (at_end || at.column > characters(line))) {
    return "the string starting at " + WhereFrom(*open.string, at.line) +
           " is missing its closing " + std::string(open.string->closer);
  }
  if (!open.brackets.empty()) {
    const Opening& bracket = open.brackets.back();
    const bool before = bracket.line < at.line;
    if (bracket.bracket == '[' && before && (at_end || StartsEntry(line))) {
      return "the array starting at " + WhereFrom(bracket, at.line) +
             " is missing its closing \"]\"";
    }
    if (bracket.bracket == '{' &&
        (at_end || before || description.find("'\\n'") != std::string::npos)) {
      return "the inline table starting at " + WhereFrom(bracket, at.line) +
             " is missing its closing \"}\" (an inline table must be on one "
             "line)";
    }
  }
  if (description.find("escape sequence") != std::string::npos) {
    return std::string(description) +
           " (write a backslash as \\\\, or use a 'literal string' in single "
           "quotes)";
  }
  if (description.find("leading zero") != std::string::npos) {
    return "a number cannot start with 0 (write a mode as a string, like "
           "\"0660\")";
  }
  const std::string_view word = WordAt(line, at.column);
  if (!word.empty() &&
      (what == "value" || what == "boolean" || what == "floating-point" ||
       what.find("integer") != std::string_view::npos)) {
    std::string lower(word);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return std::tolower(c); });
    if (lower == "true" || lower == "false" || lower == "yes" ||
        lower == "no" || lower == "on" || lower == "off") {
      return std::string(word) + " is not a value; write true or false";
    }
    if (std::isalpha(static_cast<unsigned char>(word.front()))) {
      return std::string(word) + " is not a value; strings need quotes, like " +
             Quoted(word);
    }
    if (std::isdigit(static_cast<unsigned char>(word.front())) &&
        std::any_of(word.begin(), word.end(),
                    [](char c) { return std::isalpha(c); })) {
      return std::string(word) +
             " is not a value; durations and sizes are strings, like " +
             Quoted(word);
    }
  }
  if (what == "value" || description.starts_with("expected value")) {
    return "expected a value here, such as \"text\", 42, true or [\"a\", "
           "\"b\"]";
  }
  if (at_end && !what.empty()) {
    return "the file ends in the middle of a " + std::string(what);
  }
  return std::string(description);
}

// Reads a whole file of at most kMaxConfigFileBytes; false with `*error`.
bool ReadWholeFile(const std::string& path, std::string* text,
                   std::string* error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat info;
  if (!fd || ::fstat(fd.Get(), &info) != 0) {
    *error = std::string("cannot read: ") + strerror(errno);
    return false;
  }
  if (S_ISDIR(info.st_mode)) {
    *error = std::string("cannot read: ") + strerror(EISDIR);
    return false;
  }
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(fd.Get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::string("cannot read: ") + strerror(errno);
      return false;
    }
    if (n == 0) return true;
    text->append(buffer, n);
    if (text->size() > kMaxConfigFileBytes) {
      *error = "is larger than " + FormatSize(kMaxConfigFileBytes) +
               "; a configuration is never that large";
      return false;
    }
  }
}

class Loader {
 public:
  explicit Loader(const std::string& file_name) : errors_(file_name) {
    std::error_code ignored;
    fs::path directory = fs::path(file_name).parent_path();
    if (directory.empty()) directory = ".";
    fs::path absolute = fs::absolute(directory, ignored);
    base_directory_ = (absolute.empty() ? directory : absolute);
  }

  ConfigLoad Load(std::string_view text, const std::string& file_name) {
    toml::table root;
    try {
      root = toml::parse(text, std::string_view(file_name));
    } catch (const toml::parse_error& error) {
      const SourcePosition at = PositionOf(error.source());
      errors_.Add(at, "invalid TOML: " + ExplainSyntaxError(text, error, at));
      return {std::nullopt, std::move(errors_).Sorted()};
    }
    Config config;
    config.path = file_name;
    ReadRoot(root, &config);
    if (errors_.Count() > 0) return {std::nullopt, std::move(errors_).Sorted()};
    return {std::move(config), {}};
  }

 private:
  void ReadRoot(const toml::table& root, Config* config) {
    TableReader reader(errors_, root, "");
    if (const toml::table* daemon = reader.Table("daemon", "[daemon]")) {
      ReadDaemon(*daemon, &config->daemon);
    }
    // Sockets first: programs refer to them by name.
    if (const toml::table* sockets = reader.Table("socket", "[socket.http]")) {
      ReadSockets(*sockets, &config->sockets);
    }
    if (const toml::table* programs =
            reader.Table("program", "[program.web]")) {
      ReadPrograms(*programs, &config->programs);
    }
    // Unknown here means an unknown section, most likely a misspelled one.
    constexpr std::string_view kSections[] = {"daemon", "program", "socket"};
    for (const auto& [key, node] : reader.UnknownKeys()) {
      const toml::table* table = node->as_table();
      if (table == nullptr) {
        errors_.Add(*key, "unknown key " + Quoted(key->str()) +
                              " outside any section; settings go in "
                              "[daemon], [program.NAME] or [socket.NAME]");
        continue;
      }
      const std::string_view name = key->str();
      const std::optional<std::string> meant = Suggest(name, kSections);
      auto report = [&](const toml::node& at, std::string_view child) {
        errors_.Add(
            at, "unknown section " + Header(name, child) +
                    (meant ? " (did you mean " + Header(*meant, child) + "?)"
                           : ""));
      };
      // [programs.web] is a table "programs" holding a table "web": report
      // the headers as they were written.
      const bool only_tables =
          !table->empty() &&
          std::all_of(table->begin(), table->end(),
                      [](auto&& entry) { return entry.second.is_table(); });
      if (!only_tables) {
        report(*node, "");
        continue;
      }
      for (auto&& [child, child_node] : *table) report(child_node, child.str());
    }
  }

  void ReadDaemon(const toml::table& table, DaemonSpec* daemon) {
    TableReader reader(errors_, table, "daemon");
    if (const toml::node* node =
            reader.String("control_socket", &daemon->control_socket)) {
      if (daemon->control_socket.empty()) {
        reader.Error(*node,
                     "control_socket must not be empty; leave it out to use "
                     "the default");
      } else {
        daemon->control_socket = Resolve(daemon->control_socket);
        constexpr std::size_t kMaxPath = sizeof(sockaddr_un{}.sun_path) - 1;
        if (daemon->control_socket.size() > kMaxPath) {
          reader.Error(*node,
                       "control_socket: " + Quoted(daemon->control_socket) +
                           " is longer than the " + std::to_string(kMaxPath) +
                           " bytes a Unix socket path may have");
        }
      }
    }
    if (const toml::node* node = reader.Find("control_mode")) {
      ReadMode(reader, *node, "control_mode", &daemon->control_mode);
    }
    if (const toml::node* node =
            reader.String("control_group", &daemon->control_group)) {
      gid_t gid;
      if (LookUpGroup(reader, *node, "control_group", daemon->control_group,
                      &gid)) {
        daemon->control_group_gid = gid;
      }
    }
    reader.DurationAt("shutdown_timeout", true, &daemon->shutdown_timeout);
    reader.OneOf("log_level", kLogLevels, &daemon->log_level);
    reader.ReportUnknownKeys();
  }

  // A string of octal digits: a mode written as an integer would be decimal
  // in TOML (0660 is even a syntax error), so strings keep it unambiguous.
  static bool ReadMode(TableReader& reader, const toml::node& node,
                       std::string_view key, unsigned* mode) {
    constexpr std::string_view kExpected =
        R"(an octal mode in a string, like "0660", from "0000" to "0777")";
    if (!node.is_string()) {
      reader.Mismatch(node, key, kExpected);
      return false;
    }
    const std::string& text = node.as_string()->get();
    unsigned value = 0;
    const bool octal = !text.empty() && text.size() <= 4 &&
                       text.find_first_not_of("01234567") == std::string::npos;
    if (octal) value = std::stoul(text, nullptr, 8);
    if (!octal || value > 0777) {
      reader.Error(node, reader.Name(key) + " must be " +
                             std::string(kExpected) + ", not " + Quoted(text));
      return false;
    }
    *mode = value;
    return true;
  }

  // The tables of [program] or [socket] in the file's order (toml++
  // iterates keys alphabetically; the file's order is what users expect in
  // `status`, what start order follows and what fd numbers follow).
  // Anything else there is reported.
  std::vector<std::pair<std::string_view, const toml::table*>> TablesInOrder(
      const toml::table& table, std::string_view section,
      std::string_view example) {
    std::vector<std::pair<std::string_view, const toml::table*>> found;
    for (auto&& [key, node] : table) {
      if (const toml::table* child = node.as_table()) {
        found.emplace_back(key.str(), child);
      } else {
        errors_.Add(key, "unknown key " + Quoted(key.str()) + " in [" +
                             std::string(section) + "]; each " +
                             std::string(section) + " is a table like " +
                             std::string(example));
      }
    }
    std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) {
      const SourcePosition x = PositionOf(a.second->source());
      const SourcePosition y = PositionOf(b.second->source());
      return std::pair(x.line, x.column) < std::pair(y.line, y.column);
    });
    return found;
  }

  void ReadSockets(const toml::table& table, std::vector<SocketSpec>* sockets) {
    const auto found = TablesInOrder(table, "socket", "[socket.http]");
    // Every name counts for the programs' `sockets`, even of a socket with
    // errors or one too many: those are reported once, here.
    for (const auto& [name, socket] : found) socket_names_.emplace_back(name);
    for (const auto& [name, socket] : found) {
      if (sockets->size() == static_cast<std::size_t>(kMaxSockets)) {
        errors_.Add(*socket, "too many sockets: at most " +
                                 std::to_string(kMaxSockets) + " are allowed");
        return;
      }
      sockets->push_back(ReadSocket(name, *socket));
    }
    std::vector<std::pair<std::string, std::size_t>> seen;  // address, index
    for (std::size_t i = 0; i < sockets->size(); ++i) {
      const SocketSpec& socket = (*sockets)[i];
      if (socket.listen.port == 0 && socket.listen.path.empty()) continue;
      const std::string key = AddressKey(socket.listen);
      const auto first =
          std::find_if(seen.begin(), seen.end(),
                       [&](const auto& entry) { return entry.first == key; });
      if (first == seen.end()) {
        seen.emplace_back(key, i);
        continue;
      }
      const SocketSpec& other = (*sockets)[first->second];
      errors_.Add(listen_positions_[i],
                  Header("socket", socket.name) + " listens on " +
                      socket.listen.ToString() + " like " +
                      Header("socket", other.name) + " at line " +
                      std::to_string(other.position.line) +
                      "; two sockets cannot have the same address (to pass "
                      "one socket to several programs, list it in the "
                      "sockets of each)");
    }
  }

  // Equal for addresses that are the same socket: Unix paths compare
  // normalized ("/run//a.sock" is "/run/a.sock").
  static std::string AddressKey(const ListenAddress& address) {
    if (address.family != ListenAddress::Family::kUnix) {
      return address.ToString();
    }
    return "unix:" + fs::path(address.path).lexically_normal().string();
  }

  SocketSpec ReadSocket(std::string_view name, const toml::table& table) {
    SocketSpec socket;
    socket.name = name;
    socket.position = PositionOf(table.source());
    CheckName(table, "socket", name);
    const std::string table_name = "socket." + TomlKey(name);
    TableReader reader(errors_, table, table_name);
    listen_positions_.push_back(socket.position);

    bool have_listen = false;
    std::string listen;
    if (const toml::node* node = reader.String("listen", &listen)) {
      listen_positions_.back() = PositionOf(node->source());
      have_listen = ReadListen(reader, *node, listen, &socket.listen);
    } else if (table.get("listen") == nullptr) {
      errors_.Add(socket.position,
                  "[" + table_name +
                      "] has no listen address; add one like listen = "
                      "\"127.0.0.1:8080\" or listen = \"unix:/run/app.sock\"");
    }
    const bool unix_socket =
        socket.listen.family == ListenAddress::Family::kUnix;
    // Keys that make sense for one kind of socket only; reported once the
    // kind is known.
    auto check_unix_only = [&](const toml::node& at, std::string_view key) {
      if (!have_listen || unix_socket) return true;
      reader.Error(at, std::string(key) +
                           " applies only to Unix sockets (\"unix:PATH\"); "
                           "this socket listens on " +
                           socket.listen.ToString());
      return false;
    };

    reader.Integer("backlog", 1, 65535, &socket.backlog);
    if (const toml::node* node =
            reader.OneOf("balance", kBalances, &socket.balance)) {
      if (have_listen && unix_socket && socket.balance == Balance::kReuseport) {
        reader.Error(*node,
                     "balance = \"reuseport\" needs a TCP socket: SO_REUSEPORT "
                     "balancing works only for TCP, and this socket listens "
                     "on " +
                         socket.listen.ToString());
      }
    }
    if (const toml::node* node = reader.Find("mode")) {
      unsigned mode = 0;
      if (ReadMode(reader, *node, "mode", &mode) &&
          check_unix_only(*node, "mode")) {
        socket.mode = mode;
      }
    }
    std::string owner;
    if (const toml::node* node = reader.String("owner", &owner)) {
      passwd entry;
      std::vector<char> buffer;
      if (check_unix_only(*node, "owner") &&
          CheckLookUp(reader, *node, "owner", owner,
                      LookUp(getpwnam_r, owner, &entry, &buffer))) {
        socket.owner_uid = entry.pw_uid;
      }
    }
    std::string group;
    if (const toml::node* node = reader.String("group", &group)) {
      gid_t gid;
      if (check_unix_only(*node, "group") &&
          LookUpGroup(reader, *node, "group", group, &gid)) {
        socket.group_gid = gid;
      }
    }
    reader.ReportUnknownKeys([&](std::string_view key, const toml::node& node) {
      return DottedNameHint("socket", name, key, node);
    });
    return socket;
  }

  // Parses `written`, resolving a relative Unix path against the file's
  // directory; false after reporting an error.
  bool ReadListen(TableReader& reader, const toml::node& at,
                  const std::string& written, ListenAddress* address) {
    std::variant<ListenAddress, std::string> parsed =
        ParseListenAddress(written);
    if (const std::string* error = std::get_if<std::string>(&parsed)) {
      reader.Error(at, "listen: " + *error);
      return false;
    }
    ListenAddress result = std::get<ListenAddress>(std::move(parsed));
    if (result.family != ListenAddress::Family::kUnix) {
      *address = std::move(result);
      return true;
    }
    const std::string resolved = Resolve(result.path);
    if (resolved.size() > kMaxUnixSocketPath) {
      reader.Error(at, "listen: " + Quoted(written) + " (" + resolved +
                           ") is longer than the " +
                           std::to_string(kMaxUnixSocketPath) +
                           " bytes a Unix socket path may have");
      return false;
    }
    result.path = resolved;
    *address = std::move(result);
    return true;
  }

  // For an unknown key that is a table: [program.api.v2] makes a program
  // "api" with a table "v2" in it.
  static std::string DottedNameHint(std::string_view section,
                                    std::string_view name, std::string_view key,
                                    const toml::node& node) {
    if (!node.is_table()) return std::string();
    const std::string dotted = std::string(name) + "." + std::string(key);
    return " (to name a " + std::string(section) + " " + Quoted(dotted) +
           ", write [" + std::string(section) + "." + Quoted(dotted) + "])";
  }

  void ReadPrograms(const toml::table& table,
                    std::vector<ProgramSpec>* programs) {
    const auto found = TablesInOrder(table, "program", "[program.web]");
    for (const auto& [name, program] : found) {
      if (programs->size() == static_cast<std::size_t>(kMaxPrograms)) {
        errors_.Add(*program, "too many programs: at most " +
                                  std::to_string(kMaxPrograms) +
                                  " are allowed");
        return;
      }
      programs->push_back(ReadProgram(name, *program));
    }
  }

  ProgramSpec ReadProgram(std::string_view name, const toml::table& table) {
    ProgramSpec program;
    program.name = name;
    program.position = PositionOf(table.source());
    CheckName(table, "program", name);
    const std::string table_name = "program." + TomlKey(name);
    TableReader reader(errors_, table, table_name);

    // Before the command and env: {fd:NAME} there needs the names.
    if (const toml::node* node = reader.Find("sockets")) {
      ReadSocketList(reader, *node, &program.sockets);
    }
    ReadCommand(reader, program.position, &program);
    reader.Integer("workers", 0, kMaxWorkersPerProgram, &program.workers);
    if (const toml::node* node =
            reader.String("directory", &program.directory)) {
      CheckDirectory(reader, *node, &program.directory);
    }
    if (const toml::table* env = reader.Table("env", R"({ NAME = "value" })")) {
      ReadEnv(*env, program.sockets, &program.env);
    }
    if (const toml::node* node = reader.String("user", &program.user)) {
      passwd entry;
      std::vector<char> buffer;
      if (CheckLookUp(reader, *node, "user", program.user,
                      LookUp(getpwnam_r, program.user, &entry, &buffer))) {
        program.uid = entry.pw_uid;
        program.gid = entry.pw_gid;
      }
    }
    std::string group;
    if (const toml::node* node = reader.String("group", &group)) {
      gid_t gid;
      if (LookUpGroup(reader, *node, "group", group, &gid)) program.gid = gid;
    }
    reader.OneOf("restart", kRestartPolicies, &program.restart);
    reader.DurationAt("start_period", true, &program.start_period);
    if (const toml::node* node = reader.Find("stop_signal")) {
      ReadSignal(reader, *node, &program.stop_signal);
    }
    reader.DurationAt("stop_timeout", true, &program.stop_timeout);
    if (const toml::table* backoff =
            reader.Table("backoff", R"({ initial = "100ms", max = "30s" })")) {
      ReadBackoff(*backoff, table_name, &program.backoff);
    }
    if (const toml::table* limit = reader.Table(
            "crash_limit", R"({ restarts = 5, within = "60s" })")) {
      TableReader limit_reader(errors_, *limit, table_name + ".crash_limit",
                               "crash_limit.");
      limit_reader.Integer("restarts", 1, kMaxCrashLimitRestarts,
                           &program.crash_limit.restarts);
      limit_reader.DurationAt("within", false, &program.crash_limit.within);
      limit_reader.ReportUnknownKeys();
    }
    reader.Bool("autostart", &program.autostart);
    const toml::node* ready = reader.OneOf("ready", kReadiness, &program.ready);
    if (const toml::node* timeout =
            reader.DurationAt("ready_timeout", false, &program.ready_timeout)) {
      // A bad `ready` is reported already; this would only add noise.
      const bool ready_valid =
          ready != nullptr || table.get("ready") == nullptr;
      if (ready_valid && program.ready != Readiness::kNotify) {
        reader.Error(*timeout,
                     "ready_timeout applies only to ready = \"notify\"; with "
                     "ready = \"exec\" a worker is ready after start_period");
      }
    }
    reader.DurationAt("watchdog", false, &program.watchdog);
    reader.ReportUnknownKeys([&](std::string_view key, const toml::node& node) {
      if (key == "listen") {
        return std::string(
            " (sockets are declared in [socket.NAME] with listen = \"...\" "
            "and passed to programs that list them in sockets = [\"NAME\"])");
      }
      return DottedNameHint("program", name, key, node);
    });
    return program;
  }

  // Program and socket names: `kind` is "program" or "socket".
  void CheckName(const toml::table& at, std::string_view kind,
                 std::string_view name) {
    const std::string what = std::string(kind) + " name " + Quoted(name);
    const bool valid_chars = std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || Contains("_.-", c);
    });
    if (name.empty()) {
      errors_.Add(at, "a " + std::string(kind) + " name must not be empty");
    } else if (!valid_chars) {
      errors_.Add(at, what +
                          " may only contain letters, digits, \"_\", \".\" "
                          "and \"-\"");
    } else if (name.front() == '.' || name.front() == '-') {
      // "-web" reads as an option to workerctl; ".." as a path.
      errors_.Add(at, what + " must start with a letter, a digit or \"_\"");
    } else if (name.size() > static_cast<std::size_t>(kMaxProgramNameLength)) {
      errors_.Add(at, what + " is longer than " +
                          std::to_string(kMaxProgramNameLength) +
                          " characters");
    }
  }

  // `sockets = ["http", "admin"]`: names of [socket.NAME] tables. Every
  // name written goes into `*sockets` once, known or not, so that an
  // unknown one is reported here and not again at each {fd:NAME}.
  void ReadSocketList(TableReader& reader, const toml::node& node,
                      std::vector<std::string>* sockets) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      std::string message =
          R"(sockets must be an array of socket names like ["http"], not )" +
          Describe(node);
      if (node.is_string()) {
        message += "; write [" + Quoted(node.as_string()->get()) + "]";
      }
      reader.Error(node, message);
      return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& entry = *array->get(i);
      if (!entry.is_string()) {
        reader.Error(entry, "sockets[" + std::to_string(i) +
                                "] must be a string, not " + Describe(entry));
        continue;
      }
      const std::string& name = entry.as_string()->get();
      if (std::find(sockets->begin(), sockets->end(), name) != sockets->end()) {
        reader.Error(entry, "sockets: " + Quoted(name) +
                                " is listed twice; a worker gets each socket "
                                "once");
        continue;
      }
      sockets->push_back(name);
      if (std::find(socket_names_.begin(), socket_names_.end(), name) !=
          socket_names_.end()) {
        continue;
      }
      const std::optional<std::string> meant = Suggest(name, socket_names_);
      reader.Error(entry,
                   "sockets: there is no socket " + Quoted(name) +
                       (meant ? TableReader::DidYouMean(meant)
                              : "; declare it with " + Header("socket", name)));
    }
  }

  void ReadCommand(TableReader& reader, SourcePosition header,
                   ProgramSpec* program) {
    const toml::node* node = reader.Find("command");
    if (node == nullptr) {
      errors_.Add(header, "[" + reader.name() +
                              "] has no command; add one like command = "
                              "[\"/usr/bin/app\", \"--port\", \"8000\"]");
      return;
    }
    std::vector<std::string> words;
    if (const toml::value<std::string>* text = node->as_string()) {
      std::string error;
      std::optional<std::vector<std::string>> split =
          SplitCommand(text->get(), &error);
      if (!split) {
        reader.Error(*node, "command: " + error);
        return;
      }
      words = std::move(*split);
      if (!words.empty() && words.front().empty()) {
        reader.Error(*node, "command must start with a program, not \"\"");
        return;
      }
    } else if (const toml::array* array = node->as_array()) {
      const std::size_t errors_before = errors_.Count();
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& word = *array->get(i);
        const std::string name = "command[" + std::to_string(i) + "]";
        if (!word.is_string()) {
          reader.Error(word, name + " must be a string, not " + Describe(word));
        } else if (word.as_string()->get().empty()) {
          reader.Error(word, name + " must not be empty");
        } else {
          words.push_back(word.as_string()->get());
        }
      }
      if (errors_.Count() != errors_before) return;
    } else {
      reader.Mismatch(*node, "command",
                      R"(an array of strings like ["gunicorn", "app:wsgi"] )"
                      "or a string");
      return;
    }
    if (words.empty()) {
      reader.Error(*node, "command must not be empty");
      return;
    }
    for (const std::string& word : words) {
      if (!CheckExpandable(*node, "command", word, program->sockets)) return;
    }
    program->command = std::move(words);
  }

  // A string that will go through ExpandPlaceholders and then to the kernel;
  // `sockets` are the program's.
  bool CheckExpandable(const toml::node& at, const std::string& name,
                       std::string_view text,
                       const std::vector<std::string>& sockets) {
    if (Contains(text, '\0')) {
      errors_.Add(at, name + " must not contain a NUL character");
      return false;
    }
    if (const std::optional<Misspelling> wrong =
            FindMisspelledPlaceholder(text)) {
      errors_.Add(at, name + ": " + Quoted(wrong->written) +
                          " is not a placeholder (did you mean " +
                          Quoted(wrong->meant) +
                          "?); only {instance}, {program} and {fd:NAME} are "
                          "replaced");
      return false;
    }
    if (const std::optional<std::string> unknown =
            FindUnknownFdPlaceholder(text, sockets)) {
      errors_.Add(at, name + ": " + UnknownFdMessage(*unknown, sockets));
      return false;
    }
    return true;
  }

  // Why "{fd:NAME}" does not name one of the program's `sockets`.
  std::string UnknownFdMessage(const std::string& socket,
                               const std::vector<std::string>& sockets) const {
    auto fd = [](std::string_view name) {
      return Quoted("{fd:" + std::string(name) + "}");
    };
    if (socket.empty()) {
      return fd(socket) +
             " has no socket name; write \"{fd:NAME}\" with NAME one of the "
             "program's sockets";
    }
    const bool declared = std::find(socket_names_.begin(), socket_names_.end(),
                                    socket) != socket_names_.end();
    if (sockets.empty() && !declared) {
      return fd(socket) +
             " names a socket, but the program has none; "
             "declare " +
             Header("socket", socket) + " and list it in sockets = [" +
             Quoted(socket) + "]";
    }
    std::string message = fd(socket) + " is not one of the program's sockets";
    if (const std::optional<std::string> meant = Suggest(socket, sockets)) {
      return message + " (did you mean " + fd(*meant) + "?)";
    }
    if (declared) {
      return message + "; add " + Quoted(socket) +
             " to its sockets to pass it to the workers";
    }
    message += "; they are ";
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      if (i > 0) message += ", ";
      message += Quoted(sockets[i]);
    }
    return message;
  }

  void ReadEnv(const toml::table& table,
               const std::vector<std::string>& sockets,
               std::vector<std::pair<std::string, std::string>>* env) {
    // No TableReader: any name may be a key. In file order, as with programs.
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
    std::stable_sort(entries.begin(), entries.end(), [](auto& a, auto& b) {
      const SourcePosition x = PositionOf(a.first->source());
      const SourcePosition y = PositionOf(b.first->source());
      return std::pair(x.line, x.column) < std::pair(y.line, y.column);
    });
    for (const auto& [key, node] : entries) {
      const std::string_view name = key->str();
      const std::string display = "env." + TomlKey(name);
      if (name.empty()) {
        errors_.Add(*key, "env: a variable name must not be empty");
        continue;
      }
      if (Contains(name, '=') || Contains(name, '\0')) {
        errors_.Add(*key, "env: the name " + Quoted(name) +
                              " must not contain \"=\" or a NUL character");
        continue;
      }
      if (std::find(std::begin(kReservedEnv), std::end(kReservedEnv), name) !=
          std::end(kReservedEnv)) {
        errors_.Add(*key, display +
                              " is set by workerd for each worker and cannot "
                              "be set here");
        continue;
      }
      if (!node->is_string()) {
        std::string message =
            display + " must be a string, not " + Describe(*node);
        if (node->is_number() || node->is_boolean()) {
          std::ostringstream written;
          node->visit([&](auto&& value) { written << value; });
          message += "; write " + Quoted(written.str());
        }
        errors_.Add(*node, message);
        continue;
      }
      const std::string& value = node->as_string()->get();
      if (CheckExpandable(*node, display, value, sockets)) {
        env->emplace_back(name, value);
      }
    }
  }

  void ReadBackoff(const toml::table& table, const std::string& program,
                   Backoff* backoff) {
    TableReader reader(errors_, table, program + ".backoff", "backoff.");
    const std::size_t errors_before = errors_.Count();
    const toml::node* initial =
        reader.DurationAt("initial", false, &backoff->initial);
    const toml::node* max = reader.DurationAt("max", false, &backoff->max);
    if (errors_.Count() == errors_before && backoff->max < backoff->initial) {
      if (max != nullptr) {
        reader.Error(*max, "backoff.max (" + FormatDuration(backoff->max) +
                               ") must not be less than backoff.initial (" +
                               FormatDuration(backoff->initial) + ")");
      } else {
        reader.Error(*initial,
                     "backoff.initial (" + FormatDuration(backoff->initial) +
                         ") must not be more than backoff.max (" +
                         FormatDuration(backoff->max) + ", the default)");
      }
    }
    reader.ReportUnknownKeys();
  }

  static void ReadSignal(TableReader& reader, const toml::node& node,
                         int* signal) {
    const std::string expected =
        R"(a signal name like "TERM", "INT" or "QUIT", or a number from 1 to )" +
        std::to_string(NSIG - 1);
    std::optional<int> parsed;
    if (const toml::value<std::string>* name = node.as_string()) {
      parsed = ParseSignal(name->get());
      if (!parsed) {
        std::string_view written = name->get();
        if (written.size() > 3 &&
            (written.starts_with("SIG") || written.starts_with("sig"))) {
          written.remove_prefix(3);
        }
        reader.Error(
            node, "stop_signal must be " + expected + ", not " +
                      Quoted(name->get()) +
                      TableReader::DidYouMean(Suggest(written, SignalNames())));
        return;
      }
    } else if (const toml::value<std::int64_t>* number = node.as_integer()) {
      if (number->get() >= 1 && number->get() < NSIG) {
        parsed = static_cast<int>(number->get());
      } else {
        reader.Error(node, "stop_signal must be " + expected + ", not " +
                               std::to_string(number->get()));
        return;
      }
    } else {
      reader.Mismatch(node, "stop_signal", expected);
      return;
    }
    *signal = *parsed;
  }

  bool LookUpGroup(TableReader& reader, const toml::node& at,
                   std::string_view key, const std::string& name, gid_t* gid) {
    group entry;
    std::vector<char> buffer;
    if (!CheckLookUp(reader, at, key, name,
                     LookUp(getgrnam_r, name, &entry, &buffer))) {
      return false;
    }
    *gid = entry.gr_gid;
    return true;
  }

  // Reports a failed user or group lookup; true when it succeeded.
  static bool CheckLookUp(TableReader& reader, const toml::node& at,
                          std::string_view key, const std::string& name,
                          int error) {
    const std::string_view kind =
        key == "user" || key == "owner" ? "user" : "group";
    if (error == ENOENT) {
      reader.Error(at, std::string(key) + ": there is no " + std::string(kind) +
                           " " + Quoted(name) + " on this system");
    } else if (error != 0) {
      reader.Error(at, std::string(key) + ": looking up the " +
                           std::string(kind) + " " + Quoted(name) +
                           " failed: " + strerror(error));
    }
    return error == 0;
  }

  // Workers start in the directory, so a missing one would only show up as
  // every spawn failing; say it now, with the path as resolved.
  void CheckDirectory(TableReader& reader, const toml::node& at,
                      std::string* directory) {
    const std::string written = *directory;
    if (written.empty()) {
      reader.Error(at,
                   "directory must not be empty; leave it out to start "
                   "workers in workerd's own directory");
      return;
    }
    *directory = Resolve(written);
    std::string shown = Quoted(written);
    if (*directory != written) shown += " (" + *directory + ")";
    struct stat info;
    if (::stat(directory->c_str(), &info) != 0) {
      reader.Error(at,
                   "directory: " + shown +
                       (errno == ENOENT ? std::string(" does not exist")
                                        : std::string(": ") + strerror(errno)));
    } else if (!S_ISDIR(info.st_mode)) {
      reader.Error(at, "directory: " + shown + " is not a directory");
    }
  }

  // Relative paths are relative to the configuration file, not to wherever
  // workerd happens to be started from.
  std::string Resolve(const std::string& path) const {
    if (fs::path(path).is_absolute()) return path;
    std::string resolved = (base_directory_ / path).lexically_normal();
    if (resolved.size() > 1 && resolved.back() == '/') resolved.pop_back();
    return resolved;
  }

  Errors errors_;
  fs::path base_directory_;
  // Every [socket.NAME], in file order, for the programs' `sockets`.
  std::vector<std::string> socket_names_;
  // Of each socket read: where its `listen` value is (the header when it
  // has none), for errors about duplicate addresses.
  std::vector<SourcePosition> listen_positions_;
};

}  // namespace

const ProgramSpec* Config::FindProgram(std::string_view name) const {
  for (const ProgramSpec& program : programs) {
    if (program.name == name) return &program;
  }
  return nullptr;
}

const SocketSpec* Config::FindSocket(std::string_view name) const {
  for (const SocketSpec& socket : sockets) {
    if (socket.name == name) return &socket;
  }
  return nullptr;
}

std::string ConfigError::ToString() const {
  std::string text = file;
  if (position.line > 0) {
    text += ":" + std::to_string(position.line) + ":" +
            std::to_string(position.column);
  }
  return text + ": " + message;
}

ConfigLoad LoadConfigFile(const std::string& path) {
  std::string text, error;
  if (!ReadWholeFile(path, &text, &error)) {
    return {std::nullopt, {ConfigError{path, {}, error}}};
  }
  return ParseConfig(text, path);
}

ConfigLoad ParseConfig(std::string_view text, const std::string& file_name) {
  return Loader(file_name).Load(text, file_name);
}

std::string_view RestartPolicyName(RestartPolicy policy) {
  for (const auto& choice : kRestartPolicies) {
    if (choice.value == policy) return choice.name;
  }
  return "unknown";
}

std::string_view LogLevelName(LogLevel level) {
  for (const auto& choice : kLogLevels) {
    if (choice.value == level) return choice.name;
  }
  return "unknown";
}

std::string_view BalanceName(Balance balance) {
  for (const auto& choice : kBalances) {
    if (choice.value == balance) return choice.name;
  }
  return "unknown";
}

std::string_view ReadinessName(Readiness ready) {
  for (const auto& choice : kReadiness) {
    if (choice.value == ready) return choice.name;
  }
  return "unknown";
}

}  // namespace workerd
