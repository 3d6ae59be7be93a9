// Reading toml++ tables into plain values: each value's type is checked (a
// wrong type is an error, never a silent default), every mistake is
// reported at its position as a sentence, and keys nobody asked for are
// reported as unknown with a "did you mean". Used by the config loader;
// knows nothing of workers.toml's sections.
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config.h"  // ConfigError, SourcePosition
#include "daemon/duration.h"
#include "daemon/suggest.h"

namespace workerd {

// One of the names a string value may have, and what it means.
template <typename T>
struct Choice {
  std::string_view name;
  T value;
};

// Where a region starts.
SourcePosition PositionOf(const toml::source_region& region);

// Whether TOML lets `key` be written without quotes: letters, digits, "_"
// and "-", and not empty.
bool IsBareKey(std::string_view key);

// A key as TOML needs it written inside a dotted name: web, "my.app".
std::string TomlKey(std::string_view key);

// A section header for messages: [deamon], [programs.web], [socket."a.b"].
std::string Header(std::string_view name, std::string_view child);

// What a value is, for "..., not <this>" when its type is wrong: `the
// string "x"`, `the integer 0o660` (as written), `the float 1.5`, `true`,
// `an array`, `a table`, ...
std::string Describe(const toml::node& node);

// The errors of one load. They are sorted into file order at the end, since
// a loader reads keys in its own order.
class Errors {
 public:
  // `file` is what every error names.
  explicit Errors(std::string file) : file_(std::move(file)) {}

  void Add(SourcePosition position, std::string message);
  void Add(const toml::node& at, std::string message);
  void Add(const toml::key& at, std::string message);

  std::size_t Count() const { return errors_.size(); }

  // Every error, by line and column; errors at the same spot keep the
  // order they were added in.
  std::vector<ConfigError> Sorted() &&;

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// Reads one TOML table: hands out values by key, checks their types, and
// remembers every key asked for, so that whatever is left over is reported
// as unknown, with the asked-for keys as the suggestions. The typed readers
// return the value's node when it is there and valid (for further checks at
// its position), else nullptr; on a bad value they report it and leave
// `*out`.
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
  std::string Name(std::string_view key) const;

  // The value of `key`, or nullptr; either way `key` is known from now on.
  const toml::node* Find(std::string_view key);

  void Error(const toml::node& at, std::string message);

  // "<key> must be <expected>, not <what the value is>".
  void Mismatch(const toml::node& at, std::string_view key,
                std::string_view expected);

  // A string without NUL characters (a NUL would silently cut the string
  // short once it reaches the kernel).
  const toml::node* String(std::string_view key, std::string* out);
  // An integer from `min` to `max`, inclusive.
  const toml::node* Integer(std::string_view key, int min, int max, int* out);
  const toml::node* Bool(std::string_view key, bool* out);
  // A duration as daemon/duration.h reads it; `allow_zero`: whether "0s"
  // makes sense for this key.
  const toml::node* DurationAt(std::string_view key, bool allow_zero,
                               Duration* out);
  // A size as daemon/duration.h reads it ("512M"), or an integer of bytes,
  // from `min` to `max`; 0 is always allowed when `zero_allowed`.
  const toml::node* Size(std::string_view key, std::uint64_t min,
                         std::uint64_t max, bool zero_allowed,
                         std::uint64_t* out);
  // A file mode as a string of octal digits, "0000" to "0777": a mode
  // written as an integer would be decimal in TOML (0660 is even a syntax
  // error), so strings keep it unambiguous.
  const toml::node* Mode(std::string_view key, unsigned* out);

  // One of the names of `choices`, exactly; a near miss gets a suggestion.
  template <typename T, std::size_t N>
  const toml::node* OneOf(std::string_view key, const Choice<T> (&choices)[N],
                          T* out);

  // `example` shows the expected shape: `{ initial = "100ms", max = "30s" }`.
  const toml::table* Table(std::string_view key, std::string_view example);

  // Keys nobody asked for, in toml++'s (alphabetical) order; errors are put
  // in file order at the end anyway.
  std::vector<std::pair<const toml::key*, const toml::node*>> UnknownKeys()
      const;

  // Reports each unknown key as `unknown key "x" in [NAME]`, with a "did you
  // mean" among the keys asked for. `hint`, when set, may explain a key
  // that has no suggestion; what it returns is appended.
  void ReportUnknownKeys(
      const std::function<std::string(std::string_view key,
                                      const toml::node& node)>& hint = {});

  // ` (did you mean "x"?)`, or nothing without a suggestion.
  static std::string DidYouMean(const std::optional<std::string>& suggestion);

 private:
  Errors& errors_;
  const toml::table& table_;
  std::string name_;
  std::string prefix_;
  std::vector<std::string> known_;
};

// The tables in `table` (the body of [program] or [socket]) in the file's
// order: toml++ iterates keys alphabetically, and the file's order is what
// users expect in `status`, what start order follows and what fd numbers
// follow. Anything there that is not a table is reported as an unknown key
// of `section`, with `example` showing what belongs there.
std::vector<std::pair<std::string_view, const toml::table*>> TablesInOrder(
    Errors& errors, const toml::table& table, std::string_view section,
    std::string_view example);

template <typename T, std::size_t N>
const toml::node* TableReader::OneOf(std::string_view key,
                                     const Choice<T> (&choices)[N], T* out) {
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

}  // namespace workerd
