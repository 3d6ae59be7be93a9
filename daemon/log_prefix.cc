#include "daemon/log_prefix.h"

#include <fmt/format.h>

#include <array>
#include <iterator>

namespace workerd {
namespace {

constexpr std::array<std::string_view, 10> kPalette = {
    "\x1b[36m",  // cyan
    "\x1b[33m",  // yellow
    "\x1b[32m",  // green
    "\x1b[35m",  // magenta
    "\x1b[34m",  // blue
    "\x1b[96m",  // bright cyan
    "\x1b[93m",  // bright yellow
    "\x1b[92m",  // bright green
    "\x1b[95m",  // bright magenta
    "\x1b[94m",  // bright blue
};
constexpr std::string_view kReset = "\x1b[0m";

}  // namespace

std::string LogPrefix(std::string_view time, std::string_view program,
                      int instance, OutputStream stream,
                      std::string_view colour) {
  std::string prefix;
  if (!time.empty()) {
    prefix += time;
    prefix += ' ';
  }
  prefix += colour;
  fmt::format_to(std::back_inserter(prefix), "{}:{} {}", program, instance,
                 OutputStreamName(stream));
  if (!colour.empty()) prefix += kReset;
  prefix += ": ";
  return prefix;
}

std::string_view ProgramColour(std::size_t n) {
  return kPalette[n % kPalette.size()];
}

}  // namespace workerd
