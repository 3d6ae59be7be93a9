#include "daemon/toml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <sstream>

namespace workerd {

SourcePosition PositionOf(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line),
          static_cast<int>(region.begin.column)};
}

bool IsBareKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string TomlKey(std::string_view key) {
  return IsBareKey(key) ? std::string(key) : Quoted(key);
}

std::string Header(std::string_view name, std::string_view child) {
  // Appended piece by piece: g++ 12 at -O3 takes `"[" + TomlKey(name)` for
  // an overlapping copy (a false -Wrestrict).
  std::string header = "[";
  header += TomlKey(name);
  if (!child.empty()) {
    header += '.';
    header += TomlKey(child);
  }
  header += ']';
  return header;
}

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

void Errors::Add(SourcePosition position, std::string message) {
  errors_.push_back({file_, position, std::move(message)});
}

void Errors::Add(const toml::node& at, std::string message) {
  Add(PositionOf(at.source()), std::move(message));
}

void Errors::Add(const toml::key& at, std::string message) {
  Add(PositionOf(at.source()), std::move(message));
}

std::vector<ConfigError> Errors::Sorted() && {
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.position.line, a.position.column) <
                            std::pair(b.position.line, b.position.column);
                   });
  return std::move(errors_);
}

std::string TableReader::Name(std::string_view key) const {
  return prefix_ + TomlKey(key);
}

const toml::node* TableReader::Find(std::string_view key) {
  known_.emplace_back(key);
  return table_.get(key);
}

void TableReader::Error(const toml::node& at, std::string message) {
  errors_.Add(at, std::move(message));
}

void TableReader::Mismatch(const toml::node& at, std::string_view key,
                           std::string_view expected) {
  Error(at, Name(key) + " must be " + std::string(expected) + ", not " +
                Describe(at));
}

const toml::node* TableReader::String(std::string_view key, std::string* out) {
  const toml::node* node = Find(key);
  if (node == nullptr) return nullptr;
  if (!node->is_string()) {
    Mismatch(*node, key, "a string");
    return nullptr;
  }
  const std::string& value = node->as_string()->get();
  if (value.find('\0') != std::string::npos) {
    Error(*node, Name(key) + " must not contain a NUL character");
    return nullptr;
  }
  *out = value;
  return node;
}

const toml::node* TableReader::Integer(std::string_view key, int min, int max,
                                       int* out) {
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

const toml::node* TableReader::Bool(std::string_view key, bool* out) {
  const toml::node* node = Find(key);
  if (node == nullptr) return nullptr;
  if (!node->is_boolean()) {
    Mismatch(*node, key, "true or false");
    return nullptr;
  }
  *out = node->as_boolean()->get();
  return node;
}

const toml::node* TableReader::DurationAt(std::string_view key, bool allow_zero,
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

const toml::node* TableReader::Size(std::string_view key, std::uint64_t min,
                                    std::uint64_t max, bool zero_allowed,
                                    std::uint64_t* out) {
  const toml::node* node = Find(key);
  if (node == nullptr) return nullptr;
  std::string range = "from " + FormatSize(min) + " to " + FormatSize(max);
  if (zero_allowed && min > 0) range += ", or 0";
  std::optional<std::uint64_t> value;
  if (const toml::value<std::int64_t>* number = node->as_integer()) {
    if (number->get() < 0) {
      Error(*node, Name(key) + " must be " + range + ", not " +
                       std::to_string(number->get()));
      return nullptr;
    }
    value = static_cast<std::uint64_t>(number->get());
  } else if (const toml::value<std::string>* text = node->as_string()) {
    std::string error;
    value = ParseSize(text->get(), &error);
    if (!value) {
      Error(*node, Name(key) + ": " + error);
      return nullptr;
    }
  } else {
    Mismatch(*node, key, R"(a size like "100M", "64K" or "1G")");
    return nullptr;
  }
  if (!(zero_allowed && *value == 0) && (*value < min || *value > max)) {
    Error(*node, Name(key) + " must be " + range + ", not " +
                     FormatSize(*value));
    return nullptr;
  }
  *out = *value;
  return node;
}

const toml::node* TableReader::Mode(std::string_view key, unsigned* out) {
  const toml::node* node = Find(key);
  if (node == nullptr) return nullptr;
  constexpr std::string_view kExpected =
      R"(an octal mode in a string, like "0660", from "0000" to "0777")";
  if (!node->is_string()) {
    Mismatch(*node, key, kExpected);
    return nullptr;
  }
  const std::string& text = node->as_string()->get();
  unsigned value = 0;
  const bool octal = !text.empty() && text.size() <= 4 &&
                     text.find_first_not_of("01234567") == std::string::npos;
  if (octal) value = std::stoul(text, nullptr, 8);
  if (!octal || value > 0777) {
    Error(*node, Name(key) + " must be " + std::string(kExpected) + ", not " +
                     Quoted(text));
    return nullptr;
  }
  *out = value;
  return node;
}

const toml::table* TableReader::Table(std::string_view key,
                                      std::string_view example) {
  const toml::node* node = Find(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    Mismatch(*node, key, "a table like " + std::string(example));
    return nullptr;
  }
  return node->as_table();
}

std::vector<std::pair<const toml::key*, const toml::node*>>
TableReader::UnknownKeys() const {
  std::vector<std::pair<const toml::key*, const toml::node*>> unknown;
  for (auto&& [key, node] : table_) {
    if (std::find(known_.begin(), known_.end(), key.str()) == known_.end()) {
      unknown.emplace_back(&key, &node);
    }
  }
  return unknown;
}

void TableReader::ReportUnknownKeys(
    const std::function<std::string(std::string_view key,
                                    const toml::node& node)>& hint) {
  const std::vector<std::string_view> candidates(known_.begin(), known_.end());
  for (const auto& [key, node] : UnknownKeys()) {
    const std::optional<std::string> suggestion =
        Suggest(key->str(), candidates);
    errors_.Add(*key, "unknown key " + Quoted(key->str()) + " in [" + name_ +
                          "]" +
                          (suggestion || !hint ? DidYouMean(suggestion)
                                               : hint(key->str(), *node)));
  }
}

std::string TableReader::DidYouMean(
    const std::optional<std::string>& suggestion) {
  return suggestion ? " (did you mean " + Quoted(*suggestion) + "?)" : "";
}

std::vector<std::pair<std::string_view, const toml::table*>> TablesInOrder(
    Errors& errors, const toml::table& table, std::string_view section,
    std::string_view example) {
  std::vector<std::pair<std::string_view, const toml::table*>> found;
  for (auto&& [key, node] : table) {
    if (const toml::table* child = node.as_table()) {
      found.emplace_back(key.str(), child);
    } else {
      errors.Add(key, "unknown key " + Quoted(key.str()) + " in [" +
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

}  // namespace workerd
