#include "plan/bench_results.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "json/json_fields.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis::plan {

namespace {

// More ranks than any machine the planner describes; a bound that keeps the count an int.
constexpr std::int64_t kMaxRanks = 1 << 24;

std::string read_text(const std::filesystem::path& file, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw InputError(std::string("cannot read the ") + what + " " + absolute_path_text(file) +
                     ": " +
                     (std::filesystem::exists(file, ec) ? "not a regular file" : "no such file"));
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<CommMeasurement> read_comm_bench(const std::filesystem::path& file) {
  const std::string where = "trellis-bench comm JSON " + file.string();
  json::Value root;
  try {
    root = json::parse(read_text(file, "trellis-bench comm JSON"));
  } catch (const std::runtime_error& e) {
    throw InputError(where + ": not JSON: " + e.what());
  }
  if (!root.is_array()) {
    throw InputError(where +
                     ": expected a list of rows (trellis-bench comm --json FILE writes "
                     "one), got something else");
  }
  std::vector<CommMeasurement> rows;
  std::size_t index = 0;
  for (const json::Value& row : root) {
    ++index;
    try {
      CommMeasurement m;
      const std::string op = json::to_string(json::at(row, "op"));
      // The link fit takes the collectives of tensor and data groups, ring- or tree-shaped.
      if (op == "all_to_all") continue;
      if (!parse_collective(op, m.op)) {
        throw std::runtime_error("unknown op '" + op + "'");
      }
      m.backend = json::to_string(json::at(row, "backend"));
      const std::int64_t nranks = json::to_int(json::at(row, "nranks"));
      if (nranks < 2 || nranks > kMaxRanks) {
        throw std::runtime_error("nranks " + std::to_string(nranks) + " is not in [2, " +
                                 std::to_string(kMaxRanks) + "]");
      }
      m.nranks = static_cast<int>(nranks);
      m.bytes = static_cast<double>(json::to_int(json::at(row, "size_bytes")));
      m.seconds = json::to_number(json::at(row, "time_us")) * 1e-6;
      const json::Value* wrong = json::find(row, "wrong");
      if (wrong != nullptr && !wrong->is_null() && json::to_int(*wrong) > 0) continue;
      if (!(m.seconds > 0.0)) throw std::runtime_error("time_us must be > 0");
      if (m.bytes <= 0.0) continue;  // a zero-byte row times the latency of nothing
      rows.push_back(m);
    } catch (const std::runtime_error& e) {
      throw InputError(where + ": row " + std::to_string(index) + ": " + e.what());
    }
  }
  if (rows.empty()) throw InputError(where + ": no usable rows (sizes > 0, no wrong results)");
  return rows;
}

std::vector<StepMeasurement> read_metrics(const std::filesystem::path& file) {
  const std::string text = read_text(file, "metrics file");
  std::vector<StepMeasurement> steps;
  std::istringstream lines(text);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const json::Value row = json::parse(line);
      StepMeasurement s;
      s.step = json::to_int(json::at(row, "step"));
      s.seconds = json::to_number(json::at(row, "step_ms")) / 1e3;
      s.peak_mem_bytes = json::to_number(json::at(row, "peak_mem_bytes"));
      if (!(s.seconds > 0.0)) throw std::runtime_error("step_ms must be > 0");
      steps.push_back(s);
    } catch (const std::runtime_error& e) {
      throw InputError("metrics file " + file.string() + ":" + std::to_string(number) + ": " +
                       e.what() + " (expected trellis-train's metrics.jsonl lines)");
    }
  }
  if (steps.empty()) throw InputError("metrics file " + file.string() + ": no steps in it");
  return steps;
}

double median_step_seconds(const std::vector<StepMeasurement>& steps) {
  std::vector<double> times;
  for (std::size_t i = steps.size() > 1 ? 1 : 0; i < steps.size(); ++i)
    times.push_back(steps[i].seconds);
  std::sort(times.begin(), times.end());
  const std::size_t n = times.size();
  return n % 2 == 1 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
}

double peak_memory(const std::vector<StepMeasurement>& steps) {
  double peak = 0.0;
  for (const StepMeasurement& s : steps) peak = std::max(peak, s.peak_mem_bytes);
  return peak;
}

}  // namespace trellis::plan
