#include "daemon/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <optional>

namespace workerd {
namespace {

TEST(ParseSignalTest, AcceptsNamesWithOrWithoutSigInAnyCase) {
  EXPECT_EQ(ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("term"), SIGTERM);
  EXPECT_EQ(ParseSignal("sigterm"), SIGTERM);
  EXPECT_EQ(ParseSignal("SigTerm"), SIGTERM);
  EXPECT_EQ(ParseSignal("INT"), SIGINT);
  EXPECT_EQ(ParseSignal("QUIT"), SIGQUIT);
  EXPECT_EQ(ParseSignal("HUP"), SIGHUP);
  EXPECT_EQ(ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(ParseSignal("USR1"), SIGUSR1);
  EXPECT_EQ(ParseSignal("SIGUSR2"), SIGUSR2);
  EXPECT_EQ(ParseSignal("WINCH"), SIGWINCH);
}

TEST(ParseSignalTest, AcceptsOldAliases) {
  EXPECT_EQ(ParseSignal("IOT"), SIGABRT);
  EXPECT_EQ(ParseSignal("SIGIO"), SIGIO);
  EXPECT_EQ(ParseSignal("POLL"), SIGIO);
  EXPECT_EQ(ParseSignal("CLD"), SIGCHLD);
}

TEST(ParseSignalTest, AcceptsNumbersOfRealSignals) {
  EXPECT_EQ(ParseSignal("15"), 15);
  EXPECT_EQ(ParseSignal("1"), 1);
  EXPECT_EQ(ParseSignal("09"), 9);
  EXPECT_EQ(ParseSignal(std::to_string(NSIG - 1)), NSIG - 1);
  EXPECT_EQ(ParseSignal("42"), 42);  // real-time signals by number
  EXPECT_EQ(ParseSignal("0"), std::nullopt);
  EXPECT_EQ(ParseSignal(std::to_string(NSIG)), std::nullopt);
  EXPECT_EQ(ParseSignal("015"), std::nullopt);
  EXPECT_EQ(ParseSignal("99999999999999999999"), std::nullopt);
}

TEST(ParseSignalTest, RejectsEverythingElse) {
  EXPECT_EQ(ParseSignal(""), std::nullopt);
  EXPECT_EQ(ParseSignal("SIG"), std::nullopt);
  EXPECT_EQ(ParseSignal("TREM"), std::nullopt);
  EXPECT_EQ(ParseSignal("SIGSIGTERM"), std::nullopt);
  EXPECT_EQ(ParseSignal(" TERM"), std::nullopt);
  EXPECT_EQ(ParseSignal("-15"), std::nullopt);
  EXPECT_EQ(ParseSignal("15s"), std::nullopt);
  EXPECT_EQ(ParseSignal("RTMIN"), std::nullopt);
}

TEST(SignalNameTest, NamesKnownSignals) {
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGHUP), "SIGHUP");
  EXPECT_EQ(SignalName(SIGUSR1), "SIGUSR1");
}

TEST(SignalNameTest, NumbersTheRest) {
  EXPECT_EQ(SignalName(42), "signal 42");
  EXPECT_EQ(SignalName(0), "signal 0");
  EXPECT_EQ(SignalName(-1), "signal -1");
  EXPECT_EQ(SignalName(1000), "signal 1000");
}

TEST(SignalNameTest, RoundTripsThroughParse) {
  for (int signal = 1; signal < NSIG; ++signal) {
    const std::string name = SignalName(signal);
    if (name.starts_with("signal ")) continue;
    EXPECT_EQ(ParseSignal(name), signal) << name;
  }
}

TEST(SignalNamesTest, ListsNamesWithoutSigInNumberOrder) {
  const std::vector<std::string> names = SignalNames();
  ASSERT_GE(names.size(), 31u);
  EXPECT_EQ(names[0], "HUP");
  EXPECT_EQ(names[SIGTERM - 1], "TERM");
  EXPECT_NE(std::find(names.begin(), names.end(), "KILL"), names.end());
}

TEST(SuggestSignalTest, SuggestsANameWithoutSig) {
  EXPECT_EQ(SuggestSignal("TREM"), "TERM");
  EXPECT_EQ(SuggestSignal("SIGTREM"), "TERM");
  EXPECT_EQ(SuggestSignal("sigtrem"), "TERM");
  EXPECT_EQ(SuggestSignal("USR3"), "USR1");
  EXPECT_EQ(SuggestSignal("SIGHPU"), "HUP");
}

TEST(SuggestSignalTest, NothingWhenNoNameIsClose) {
  EXPECT_EQ(SuggestSignal("SHUTDOWN"), std::nullopt);
  EXPECT_EQ(SuggestSignal("SIG"), std::nullopt);
  EXPECT_EQ(SuggestSignal(""), std::nullopt);
}

}  // namespace
}  // namespace workerd
