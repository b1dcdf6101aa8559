// Plans, lowering, the simulator's verdicts and the CSV form, on hand-written schedules.
#include <doctest/doctest.h>

#include "trellis/error.h"
#include "trellis/pipeline_plan.h"
#include "trellis/schedule_grid.h"
#include "trellis/simulator.h"

using namespace trellis;

namespace {

std::vector<Action> actions(const std::string& text) {
  std::vector<Action> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(parse_action(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

std::string text(const std::vector<Action>& list) {
  std::string out;
  for (const Action& a : list) {
    if (!out.empty()) out += ' ';
    out += to_string(a);
  }
  return out;
}

}  // namespace

TEST_CASE("lowering adds a send after each producer and a receive before each consumer") {
  std::vector<std::vector<Action>> compute = {actions("0F0 0B0"), actions("1F0 1B0")};
  auto lowered = lower_communication(compute, {0, 1});
  CHECK(text(lowered[0]) == "0F0 0SEND_F0 0RECV_B0 0B0");
  CHECK(text(lowered[1]) == "1RECV_F0 1F0 1B0 1SEND_B0");
}

TEST_CASE("stages on the same rank hand over without communication") {
  std::vector<std::vector<Action>> compute = {actions("0F0 1F0 1B0 0B0")};
  auto lowered = lower_communication(compute, {0, 0});
  CHECK(text(lowered[0]) == "0F0 1F0 1B0 0B0");
  PipelinePlan plan = plan_from_lists(compute, 1, 2);
  CHECK(simulate(plan).completed);
}

TEST_CASE("the static checks name what is missing or misplaced") {
  auto problems = [](std::vector<std::vector<Action>> lists, int m) {
    try {
      plan_from_lists(std::move(lists), m, 1);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(problems({actions("0F0"), actions("1F0 1B0")}, 1).find("missing the backward of stage 0") !=
        std::string::npos);
  CHECK(problems({actions("0F0 0B0 0F0"), actions("1F0 1B0")}, 1)
            .find("0F0 appears more than once") != std::string::npos);
  CHECK(problems({actions("0F0 0B0 1F0"), actions("1F0 1B0")}, 1)
            .find("stage 1 has compute on ranks 0 and 1") != std::string::npos);
  CHECK(problems({actions("0F0 0B0"), actions("1F0 1B0")}, 2).find("missing 0F1") !=
        std::string::npos);
  CHECK(problems({actions("0F0 0I0"), actions("1F0 1B0")}, 1).find("missing 0W0 (0I0 is there)") !=
        std::string::npos);
  // Hand-placed communication must pair up.
  CHECK(problems({actions("0F0 0SEND_F0 0RECV_B0 0B0"), actions("1F0 1B0 1SEND_B0")}, 1)
            .find("0SEND_F0 has no matching 1RECV_F0") != std::string::npos);
}

TEST_CASE("1F1B by hand on 2 ranks: timeline, bubble and activations") {
  PipelinePlan plan =
      plan_from_lists({actions("0F0 0F1 0B0 0B1"), actions("1F0 1B0 1F1 1B1")}, 2, 1);
  SimulationResult r = simulate(plan, {1, 2, 1, 1, 0});
  REQUIRE(r.completed);
  CHECK(r.makespan == 9);                           // 1B1 ends at 7, then 0B1 takes 2
  CHECK(r.bubble_ratio() == doctest::Approx(0.5));  // (p-1)/m
  CHECK(r.peak_activations[0] == 2);
  CHECK(r.peak_activations[1] == 1);
  std::string grid = draw_timeline(r, {1, 2, 1, 1, 0});
  CHECK(grid.find("rank 0 | 0F0 0F1 .   .   0B0 0B0 .   0B1 0B1") != std::string::npos);
}

TEST_CASE("a deadlock is rejected with every rank's stuck action and what it waits for") {
  // Both ranks run their backward before the other's: rank 0 waits for 1's gradient, rank 1
  // waits for 0's second forward.
  std::string csv = "0F0,0B0,0F1,0B1\n1F0,1F1,1B1,1B0\n";
  PipelinePlan plan = plan_from_lists(parse_schedule_csv(csv, "deadlock.csv"), 2, 1);
  SimulationResult r = simulate(plan);
  REQUIRE_FALSE(r.completed);
  CHECK(r.deadlock.find("the schedule deadlocks") != std::string::npos);
  CHECK(r.deadlock.find(
            "rank 0: 0RECV_B0 waits for 1SEND_B0 (on rank 1, which is stuck before it)") !=
        std::string::npos);
  CHECK(r.deadlock.find("rank 1: 1RECV_F1 waits for 0SEND_F1") != std::string::npos);
  CHECK(r.deadlock.find("[0RECV_B0]") != std::string::npos);  // the grid marks it
  CHECK_THROWS_AS(simulate_or_throw(plan), InputError);
}

TEST_CASE("an action ordered before its own dependency on the same rank is named as such") {
  PipelinePlan plan = plan_from_lists({actions("0B0 0F0")}, 1, 1);
  SimulationResult r = simulate(plan);
  REQUIRE_FALSE(r.completed);
  CHECK(r.deadlock.find("0B0 waits for 0F0 (later on this rank") != std::string::npos);
}

TEST_CASE("CSV round-trips and reports bad cells with file, line and cell") {
  std::vector<std::vector<Action>> lists = {actions("0F0 0SEND_F0 0RECV_B0 0B0"),
                                            actions("1RECV_F0 1F0 1B0 1SEND_B0")};
  std::string csv = format_schedule_csv(lists);
  CHECK(csv == "0F0,0SEND_F0,0RECV_B0,0B0\n1RECV_F0,1F0,1B0,1SEND_B0\n");
  CHECK(parse_schedule_csv(csv, "x.csv") == lists);
  CHECK(parse_schedule_csv("0F0,,0B0\r\n", "x.csv")[0].size() == 2);  // empty cells, CRLF
  CHECK_THROWS_WITH_AS(parse_schedule_csv("0F0,0Q1\n", "bad.csv"),
                       doctest::Contains("bad.csv:1: cell 2: '0Q1' is not a schedule action"),
                       InputError);
}
