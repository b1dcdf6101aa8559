#include "support/run_outputs.h"
#include <cstdlib>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

namespace trellis::test {

std::string backend_under_test() {
  const char* b = std::getenv("TRELLIS_TEST_BACKEND");
  return b ? b : "mpi";
}

std::vector<double> metric_values(const std::filesystem::path& metrics, const std::string& name) {
  std::ifstream in(metrics);
  std::vector<double> values;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json record = nlohmann::json::parse(line);
    // null is a diverged figure (JSON has no nan).
    if (const auto it = record.find(name); it != record.end()) {
      values.push_back(it->is_null() ? std::nan("") : it->get<double>());
    }
  }
  return values;
}

std::vector<float> llmc_parameter_values(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::size_t>(in.tellg());
  REQUIRE(bytes > 1024);
  std::vector<float> values((bytes - 1024) / 4);
  in.seekg(1024);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  return values;
}

}  // namespace trellis::test
