#include "ctl/invocation.h"

#include <gtest/gtest.h>

#include "proto/default_socket.h"

namespace workerd::ctl {
namespace {

using proto::Json;

Invocation Make(std::string command, std::vector<std::string> operands = {},
                bool no_wait = false) {
  Invocation invocation;
  invocation.command = std::move(command);
  invocation.operands = std::move(operands);
  invocation.no_wait = no_wait;
  return invocation;
}

proto::Request Built(const Invocation& invocation) {
  auto built = BuildRequest(invocation);
  if (auto* usage = std::get_if<std::string>(&built)) {
    ADD_FAILURE() << "unexpected usage error: " << *usage;
    return {};
  }
  return std::get<proto::Request>(built);
}

std::string Usage(const Invocation& invocation) {
  auto built = BuildRequest(invocation);
  if (!std::holds_alternative<std::string>(built)) {
    ADD_FAILURE() << "expected a usage error for " << invocation.command;
    return "";
  }
  return std::get<std::string>(built);
}

TEST(BuildRequestTest, TargetsAreNormalizedAndOptional) {
  const proto::Request status = Built(Make("status"));
  EXPECT_EQ(status.command, "status");
  EXPECT_EQ(status.args, Json::object());

  const proto::Request stop = Built(Make("stop", {"web", "jobs:02"}));
  EXPECT_EQ(stop.command, "stop");
  EXPECT_EQ(stop.args, Json::parse(R"({"targets":["web","jobs:2"]})"));
}

TEST(BuildRequestTest, NoWaitOnlyWhereItMeansSomething) {
  EXPECT_EQ(Built(Make("restart", {"web"}, true)).args,
            Json::parse(R"({"targets":["web"],"wait":false})"));
  EXPECT_EQ(Built(Make("start", {}, true)).args,
            Json::parse(R"({"wait":false})"));
  EXPECT_EQ(Usage(Make("status", {}, true)),
            "--no-wait applies only to start, stop, restart and scale");
  EXPECT_EQ(Usage(Make("shutdown", {}, true)),
            "--no-wait applies only to start, stop, restart and scale");
}

TEST(BuildRequestTest, RestartAllRestartsAtOnce) {
  Invocation invocation = Make("restart", {"web"});
  EXPECT_FALSE(Built(invocation).args.contains("at_once"));
  invocation.at_once = true;
  EXPECT_EQ(Built(invocation).args["at_once"], true);
  Invocation stop = Make("stop", {"web"});
  stop.at_once = true;
  EXPECT_EQ(Usage(stop), "--all applies only to restart");
}

TEST(BuildRequestTest, BadTargetsAreUsageErrors) {
  EXPECT_EQ(Usage(Make("start", {"web", "web:x"})),
            "invalid target \"web:x\": the instance after ':' must be a "
            "non-negative integer");
}

TEST(BuildRequestTest, ScaleTakesNameEqualsCount) {
  EXPECT_EQ(Built(Make("scale", {"web=8", "jobs=0"})).args,
            Json::parse(R"({"workers":{"web":8,"jobs":0}})"));
  EXPECT_EQ(Built(Make("scale", {"web=8"}, true)).args,
            Json::parse(R"({"workers":{"web":8},"wait":false})"));
}

TEST(BuildRequestTest, ScaleNamesTheBadArgument) {
  EXPECT_EQ(Usage(Make("scale", {})),
            "scale needs at least one NAME=N, e.g. workerctl scale web=4");
  EXPECT_EQ(Usage(Make("scale", {"web=8", "db"})),
            "invalid scale argument \"db\": expected NAME=N, e.g. web=4");
  EXPECT_EQ(Usage(Make("scale", {"web=x"})),
            "invalid scale argument \"web=x\": N must be a non-negative "
            "integer");
  EXPECT_EQ(Usage(Make("scale", {"web=-1"})),
            "invalid scale argument \"web=-1\": N must be a non-negative "
            "integer");
  EXPECT_EQ(Usage(Make("scale", {"web="})),
            "invalid scale argument \"web=\": the number of workers is "
            "missing");
  EXPECT_EQ(Usage(Make("scale", {"=3"})),
            "invalid scale argument \"=3\": the program name is missing");
  EXPECT_EQ(Usage(Make("scale", {"web:1=3"})),
            "invalid scale argument \"web:1=3\": scale takes a program name, "
            "not \"web:1\"");
  EXPECT_EQ(Usage(Make("scale", {"web=99999999999"})),
            "invalid scale argument \"web=99999999999\": N is too large");
  EXPECT_EQ(Usage(Make("scale", {"web=2", "web=3"})),
            "program \"web\" is given twice to scale");
}

TEST(BuildRequestTest, CommandsWithoutArguments) {
  EXPECT_EQ(Built(Make("version")).command, "version");
  EXPECT_EQ(Built(Make("shutdown")).args, Json::object());
  EXPECT_EQ(Usage(Make("shutdown", {"now"})),
            "shutdown takes no arguments, but got \"now\"");
  EXPECT_EQ(Usage(Make("reboot")), "unknown command \"reboot\"");
}

TEST(ResolveSocketPathTest, FlagThenEnvironmentThenDefault) {
  EXPECT_EQ(ResolveSocketPath(std::string("/a.sock"), "/b.sock"), "/a.sock");
  EXPECT_EQ(ResolveSocketPath(std::nullopt, "/b.sock"), "/b.sock");
  EXPECT_EQ(ResolveSocketPath(std::nullopt, ""),
            proto::DefaultControlSocketPath());
  EXPECT_EQ(ResolveSocketPath(std::nullopt, nullptr),
            proto::DefaultControlSocketPath());
}

}  // namespace
}  // namespace workerd::ctl
