// A command written as one string, split into argv words the way a POSIX
// shell splits words, without ever running a shell.
//
//   - Blanks (space, tab, newline, and also CR, VT, FF so that a file with
//     CRLF line ends splits the same) separate words.
//   - '...' keeps everything inside literally.
//   - "..." keeps everything inside, except that a backslash escapes $, `,
//     ", \ and a newline (which it removes); before anything else it stays.
//   - A backslash outside quotes makes the next character literal; before a
//     newline it joins the lines.
//   - '' and "" make an empty word.
//
// A shell would do more than split, and since nothing here does, whatever a
// shell would treat specially is an error rather than a silently different
// meaning: the operators | & ; < > ( ) and the expansions $NAME, ${, $( and
// ` when unquoted (the expansions also inside "..."). Quoting them makes them
// literal. Globs (*, ?) and ~ are not expanded and are not errors: they
// usually are literal arguments. A # is an ordinary character, not a
// comment.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workerd {

// The words of `command` (none for a blank string), or nullopt with `*error`
// (when not null) set to a sentence such as
// `the single quote at character 9 is never closed`.
std::optional<std::vector<std::string>> SplitCommand(
    std::string_view command, std::string* error = nullptr);

}  // namespace workerd
