#include "metrics_field.h"

#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

namespace trellis::test {

std::vector<double> metrics_field(const std::filesystem::path& metrics, const std::string& name) {
  std::ifstream in(metrics);
  std::vector<double> values;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line);
    REQUIRE(record.contains(name));
    values.push_back(record.at(name).get<double>());
  }
  return values;
}

}  // namespace trellis::test
