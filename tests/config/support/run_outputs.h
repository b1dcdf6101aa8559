// Reading back what a trellis-train run wrote, for tests that compare runs: a metric per step
// from metrics.jsonl, and the parameters of an llm.c export.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::test {

// `name`'s value on every line of `metrics` that has it, in step order.
std::vector<double> metric_values(const std::filesystem::path& metrics, const std::string& name);

// The float32 values after the 1024-byte header of an llm.c checkpoint (the parameters, in
// llm.c's order). Fails the test when the file is shorter than a header.
std::vector<float> llmc_parameter_values(const std::filesystem::path& file);

}  // namespace trellis::test
