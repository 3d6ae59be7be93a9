#include "daemon/toml_syntax_error.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <vector>

#include "daemon/suggest.h"

namespace workerd {
namespace {

bool Contains(std::string_view text, char c) {
  return text.find(c) != std::string_view::npos;
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

}  // namespace

std::string ExplainSyntaxError(std::string_view text,
                               std::string_view description,
                               SourcePosition at) {
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
    const std::string lower = Lowered(word);
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

}  // namespace workerd
