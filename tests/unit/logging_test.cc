// The colour decision of development mode, on a pipe and on a
// pseudo-terminal (no real terminal needed).
#include "daemon/logging.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/unique_fd.h"

namespace workerd {
namespace {

// The terminal side of a new pseudo-terminal, or an invalid fd.
UniqueFd OpenTerminal(UniqueFd* master) {
  master->Reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!*master || ::grantpt(master->Get()) != 0 ||
      ::unlockpt(master->Get()) != 0) {
    return UniqueFd();
  }
  const char* name = ::ptsname(master->Get());
  if (name == nullptr) return UniqueFd();
  return UniqueFd(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
}

TEST(ColourWantedTest, NotOnAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const char* const env[] = {"TERM=xterm-256color", nullptr};
  EXPECT_FALSE(ColourWanted(write_end.Get(), env));
}

TEST(ColourWantedTest, OnATerminalUnlessNoColorOrADumbTerminal) {
  UniqueFd master;
  UniqueFd terminal = OpenTerminal(&master);
  ASSERT_TRUE(terminal) << "cannot open a pseudo-terminal (/dev/ptmx)";
  const char* const plain[] = {"TERM=xterm-256color", "HOME=/root", nullptr};
  EXPECT_TRUE(ColourWanted(terminal.Get(), plain));
  const char* const empty[] = {nullptr};
  EXPECT_TRUE(ColourWanted(terminal.Get(), empty));
  const char* const no_color[] = {"TERM=xterm", "NO_COLOR=1", nullptr};
  EXPECT_FALSE(ColourWanted(terminal.Get(), no_color));
  // no-color.org: only a value that is not empty counts.
  const char* const no_color_empty[] = {"NO_COLOR=", nullptr};
  EXPECT_TRUE(ColourWanted(terminal.Get(), no_color_empty));
  const char* const dumb[] = {"TERM=dumb", nullptr};
  EXPECT_FALSE(ColourWanted(terminal.Get(), dumb));
  const char* const lookalike[] = {"NO_COLORS=1", "XTERM=dumb", nullptr};
  EXPECT_TRUE(ColourWanted(terminal.Get(), lookalike));
}

}  // namespace
}  // namespace workerd
