// Reading back what a trellis-train run wrote, for tests that compare runs: a metric per step
// from metrics.jsonl, and the parameters of an llm.c export; and the backend such runs use.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::test {

// The backend a multirank test case runs over: TRELLIS_TEST_BACKEND (ctest sets it per case),
// "mpi" when it is not set.
std::string backend_under_test();

// `name`'s value on every line of `metrics` that has it, in step order.
std::vector<double> metric_values(const std::filesystem::path& metrics, const std::string& name);

// The float32 values after the 1024-byte header of an llm.c checkpoint (the parameters, in
// llm.c's order). Fails the test when the file is shorter than a header.
std::vector<float> llmc_parameter_values(const std::filesystem::path& file);

}  // namespace trellis::test
