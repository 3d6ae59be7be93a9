#include "daemon/dependency_graph.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config.h"

namespace workerd {
namespace {

using Names = std::vector<std::string>;

// A program `name` that depends on `needs`, in that order.
ProgramSpec Program(std::string name, Names needs = {}) {
  ProgramSpec program;
  program.name = std::move(name);
  program.command = {"app"};
  for (std::string& need : needs) {
    Dependency dependency;
    dependency.program = std::move(need);
    program.depends_on.push_back(std::move(dependency));
  }
  return program;
}

// StartOrder as names, for readable failures.
Names StartNames(const std::vector<ProgramSpec>& programs) {
  Names names;
  for (std::size_t i : StartOrder(programs)) {
    names.push_back(programs.at(i).name);
  }
  return names;
}

// migrate (oneshot) and redis are needed by web, which jobs needs too:
//   web -> migrate, redis;  jobs -> web, redis;  metrics: alone.
std::vector<ProgramSpec> Deployment() {
  return {Program("web", {"migrate", "redis"}), Program("metrics"),
          Program("jobs", {"web", "redis"}), Program("migrate"),
          Program("redis")};
}

TEST(DependencyGraphTest, StartOrderKeepsFileOrderWithoutDependencies) {
  EXPECT_EQ(StartNames({Program("a"), Program("b"), Program("c")}),
            (Names{"a", "b", "c"}));
  EXPECT_EQ(StartOrder({}), std::vector<std::size_t>{});
}

TEST(DependencyGraphTest, StartOrderPutsDependenciesFirst) {
  EXPECT_EQ(StartNames({Program("web", {"db"}), Program("db")}),
            (Names{"db", "web"}));
  // File order wherever there is a choice: metrics, second in the file,
  // starts first, while web waits for migrate and redis.
  EXPECT_EQ(StartNames(Deployment()),
            (Names{"metrics", "migrate", "redis", "web", "jobs"}));
  EXPECT_EQ(StartOrder(Deployment()),
            (std::vector<std::size_t>{1, 3, 4, 0, 2}));
}

TEST(DependencyGraphTest, StartOrderOfADiamond) {
  // top needs left and right, which both need base.
  EXPECT_EQ(
      StartNames({Program("top", {"left", "right"}), Program("right", {"base"}),
                  Program("left", {"base"}), Program("base")}),
      (Names{"base", "right", "left", "top"}));
}

TEST(DependencyGraphTest, StartOrderIgnoresUnknownNames) {
  EXPECT_EQ(StartNames({Program("web", {"nothing"}), Program("db")}),
            (Names{"web", "db"}));
}

TEST(DependencyGraphTest, StartOrderPutsCyclesLastInFileOrder) {
  EXPECT_EQ(StartNames({Program("a", {"b"}), Program("b", {"a"}), Program("c"),
                        Program("d", {"a"})}),
            (Names{"c", "a", "b", "d"}));
}

TEST(DependencyGraphTest, DirectDependents) {
  const std::vector<ProgramSpec> programs = Deployment();
  EXPECT_EQ(DirectDependents(programs, "redis"), (Names{"web", "jobs"}));
  EXPECT_EQ(DirectDependents(programs, "migrate"), (Names{"web"}));
  EXPECT_EQ(DirectDependents(programs, "web"), (Names{"jobs"}));
  EXPECT_EQ(DirectDependents(programs, "jobs"), Names{});
  EXPECT_EQ(DirectDependents(programs, "nothing"), Names{});
}

TEST(DependencyGraphTest, AllDependentsComeBeforeWhatTheyDependOn) {
  const std::vector<ProgramSpec> programs = Deployment();
  // jobs depends on web: stopped first.
  EXPECT_EQ(AllDependents(programs, "migrate"), (Names{"jobs", "web"}));
  EXPECT_EQ(AllDependents(programs, "redis"), (Names{"jobs", "web"}));
  EXPECT_EQ(AllDependents(programs, "web"), (Names{"jobs"}));
  EXPECT_EQ(AllDependents(programs, "jobs"), Names{});
  EXPECT_EQ(AllDependents(programs, "metrics"), Names{});
  EXPECT_EQ(AllDependents(programs, "nothing"), Names{});
}

TEST(DependencyGraphTest, AllDependentsOfADiamondBaseOnceEach) {
  const std::vector<ProgramSpec> programs = {
      Program("top", {"left", "right"}), Program("right", {"base"}),
      Program("left", {"base"}), Program("base")};
  EXPECT_EQ(AllDependents(programs, "base"), (Names{"top", "left", "right"}));
}

TEST(DependencyGraphTest, AllDependenciesInStartOrderWithoutItself) {
  const std::vector<ProgramSpec> programs = Deployment();
  EXPECT_EQ(AllDependencies(programs, "jobs"),
            (Names{"migrate", "redis", "web"}));
  EXPECT_EQ(AllDependencies(programs, "web"), (Names{"migrate", "redis"}));
  EXPECT_EQ(AllDependencies(programs, "redis"), Names{});
  EXPECT_EQ(AllDependencies(programs, "nothing"), Names{});
  const std::vector<ProgramSpec> diamond = {
      Program("top", {"left", "right"}), Program("right", {"base"}),
      Program("left", {"base"}), Program("base")};
  EXPECT_EQ(AllDependencies(diamond, "top"), (Names{"base", "right", "left"}));
}

TEST(DependencyGraphTest, FindCycleFindsNoneWithoutOne) {
  EXPECT_EQ(FindCycle({}), Names{});
  EXPECT_EQ(FindCycle(Deployment()), Names{});
  EXPECT_EQ(
      FindCycle({Program("top", {"left", "right"}), Program("right", {"base"}),
                 Program("left", {"base"}), Program("base")}),
      Names{});
  EXPECT_EQ(FindCycle({Program("web", {"nothing"})}), Names{});
}

TEST(DependencyGraphTest, FindCycleOfOneTwoAndThree) {
  EXPECT_EQ(FindCycle({Program("web", {"web"})}), (Names{"web", "web"}));
  EXPECT_EQ(FindCycle({Program("web", {"jobs"}), Program("jobs", {"web"})}),
            (Names{"web", "jobs", "web"}));
  EXPECT_EQ(FindCycle({Program("a", {"b"}), Program("b", {"c"}),
                       Program("c", {"a"})}),
            (Names{"a", "b", "c", "a"}));
}

TEST(DependencyGraphTest, FindCycleNotThroughTheFirstProgram) {
  // first leads into the cycle but is not on it.
  EXPECT_EQ(FindCycle({Program("first", {"b"}), Program("b", {"c"}),
                       Program("c", {"b"}), Program("d")}),
            (Names{"b", "c", "b"}));
  EXPECT_EQ(FindCycle({Program("first"), Program("x", {"x"})}),
            (Names{"x", "x"}));
}

TEST(DependencyGraphTest, FindCycleStartsAtTheEarliestProgramOnIt) {
  // Entered from z (not on it) at b, but told from a, earlier in the file.
  EXPECT_EQ(FindCycle({Program("z", {"b"}), Program("a", {"b"}),
                       Program("b", {"a"})}),
            (Names{"a", "b", "a"}));
  EXPECT_EQ(FindCycle({Program("z", {"b"}), Program("a", {"c"}),
                       Program("b", {"a"}), Program("c", {"b"})}),
            (Names{"a", "c", "b", "a"}));
}

}  // namespace
}  // namespace workerd
