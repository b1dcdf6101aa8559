// Reading measurements and fitting a cluster to them: rows made from known link figures and
// step times made from known efficiencies come back as those figures.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "build_tree_families.h"
#include "plan/bench_results.h"
#include "plan/calibration.h"
#include "trellis/error.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("trellis_plan_test_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path;
}

ClusterSpec machine(double compute, double memory) {
  ClusterSpec c;
  c.name = "test";
  c.devices_per_node = 2;
  c.accelerator.peak_flops["fp32"] = 1e11;
  c.accelerator.memory_bytes = 1e9;
  c.accelerator.memory_bandwidth = 1e10;
  c.accelerator.compute_efficiency = compute;
  c.accelerator.memory_efficiency = memory;
  c.intra_node = {1e10, 1e-6, 1.0};
  return c;
}

PlanRequest model(std::int64_t hidden, std::int64_t heads) {
  PlanRequest r;
  r.dims.vocab_size = r.dims.padded_vocab = 512;
  r.dims.seq_len = r.dims.max_seq_len = 128;
  r.dims.layers = 4;
  r.dims.heads = heads;
  r.dims.hidden = hidden;
  r.global_batch = 8;
  r.layout.micro_batch = 4;
  r.registry = &test::build_tree_plugins();
  return r;
}

}  // namespace

TEST_CASE("trellis-bench rows: read, wrong results left out, bad files named") {
  const auto file = write_temp("comm.json", R"([
  {"op": "all_reduce", "backend": "mpi", "nranks": 2, "size_bytes": 8, "count": 2, "dtype": "f32", "time_us": 1.5, "algbw_gbs": 0, "busbw_gbs": 0, "wrong": 0, "in_place": false},
  {"op": "all_reduce", "backend": "mpi", "nranks": 2, "size_bytes": 1048576, "count": 1, "dtype": "f32", "time_us": 500, "algbw_gbs": 2, "busbw_gbs": 2, "wrong": 3, "in_place": true},
  {"op": "all_to_all", "backend": "mpi", "nranks": 2, "size_bytes": 64, "time_us": 2, "wrong": null},
  {"op": "sendrecv", "backend": "mpi", "nranks": 2, "size_bytes": 64, "time_us": 2, "wrong": null}
])");
  const std::vector<CommMeasurement> rows = read_comm_bench(file);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].op == Collective::all_reduce);
  CHECK(rows[0].seconds == doctest::Approx(1.5e-6));
  CHECK(rows[1].op == Collective::send_recv);
  const auto bad = write_temp("bad.json", R"([{"op": "all_reduce", "nranks": 2}])");
  try {
    read_comm_bench(bad);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("row 1: no field 'backend'") != std::string::npos);
  }
  CHECK_THROWS_AS(read_comm_bench(write_temp("notjson.json", "{oops")), InputError);
  CHECK_THROWS_AS(read_comm_bench("/nonexistent.json"), InputError);
  std::filesystem::remove(file);
  std::filesystem::remove(bad);
}

TEST_CASE("metrics.jsonl: the median step leaves the first out; the largest peak memory") {
  const auto file = write_temp("metrics.jsonl",
                               "{\"step\":1,\"loss\":5,\"step_ms\":900,\"peak_mem_bytes\":100}\n"
                               "{\"step\":2,\"loss\":4,\"step_ms\":300,\"peak_mem_bytes\":120}\n"
                               "{\"step\":3,\"loss\":4,\"step_ms\":100,\"peak_mem_bytes\":120}\n"
                               "{\"step\":4,\"loss\":4,\"step_ms\":200,\"peak_mem_bytes\":110}\n");
  const std::vector<StepMeasurement> steps = read_metrics(file);
  CHECK(steps.size() == 4);
  CHECK(median_step_seconds(steps) == doctest::Approx(0.2));
  CHECK(peak_memory(steps) == 120.0);
  try {
    read_metrics(write_temp("bad.jsonl", "{\"step\":1}\n"));
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(":1: no field 'step_ms'") != std::string::npos);
  }
  std::filesystem::remove(file);
}

TEST_CASE("a link fit recovers the latency and bandwidth the rows were made with") {
  std::vector<CommMeasurement> rows;
  for (Collective op : {Collective::all_reduce, Collective::all_gather, Collective::send_recv}) {
    for (double bytes = 8; bytes <= 64e6; bytes *= 4) {
      for (int n : {2, 4}) {
        CommMeasurement m;
        m.op = op;
        m.nranks = op == Collective::send_recv ? 2 : n;
        m.bytes = bytes;
        m.seconds = collective_seconds(op, m.nranks, bytes, 3e-6, 8e9);
        rows.push_back(m);
      }
    }
  }
  const LinkFit fit = fit_link(rows);
  CHECK(fit.latency == doctest::Approx(3e-6).epsilon(0.02));
  CHECK(fit.bandwidth == doctest::Approx(8e9).epsilon(0.01));
  CHECK(fit.large_error_factor < 1.02);
  rows.resize(2);  // only small sizes: no bandwidth to fit
  CHECK_THROWS_AS(fit_link(rows), InputError);
}

TEST_CASE("a compute fit recovers the efficiencies the step times were made with") {
  // A narrow model spends much of its time element-wise, a wide one in matrix products: the
  // two together fix both efficiencies.
  const ClusterSpec truth = machine(0.6, 0.3);
  std::vector<MeasuredRun> runs(2);
  runs[0].label = "narrow";
  runs[0].request = model(128, 4);
  runs[1].label = "wide";
  runs[1].request = model(512, 8);
  for (MeasuredRun& r : runs) r.step_seconds = predict(r.request, truth).time.step;
  const ComputeFit fit = fit_compute(runs, machine(0.9, 0.9));
  CHECK(fit.compute_efficiency == doctest::Approx(0.6).epsilon(0.01));
  CHECK(fit.memory_efficiency == doctest::Approx(0.3).epsilon(0.01));
  CHECK(fit.rms_log_error < 1e-3);
  // One run scales both, keeping the description's ratio.
  runs.resize(1);
  const ComputeFit one = fit_compute(runs, machine(0.8, 0.4));
  CHECK(one.memory_efficiency / one.compute_efficiency == doctest::Approx(0.5));
  CHECK(one.predicted_seconds[0] == doctest::Approx(runs[0].step_seconds).epsilon(0.001));
}
