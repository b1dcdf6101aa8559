// The planner times a pipeline and finds its activation peak by simulating the schedule
// plugin's own plan (trellis/simulator.h, activation_timeline.h), not by a formula per
// schedule. Where the published closed forms are exact — equal stages, no send latency — the
// simulation of the build tree's schedule plugins must give them:
//   GPipe, 1F1B            step (m + p - 1)(F + B); 1F1B holds p - r microbatches on rank r,
//                          GPipe all m
//   interleaved (v chunks) step m (F + B) + (p - 1)(F + B) / v, a chunk costing 1/v of a stage
//   ZB-H1 (F = I = W)      step m (F + I + W) + (p - 1)(F + I - W), at most p microbatches held
#include <doctest/doctest.h>

#include <algorithm>

#include "build_tree_families.h"
#include "trellis/simulator.h"
#include "plan/activation_timeline.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

PipelinePlan plan_of(const std::string& schedule, int p, int m, int v = 1) {
  return build_plan(*test::build_tree_plugins().make_schedule(schedule, {}), {p, 0, m, v});
}

// Alive (stage, microbatch) activations per rank, every chunk the same size.
std::vector<int> alive(const PipelinePlan& plan) {
  ChunkActivations one;
  one.after_forward = one.after_input = one.peak_in_backward = one.peak_in_input = 1.0;
  std::vector<int> out;
  for (const ActivationPeak& peak :
       activation_peaks(plan, std::vector<ChunkActivations>(plan.stages(), one)))
    out.push_back(peak.alive);
  return out;
}

}  // namespace

TEST_CASE("GPipe and 1F1B simulate to (m + p - 1)(F + B); 1F1B holds p - r, GPipe m") {
  const double F = 1.0, B = 2.0;
  for (int p : {2, 4}) {
    for (int m : {4, 8}) {
      CAPTURE(p);
      CAPTURE(m);
      for (const char* schedule : {"gpipe", "1f1b"}) {
        CAPTURE(schedule);
        const PipelinePlan plan = plan_of(schedule, p, m);
        const SimulationResult sim = simulate(plan, ActionCosts{F, B, 1.0, 1.0, 0.0});
        REQUIRE(sim.completed);
        CHECK(sim.makespan == doctest::Approx((m + p - 1) * (F + B)));
        CHECK(sim.bubble_ratio() == doctest::Approx(static_cast<double>(p - 1) / m));
        const std::vector<int> held = alive(plan);
        for (int r = 0; r < p; ++r)
          CHECK(held[static_cast<std::size_t>(r)] == (schedule[0] == 'g' ? m : p - r));
      }
    }
  }
}

TEST_CASE("interleaving v chunks divides the fill and drain by v") {
  const double F = 1.0, B = 2.0;
  for (int v : {2, 4}) {
    const int p = 4, m = 8;
    CAPTURE(v);
    const PipelinePlan plan = plan_of("interleaved", p, m, v);
    const SimulationResult sim = simulate(plan, ActionCosts{F / v, B / v, 1.0, 1.0, 0.0});
    REQUIRE(sim.completed);
    CHECK(sim.makespan == doctest::Approx(m * (F + B) + (p - 1) * (F + B) / v));
  }
}

TEST_CASE("ZB-H1 with F = I = W: m (F + I + W) + (p - 1)(F + I - W), at most p held") {
  const double F = 1.0, I = 1.0, W = 1.0;
  for (int p : {2, 4}) {
    const int m = 8;
    CAPTURE(p);
    const PipelinePlan plan = plan_of("zbh1", p, m);
    const SimulationResult sim = simulate(plan, ActionCosts{F, I + W, I, W, 0.0});
    REQUIRE(sim.completed);
    CHECK(sim.makespan == doctest::Approx(m * (F + I + W) + (p - 1) * (F + I - W)));
    const std::vector<int> held = alive(plan);
    CHECK(held.front() == p);
    CHECK(*std::max_element(held.begin(), held.end()) == p);
  }
}
