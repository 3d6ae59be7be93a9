#include "daemon/command_split.h"

#include "daemon/suggest.h"

namespace workerd {
namespace {

constexpr std::string_view kBlanks = " \t\n\r\v\f";
constexpr std::string_view kOperators = "|&;<>()";

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// 1-based position of byte `index` in characters, for messages.
std::size_t CharacterNumber(std::string_view text, std::size_t index) {
  std::size_t number = 1;
  for (std::size_t i = 0; i < index; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++number;
  }
  return number;
}

// The shell syntax that starts at `text[i]` if a shell would act on it there
// ("|", "&&", "$PORT", "${", "$(", "`"), or empty. `quoted`: inside "...",
// where only expansions remain special.
std::string_view ShellSyntaxAt(std::string_view text, std::size_t i,
                               bool quoted) {
  const char c = text[i];
  if (!quoted && kOperators.find(c) != std::string_view::npos) {
    std::size_t end = i;
    while (end < text.size() &&
           kOperators.find(text[end]) != std::string_view::npos) {
      ++end;
    }
    return text.substr(i, end - i);
  }
  if (c == '`') return text.substr(i, 1);
  if (c == '$' && i + 1 < text.size()) {
    const char next = text[i + 1];
    if (next == '{' || next == '(') return text.substr(i, 2);
    if (IsNameStart(next)) {
      std::size_t end = i + 2;
      while (end < text.size() && IsNameChar(text[end])) ++end;
      return text.substr(i, end - i);
    }
  }
  return {};
}

// `how` says how to pass it literally where it stands ("quote it").
std::string ShellSyntaxMessage(std::string_view syntax, const char* how) {
  return Quoted(syntax) +
         " is shell syntax, but the command is not run by a shell; " + how +
         R"( to pass it literally, or use command = ["sh", "-c", "..."])";
}

}  // namespace

std::optional<std::vector<std::string>> SplitCommand(std::string_view command,
                                                     std::string* error) {
  auto fail = [error](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // also true for a word that is so far ""
  std::size_t i = 0;
  while (i < command.size()) {
    const char c = command[i];
    if (kBlanks.find(c) != std::string_view::npos) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    if (std::string_view syntax = ShellSyntaxAt(command, i, false);
        !syntax.empty()) {
      return fail(ShellSyntaxMessage(syntax, "quote it"));
    }
    if (c == '\\' && i + 1 < command.size() && command[i + 1] == '\n') {
      i += 2;  // a line continuation: neither a character nor a word break
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 == command.size()) {
        return fail("the backslash at character " +
                    std::to_string(CharacterNumber(command, i)) +
                    " ends the command and escapes nothing");
      }
      word += command[i + 1];
      i += 2;
    } else if (c == '\'') {
      const std::size_t close = command.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return fail("the single quote at character " +
                    std::to_string(CharacterNumber(command, i)) +
                    " is never closed");
      }
      word += command.substr(i + 1, close - i - 1);
      i = close + 1;
    } else if (c == '"') {
      const std::size_t open = i++;
      while (true) {
        if (i == command.size()) {
          return fail("the double quote at character " +
                      std::to_string(CharacterNumber(command, open)) +
                      " is never closed");
        }
        const char q = command[i];
        if (q == '"') break;
        if (std::string_view syntax = ShellSyntaxAt(command, i, true);
            !syntax.empty()) {
          return fail(ShellSyntaxMessage(syntax, "use single quotes"));
        }
        if (q == '\\' && i + 1 < command.size() &&
            std::string_view("$`\"\\\n").find(command[i + 1]) !=
                std::string_view::npos) {
          if (command[i + 1] != '\n') word += command[i + 1];
          i += 2;
        } else {
          word += q;
          ++i;
        }
      }
      ++i;  // the closing quote
    } else {
      word += c;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace workerd
