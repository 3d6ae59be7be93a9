#include "daemon/signals.h"

#include <signal.h>
#include <string.h>

#include <array>
#include <utility>

#include "daemon/suggest.h"

namespace workerd {
namespace {

// Older names that sigabbrev_np does not return but users still write.
constexpr std::array<std::pair<std::string_view, int>, 3> kAliases = {
    {{"IOT", SIGIOT}, {"IO", SIGIO}, {"CLD", SIGCHLD}}};

}  // namespace

std::optional<int> ParseSignal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    // At most two digits: enough for NSIG and safe from overflow.
    if (text.size() > 2) return std::nullopt;
    const int number = std::stoi(std::string(text));
    if (number < 1 || number >= NSIG) return std::nullopt;
    return number;
  }
  if (text.size() > 3 && EqualsIgnoringCase(text.substr(0, 3), "SIG")) {
    text.remove_prefix(3);
  }
  for (int number = 1; number < NSIG; ++number) {
    const char* name = sigabbrev_np(number);
    if (name != nullptr && EqualsIgnoringCase(text, name)) return number;
  }
  for (const auto& [alias, number] : kAliases) {
    if (EqualsIgnoringCase(text, alias)) return number;
  }
  return std::nullopt;
}

std::string SignalName(int signal) {
  const char* name = sigabbrev_np(signal);
  if (name == nullptr) return "signal " + std::to_string(signal);
  return std::string("SIG") + name;
}

std::vector<std::string> SignalNames() {
  std::vector<std::string> names;
  for (int number = 1; number < NSIG; ++number) {
    if (const char* name = sigabbrev_np(number)) names.emplace_back(name);
  }
  return names;
}

std::optional<std::string> SuggestSignal(std::string_view text) {
  if (text.size() > 3 && (text.starts_with("SIG") || text.starts_with("sig"))) {
    text.remove_prefix(3);
  }
  return Suggest(text, SignalNames());
}

}  // namespace workerd
