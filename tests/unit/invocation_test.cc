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
            "--no-wait applies only to start, stop, restart, scale and "
            "reload");
  EXPECT_EQ(Usage(Make("shutdown", {}, true)),
            "--no-wait applies only to start, stop, restart, scale and "
            "reload");
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

TEST(BuildRequestTest, StopWithDependents) {
  Invocation invocation = Make("stop", {"redis"});
  EXPECT_FALSE(Built(invocation).args.contains("with_dependents"));
  invocation.with_dependents = true;
  EXPECT_EQ(Built(invocation).args["with_dependents"], true);
  EXPECT_EQ(Built(invocation).args["targets"], Json::array({"redis"}));
  Invocation start = Make("start", {"redis"});
  start.with_dependents = true;
  EXPECT_EQ(Usage(start), "--with-dependents applies only to stop");
  Invocation instance = Make("stop", {"redis", "queue:02"});
  instance.with_dependents = true;
  EXPECT_EQ(Usage(instance),
            "--with-dependents stops whole programs; name queue, not queue:2");
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

TEST(BuildRequestTest, ReloadSendsOnlyTheOptionsGiven) {
  const proto::Request plain = Built(Make("reload"));
  EXPECT_EQ(plain.command, "reload");
  EXPECT_EQ(plain.args, Json::object());

  Invocation dry_run = Make("reload");
  dry_run.dry_run = true;
  EXPECT_EQ(Built(dry_run).args, Json::parse(R"({"dry_run":true})"));

  EXPECT_EQ(Built(Make("reload", {}, true)).args,
            Json::parse(R"({"wait":false})"));
  dry_run.no_wait = true;
  EXPECT_EQ(Built(dry_run).args,
            Json::parse(R"({"dry_run":true,"wait":false})"));
}

TEST(BuildRequestTest, ReloadTakesNoTargets) {
  EXPECT_EQ(Usage(Make("reload", {"web"})),
            "reload takes no arguments, but got \"web\"");
}

TEST(BuildRequestTest, DryRunOnlyForReload) {
  for (Invocation invocation : {Make("restart"), Make("scale", {"web=2"}),
                                Make("status"), Make("shutdown")}) {
    invocation.dry_run = true;
    EXPECT_EQ(Usage(invocation), "--dry-run applies only to reload")
        << invocation.command;
  }
}

TEST(BuildRequestTest, LogsSendsItsTargetAndOnlyTheOptionsGiven) {
  const proto::Request plain = Built(Make("logs", {"web:02"}));
  EXPECT_EQ(plain.command, "logs");
  EXPECT_EQ(plain.args, Json::parse(R"({"targets":["web:2"]})"));

  Invocation everything = Make("logs", {"web"});
  everything.lines = "100";
  everything.follow = true;
  everything.stderr_only = true;
  EXPECT_EQ(Built(everything).args,
            Json::parse(R"({"targets":["web"],"lines":100,"follow":true,)"
                        R"("stream":"stderr"})"));

  Invocation none_yet = Make("logs", {"web"});
  none_yet.lines = "0";
  none_yet.stdout_only = true;
  EXPECT_EQ(Built(none_yet).args,
            Json::parse(R"({"targets":["web"],"lines":0,"stream":"stdout"})"));
}

TEST(BuildRequestTest, LogsTakesExactlyOneTarget) {
  EXPECT_EQ(Usage(Make("logs")), "logs takes one TARGET, like web or web:2");
  EXPECT_EQ(Usage(Make("logs", {"web", "jobs"})),
            "logs takes one TARGET, like web or web:2, but got 2");
  EXPECT_EQ(Usage(Make("logs", {"web:"})),
            "invalid target \"web:\": the instance after ':' is missing");
}

TEST(BuildRequestTest, LogsLinesMustBeACount) {
  auto lines = [](std::string text) {
    Invocation invocation = Make("logs", {"web"});
    invocation.lines = std::move(text);
    return Usage(invocation);
  };
  EXPECT_EQ(lines("-5"), "-n must be a non-negative integer, but got \"-5\"");
  EXPECT_EQ(lines("ten"), "-n must be a non-negative integer, but got \"ten\"");
  EXPECT_EQ(lines(""), "-n must be a non-negative integer, but got \"\"");
  EXPECT_EQ(lines("99999999999"), "-n is too large, but got \"99999999999\"");
}

TEST(BuildRequestTest, LogsStreamsExcludeEachOther) {
  Invocation invocation = Make("logs", {"web"});
  invocation.stdout_only = true;
  invocation.stderr_only = true;
  EXPECT_EQ(Usage(invocation),
            "--stdout and --stderr exclude each other; without either, logs "
            "shows both streams");
}

TEST(BuildRequestTest, LogsRefusesOptionsOfOtherCommands) {
  EXPECT_EQ(Usage(Make("logs", {"web"}, true)),
            "--no-wait applies only to start, stop, restart, scale and "
            "reload");
  Invocation at_once = Make("logs", {"web"});
  at_once.at_once = true;
  EXPECT_EQ(Usage(at_once), "--all applies only to restart");
  // And the other way round.
  Invocation status = Make("status");
  status.follow = true;
  EXPECT_EQ(Usage(status),
            "-n, -f, --stdout, --stderr and --reopen apply only to logs");
}

TEST(BuildRequestTest, LogsReopenIsReopenLogsAlone) {
  Invocation reopen = Make("logs");
  reopen.reopen = true;
  const proto::Request request = Built(reopen);
  EXPECT_EQ(request.command, "reopen_logs");
  EXPECT_EQ(request.args, Json::object());

  Invocation with_target = reopen;
  with_target.operands = {"web"};
  EXPECT_EQ(Usage(with_target),
            "logs --reopen reopens every log file and takes no TARGET, but "
            "got \"web\"");
  const std::string not_with =
      "--reopen cannot be combined with -n, -f, --stdout or --stderr";
  Invocation with_lines = reopen;
  with_lines.lines = "10";
  EXPECT_EQ(Usage(with_lines), not_with);
  Invocation with_follow = reopen;
  with_follow.follow = true;
  EXPECT_EQ(Usage(with_follow), not_with);
  Invocation with_stream = reopen;
  with_stream.stderr_only = true;
  EXPECT_EQ(Usage(with_stream), not_with);
}

TEST(ResolveSocketPathTest, TheSystemDaemonsSocketWhenTheUsersOwnIsMissing) {
  const std::string own = "/run/user/1000/workerd/control.sock";
  auto only = [](std::string present) {
    return [present](const std::string& path) { return path == present; };
  };
  EXPECT_EQ(ChooseSocketPath(std::nullopt, nullptr, own,
                             only(proto::kSystemControlSocket)),
            proto::kSystemControlSocket);
  // A user's own workerd comes first; with neither, the error names the
  // user's own path.
  EXPECT_EQ(ChooseSocketPath(std::nullopt, nullptr, own,
                             [](const std::string&) { return true; }),
            own);
  EXPECT_EQ(ChooseSocketPath(std::nullopt, nullptr, own, only("")), own);
  // Explicit choices are never second-guessed.
  EXPECT_EQ(ChooseSocketPath(std::nullopt, "/b.sock", own,
                             only(proto::kSystemControlSocket)),
            "/b.sock");
  EXPECT_EQ(ChooseSocketPath(std::string("/a.sock"), nullptr, own,
                             only(proto::kSystemControlSocket)),
            "/a.sock");
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
