// Helping users with what they wrote: "did you mean" suggestions for a
// misspelled name, and quoting their text inside a message.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace workerd {

// Edits (insertions, deletions, substitutions, swaps of two neighbouring
// characters) that turn `a` into `b`, counting bytes.
std::size_t EditDistance(std::string_view a, std::string_view b);

// The candidate that `word` is most likely a misspelling of, or nullopt when
// none is close. Case is ignored. A word of n >= 2 characters may be
// max(1, n/3) edits away ("stop_timout" finds "stop_timeout"); a one-letter
// word gets no suggestion, since every short candidate would be "close".
// That is as far as a typo plausibly goes before suggestions become noise.
// Ties go to the earlier candidate; a candidate equal to `word` is never
// suggested.
std::optional<std::string> Suggest(
    std::string_view word, std::span<const std::string_view> candidates);
std::optional<std::string> Suggest(std::string_view word,
                                   const std::vector<std::string>& candidates);

// `text` in double quotes for a message, escaped like a TOML basic string
// (\" \\ \n \t \u0001) and cut after 80 bytes with "..." so that one odd
// value cannot flood a log line.
std::string Quoted(std::string_view text);

// ASCII letters compared without case ("sigterm" and "SIGTERM"); other
// bytes as they are, so UTF-8 never matches by accident.
bool EqualsIgnoringCase(std::string_view a, std::string_view b);
// `text` with its ASCII letters in lower case.
std::string Lowered(std::string_view text);

}  // namespace workerd
