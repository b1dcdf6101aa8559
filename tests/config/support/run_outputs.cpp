#include "support/run_outputs.h"

#include <doctest/doctest.h>

#include <fstream>

namespace trellis::test {

std::vector<double> metric_values(const std::filesystem::path& metrics, const std::string& name) {
  std::ifstream in(metrics);
  std::vector<double> values;
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("\"" + name + "\":");
    if (at != std::string::npos) values.push_back(std::stod(line.substr(at + name.size() + 3)));
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
