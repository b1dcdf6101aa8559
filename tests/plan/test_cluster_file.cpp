// The cluster description file: every key read in SI units, the shipped descriptions, every
// kind of bad input reported at once with file:line, and the written form reads back.
#include <doctest/doctest.h>

#include <string>

#include "plan/cluster_file.h"
#include "trellis/error.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

const char* kGood = R"(# a test cluster
[cluster]
name = "test"
nodes = 4
devices_per_node = 8

[accelerator]
kind = "gpu"
name = "X"
memory_gib = 80
memory_bandwidth_gbs = 2000
train_dtype = "bf16"
compute_efficiency = 0.5
memory_efficiency = 0.25

[accelerator.peak_tflops]
fp32 = 20
bf16 = 300

[intra_node]
bandwidth_gbs = 300
latency_us = 5
efficiency = 0.8

[inter_node]
bandwidth_gbs = 200
latency_us = 10
)";

std::string problems_of(const std::string& text) {
  try {
    parse_cluster_text(text, "c.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

}  // namespace

TEST_CASE("a description is read in SI units") {
  const ClusterSpec c = parse_cluster_text(kGood, "c.toml");
  CHECK(c.name == "test");
  CHECK(c.nodes == 4);
  CHECK(c.devices_per_node == 8);
  CHECK(c.devices() == 32);
  CHECK(c.accelerator.kind == AcceleratorKind::gpu);
  CHECK(c.accelerator.memory_bytes == 80.0 * 1024 * 1024 * 1024);
  CHECK(c.accelerator.memory_bandwidth == 2000e9);
  CHECK(c.train_peak_flops() == 300e12);
  CHECK(c.peak_flops("fp32") == 20e12);
  CHECK(c.accelerator.compute_efficiency == 0.5);
  CHECK(c.intra_node.bandwidth == 300e9);
  CHECK(c.intra_node.latency == doctest::Approx(5e-6));
  CHECK(c.intra_node.effective_bandwidth() == doctest::Approx(240e9));
  CHECK(c.inter_node.efficiency == 1.0);  // the default
  CHECK_THROWS_AS(c.peak_flops("fp8"), InputError);
}

TEST_CASE("the shipped descriptions read") {
  for (const char* name : {"a100-80gb", "h100-sxm", "cpu-dev-vm"}) {
    CAPTURE(name);
    const ClusterSpec c =
        read_cluster_file(std::string(TRELLIS_SOURCE_DIR) + "/configs/clusters/" + name + ".toml");
    CHECK(c.train_peak_flops() > 0);
    CHECK(c.intra_node.bandwidth > 0);
  }
}

TEST_CASE("every problem of a file at once, each at its line") {
  std::string bad = replace(kGood, "nodes = 4", "nodes = 0");  // line 4
  bad = replace(bad, "memory_gib = 80", "memory_gb = 80");     // line 10
  bad = replace(bad, "latency_us = 5", "latency_us = \"5\"");  // line 22
  bad = replace(bad, "bf16 = 300", "bf61 = 300");              // line 18
  const std::string text = problems_of(bad);
  CAPTURE(text);
  // The five above, and train_dtype bf16 now has no peak.
  CHECK(text.find("6 problems in the cluster description c.toml") != std::string::npos);
  CHECK(text.find("c.toml:4: cluster.nodes = 0: out of range; valid: an integer >= 1") !=
        std::string::npos);
  CHECK(text.find("c.toml:10: accelerator.memory_gb: unknown key in [accelerator] (did you mean "
                  "'memory_gib'?)") != std::string::npos);
  CHECK(text.find("c.toml:22: intra_node.latency_us = \"5\": expected a number") !=
        std::string::npos);
  CHECK(text.find("c.toml:18: accelerator.peak_tflops.bf61: unknown dtype (did you mean "
                  "'bf16'?)") != std::string::npos);
  CHECK(text.find("accelerator.memory_gib is missing") != std::string::npos);
  CHECK(text.find("has no entry in [accelerator.peak_tflops]") != std::string::npos);
}

TEST_CASE("unknown sections, bad choices, a dtype without a peak, syntax errors") {
  CHECK(problems_of(std::string(kGood) + "[nodes]\nx = 1\n").find("unknown section [nodes]") !=
        std::string::npos);
  CHECK(problems_of(replace(kGood, "kind = \"gpu\"", "kind = \"tpu\""))
            .find("accelerator.kind = \"tpu\": out of range; valid: \"gpu\" or \"cpu\"") !=
        std::string::npos);
  CHECK(problems_of(replace(kGood, "train_dtype = \"bf16\"", "train_dtype = \"fp16\""))
            .find("train_dtype = \"fp16\" has no entry in [accelerator.peak_tflops]") !=
        std::string::npos);
  CHECK(problems_of(replace(kGood, "efficiency = 0.8", "efficiency = 1.5"))
            .find("intra_node.efficiency = 1.5: out of range; valid: a number in (0, 1]") !=
        std::string::npos);
  CHECK(problems_of("[cluster\nname = 1").find("c.toml:1:") != std::string::npos);
  CHECK_THROWS_AS(read_cluster_file("/nonexistent/cluster.toml"), InputError);
}

TEST_CASE("the written form reads back the same") {
  const ClusterSpec c = parse_cluster_text(kGood, "c.toml");
  const std::string text = cluster_to_toml(c, "line one\nline two");
  CHECK(text.rfind("# line one\n# line two\n", 0) == 0);
  const ClusterSpec back = parse_cluster_text(text, "back.toml");
  CHECK(back.name == c.name);
  CHECK(back.nodes == c.nodes);
  CHECK(back.accelerator.memory_bytes == doctest::Approx(c.accelerator.memory_bytes));
  CHECK(back.train_peak_flops() == doctest::Approx(c.train_peak_flops()));
  CHECK(back.accelerator.memory_efficiency == c.accelerator.memory_efficiency);
  CHECK(back.intra_node.latency == doctest::Approx(c.intra_node.latency));
  CHECK(back.inter_node.bandwidth == doctest::Approx(c.inter_node.bandwidth));
}
