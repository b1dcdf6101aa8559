// Every shipped schedule over pipeline sizes {1,2,3,4,8}, microbatches 1..16 and virtual stages
// {1,2,3} where the schedule accepts them: the plan is consistent, the simulator runs it to the
// end, the bubble equals the closed form, and the activations alive stay within bounds.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "trellis/error.h"
#include "trellis/pipeline_plan.h"
#include "trellis/plugin_registry.h"
#include "trellis/simulator.h"

using namespace trellis;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry r =
      PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  return r;
}

bool accepted(const std::string& name, int p, int m, int v) {
  RunQuery q;
  q.sizes.pipeline = p;
  q.microbatches = m;
  q.virtual_stages = v;
  Options none;
  q.options = &none;
  return registry().check(PluginKind::schedule, name, q).empty();
}

SimulationResult run(const std::string& name, int p, int m, int v, const ActionCosts& costs) {
  auto schedule = registry().make_schedule(name, {});
  PipelinePlan plan = build_plan(*schedule, {p, 0, m, v});
  SimulationResult result = simulate(plan, costs);
  INFO(result.deadlock);
  REQUIRE(result.completed);
  return result;
}

}  // namespace

TEST_CASE("gpipe and 1f1b: bubble (p-1)/m of the compute; activations m and at most p - r") {
  for (const char* name : {"gpipe", "1f1b"}) {
    for (int p : {1, 2, 3, 4, 8})
      for (int m = 1; m <= 16; ++m) {
        CAPTURE(name);
        CAPTURE(p);
        CAPTURE(m);
        SimulationResult r = run(name, p, m, 1, {});
        CHECK(r.bubble_ratio() == doctest::Approx(double(p - 1) / m));
        if (std::string(name) == "gpipe") {
          CHECK(r.peak_activations[0] == m);
        } else {
          for (int rank = 0; rank < p; ++rank)
            CHECK(r.peak_activations[rank] <= std::min(m, p - rank));
        }
      }
    CHECK_FALSE(accepted(name, 2, 4, 2));
  }
}

TEST_CASE("interleaved: bubble (p-1)/(v m); accepted when m is a multiple of p") {
  for (int p : {1, 2, 3, 4, 8})
    for (int v : {1, 2, 3})
      for (int m = 1; m <= 16; ++m) {
        CAPTURE(p);
        CAPTURE(v);
        CAPTURE(m);
        if (!accepted("interleaved", p, m, v)) {
          CHECK(m % p != 0);
          continue;
        }
        SimulationResult r = run("interleaved", p, m, v, {});
        CHECK(r.bubble_ratio() == doctest::Approx(double(p - 1) / (v * m)));
      }
}

TEST_CASE("zbh1: bubble (p-1)/(3m) with F = I = W; no rank above the first stage's 1F1B peak") {
  ActionCosts unit{1.0, 2.0, 1.0, 1.0, 0.0};
  for (int p : {1, 2, 3, 4, 8})
    for (int m = 1; m <= 16; ++m) {
      CAPTURE(p);
      CAPTURE(m);
      SimulationResult r = run("zbh1", p, m, 1, unit);
      SimulationResult one_f_one_b = run("1f1b", p, m, 1, unit);
      for (int rank = 0; rank < p; ++rank)
        CHECK(r.peak_activations[rank] <= one_f_one_b.peak_activations[0]);
      if (m >= p) {
        // The closed form holds once the pipeline fills (m >= p).
        CHECK(r.bubble_ratio() == doctest::Approx(double(p - 1) / (3.0 * m)));
      }
      CHECK(r.bubble_ratio() <= one_f_one_b.bubble_ratio() + 1e-9);
    }
}

TEST_CASE("csv: a stage number far beyond the pipeline is a plan error, with memory to spare") {
  // Found by fuzz_schedule_csv: the plugin sized a vector by the largest stage a file names, so
  // "630469530F0" took 2.5 GB before the plan's checks could say the stage does not exist. Here
  // the process may grow by 256 MiB at most while the schedule is made and planned.
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("trellis-huge-stage-" + std::to_string(::getpid()) + ".csv");
  std::ofstream(file) << "0F0,0B0,630469530F0\n1F0,1B0\n";
  Options options;
  options.set("file", file.string());
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  statm >> pages;
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_AS, &before) == 0);
  rlimit capped = before;
  capped.rlim_cur = pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) + (256u << 20);
  REQUIRE(setrlimit(RLIMIT_AS, &capped) == 0);
  std::string error;
  try {
    auto schedule = registry().make_schedule("csv", {&options});
    build_plan(*schedule, {2, 0, 2, 1});
  } catch (const InputError& e) {
    error = e.what();
  } catch (const std::bad_alloc&) {
    error = "out of memory";
  }
  setrlimit(RLIMIT_AS, &before);
  std::filesystem::remove(file);
  INFO(error);
  CHECK(error.find("stage 630469530 does not exist (the plan has 2 stages)") != std::string::npos);
}
