// Signal names as users write them ("TERM", "SIGTERM", "term", "15") and as
// workerd prints them ("SIGTERM").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workerd {

// The signal number for a name with or without "SIG", in any case, for the
// aliases IOT, IO and CLD, or for a number from 1 to NSIG - 1 (real-time
// signals have no names here; use their numbers). nullopt otherwise.
std::optional<int> ParseSignal(std::string_view text);

// "SIGTERM"; "signal 42" for a number without a name.
std::string SignalName(int signal);

// The names ParseSignal knows, without "SIG", in signal number order: the
// candidates for a "did you mean".
std::vector<std::string> SignalNames();

// The signal name, without "SIG", that `text` (which ParseSignal refused)
// is most likely a misspelling of: "TERM" for "TREM" or "SIGTREM". A
// leading "SIG" or "sig" is ignored. nullopt when no name is close.
std::optional<std::string> SuggestSignal(std::string_view text);

}  // namespace workerd
