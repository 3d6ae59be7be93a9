#include "daemon/reload_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace workerd {
namespace {

using Keys = std::vector<std::string>;

ProgramSpec Program(const std::string& name, int workers) {
  ProgramSpec program;
  program.name = name;
  program.command = {"/usr/bin/" + name};
  program.workers = workers;
  return program;
}

// web (4 workers), jobs (2), cron (1, autostart = false).
Config Base() {
  Config config;
  config.path = "workers.toml";
  config.programs = {Program("web", 4), Program("jobs", 2), Program("cron", 1)};
  config.programs[2].autostart = false;
  return config;
}

ProgramSpec& Find(Config& config, const std::string& name) {
  return *std::ranges::find(config.programs, name, &ProgramSpec::name);
}

const ProgramReload& Entry(const ReloadPlan& plan, const std::string& name) {
  auto found = std::ranges::find(plan.programs, name, &ProgramReload::name);
  EXPECT_NE(found, plan.programs.end()) << name;
  return *found;
}

TEST(ReloadPlanTest, SameConfigLeavesEveryProgramUnchanged) {
  ReloadPlan plan = PlanReload(Base(), Base());
  ASSERT_EQ(plan.programs.size(), 3u);
  for (const ProgramReload& program : plan.programs) {
    EXPECT_EQ(program.action, ReloadAction::kUnchanged) << program.name;
    EXPECT_TRUE(program.ok);
  }
  EXPECT_TRUE(plan.warnings.empty());
}

TEST(ReloadPlanTest, NewProgramsStartUnlessAutostartIsOff) {
  Config next = Base();
  next.programs.push_back(Program("api", 2));
  next.programs.push_back(Program("report", 1));
  next.programs.back().autostart = false;
  ReloadPlan plan = PlanReload(Base(), next);
  EXPECT_EQ(Entry(plan, "api").action, ReloadAction::kStarted);
  EXPECT_EQ(Entry(plan, "api").to, 2);
  EXPECT_EQ(Entry(plan, "report").action, ReloadAction::kAdded);
}

TEST(ReloadPlanTest, RemovedProgramIsStoppedAndListedLast) {
  Config next = Base();
  next.programs.erase(next.programs.begin());  // web
  ReloadPlan plan = PlanReload(Base(), next);
  ASSERT_EQ(plan.programs.size(), 3u);
  EXPECT_EQ(plan.programs.back().name, "web");
  EXPECT_EQ(plan.programs.back().action, ReloadAction::kStopped);
  EXPECT_EQ(plan.programs.back().from, 4);
}

TEST(ReloadPlanTest, ChangedCommandRollsAndKeepsTheScale) {
  Config next = Base();
  Find(next, "web").command = {"/usr/bin/web", "--new"};
  Find(next, "web").workers = 8;
  ReloadPlan plan = PlanReload(Base(), next);
  const ProgramReload& web = Entry(plan, "web");
  EXPECT_EQ(web.action, ReloadAction::kRolled);
  EXPECT_EQ(web.changes, Keys{"command"});
  EXPECT_EQ(web.from, 4);
  EXPECT_EQ(web.to, 8);
  EXPECT_EQ(DescribeProgramReload(web), "web: rolled (command); scaled 4 -> 8");
}

TEST(ReloadPlanTest, ChangedTypeRestartsInsteadOfRolling) {
  Config next = Base();
  Find(next, "jobs").type = ProgramType::kOneshot;
  Find(next, "jobs").restart = RestartPolicy::kNever;
  ReloadPlan plan = PlanReload(Base(), next);
  EXPECT_EQ(Entry(plan, "jobs").action, ReloadAction::kRestarted);
}

TEST(ReloadPlanTest, KeysThatNeedNoNewProcessUpdate) {
  Config next = Base();
  Find(next, "jobs").stop_timeout = Duration(2000);
  ReloadPlan plan = PlanReload(Base(), next);
  EXPECT_EQ(Entry(plan, "jobs").action, ReloadAction::kUpdated);
  EXPECT_EQ(DescribeProgramReload(Entry(plan, "jobs")),
            "jobs: updated (stop_timeout)");
}

TEST(ReloadPlanTest, WorkersAloneScale) {
  Config next = Base();
  Find(next, "jobs").workers = 5;
  ReloadPlan plan = PlanReload(Base(), next);
  EXPECT_EQ(Entry(plan, "jobs").action, ReloadAction::kScaled);
  EXPECT_EQ(DescribeProgramReload(Entry(plan, "jobs")), "jobs: scaled 2 -> 5");
}

TEST(ReloadPlanTest, DaemonKeysThatNeedARestartAreWarnings) {
  Config next = Base();
  next.daemon.control_socket = "/run/other.sock";
  next.daemon.shutdown_timeout = Duration(5000);
  ReloadPlan plan = PlanReload(Base(), next);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_EQ(plan.warnings[0],
            "[daemon] control_socket changed; it takes effect when workerd "
            "restarts");
}

TEST(ReloadPlanTest, DescriptionCarriesANoteOrAFailure) {
  ProgramReload web{.name = "web",
                    .action = ReloadAction::kRolled,
                    .changes = {"env"},
                    .from = 2,
                    .to = 2,
                    .ok = false,
                    .message = "the new worker for web:0 failed"};
  EXPECT_EQ(DescribeProgramReload(web),
            "web: rolled (env): the new worker for web:0 failed");
  ProgramReload old{.name = "old", .action = ReloadAction::kStopped,
                    .changes = {}, .from = 3, .to = 0, .ok = true,
                    .message = ""};
  EXPECT_EQ(DescribeProgramReload(old), "old: stopped");
}

}  // namespace
}  // namespace workerd
