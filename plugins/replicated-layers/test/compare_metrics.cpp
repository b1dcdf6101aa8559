// Compares two training runs' metrics.jsonl files step by step: the loss, the gradient norm
// (which sees every parameter's gradient, the tied token table's included) and, at the steps
// that have one, the validation loss (the model's forward without training).
// usage: compare_metrics <expected metrics.jsonl> <actual metrics.jsonl> <relative tolerance>
// Exit 0 when both have the same steps and every figure agrees within the tolerance; prints each
// step's figures and says whether they are bit-identical.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <string>

namespace {

constexpr std::array<const char*, 3> kCompared = {"loss", "grad_norm", "val_loss"};
constexpr std::size_t kRequired = 2;  // every step has the first two; val_loss only some
// A figure a step does not have: NaN, which the metrics never hold (they write null instead).
constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();
using StepFigures = std::array<double, kCompared.size()>;

// The number after `"key":` in one JSON object line. The metrics writer puts one object per line
// with plain numeric fields, so these few fields need no JSON library.
bool read_number(const std::string& line, const std::string& key, double& value) {
  const std::string quoted = "\"" + key + "\":";
  const std::size_t at = line.find(quoted);
  if (at == std::string::npos) return false;
  const char* begin = line.c_str() + at + quoted.size();
  char* end = nullptr;
  value = std::strtod(begin, &end);
  return end != begin;
}

// step -> figures; exits with a message when the file cannot be read or holds no step.
std::map<long, StepFigures> read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "compare_metrics: cannot read " << path << "\n";
    std::exit(2);
  }
  std::map<long, StepFigures> steps;
  std::string line;
  while (std::getline(in, line)) {
    double step = 0.0;
    StepFigures figures;
    figures.fill(kAbsent);
    bool complete = read_number(line, "step", step);
    for (std::size_t i = 0; i < kCompared.size(); ++i) {
      const bool found = read_number(line, kCompared[i], figures[i]);
      if (i < kRequired) complete = complete && found;
    }
    if (complete) steps[static_cast<long>(step)] = figures;
  }
  if (steps.empty()) {
    std::cerr << "compare_metrics: no step with a loss and a grad_norm in " << path << "\n";
    std::exit(2);
  }
  return steps;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: compare_metrics <expected.jsonl> <actual.jsonl> <relative tolerance>\n";
    return 2;
  }
  const std::map<long, StepFigures> expected = read_metrics(argv[1]);
  const std::map<long, StepFigures> actual = read_metrics(argv[2]);
  const double tolerance = std::strtod(argv[3], nullptr);
  if (expected.size() != actual.size()) {
    std::cerr << "FAIL: " << expected.size() << " steps in " << argv[1] << ", " << actual.size()
              << " in " << argv[2] << "\n";
    return 1;
  }
  bool identical = true, within = true;
  std::cout << std::setprecision(9);
  for (const auto& [step, want] : expected) {
    const auto it = actual.find(step);
    if (it == actual.end()) {
      std::cerr << "FAIL: step " << step << " missing from " << argv[2] << "\n";
      return 1;
    }
    std::cout << "step " << step;
    for (std::size_t i = 0; i < kCompared.size(); ++i) {
      const double got = it->second[i];
      if (std::isnan(want[i]) != std::isnan(got)) {
        std::cerr << "\nFAIL: step " << step << " has a " << kCompared[i] << " in only one file\n";
        return 1;
      }
      if (std::isnan(want[i])) continue;
      const double relative = std::abs(got - want[i]) / std::max(std::abs(want[i]), 1e-30);
      identical = identical && got == want[i];
      within = within && relative <= tolerance;
      std::cout << "  " << kCompared[i] << " " << want[i] << " / " << got << " (rel " << relative
                << ")";
    }
    std::cout << "\n";
  }
  if (!within) {
    std::cerr << "FAIL: figures differ by more than " << tolerance << " (relative)\n";
    return 1;
  }
  std::cout << (identical ? "bit-identical\n" : "agree within the tolerance\n");
  return 0;
}
