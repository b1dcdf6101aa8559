// Reading a run's metrics.jsonl back in the training tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::test {

// The value of `name` on every line of `metrics`, in order; every line must have it.
std::vector<double> metrics_field(const std::filesystem::path& metrics, const std::string& name);

}  // namespace trellis::test
