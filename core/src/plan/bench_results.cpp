#include "plan/bench_results.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "checkpoint/json.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis::plan {

namespace {

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
  Json root;
  try {
    root = Json::parse(read_text(file, "trellis-bench comm JSON"));
  } catch (const std::runtime_error& e) {
    throw InputError(where + ": not JSON: " + e.what());
  }
  if (root.type() != Json::Type::array) {
    throw InputError(where +
                     ": expected a list of rows (trellis-bench comm --json FILE writes "
                     "one), got something else");
  }
  std::vector<CommMeasurement> rows;
  std::size_t index = 0;
  for (const Json& row : root.items()) {
    ++index;
    try {
      CommMeasurement m;
      const std::string op = row.at("op").as_string();
      if (!parse_collective(op, m.op)) {
        if (op == "all_to_all") continue;  // the planner's layouts never use it
        throw std::runtime_error("unknown op '" + op + "'");
      }
      m.backend = row.at("backend").as_string();
      m.nranks = static_cast<int>(row.at("nranks").as_int());
      m.bytes = static_cast<double>(row.at("size_bytes").as_int());
      m.seconds = row.at("time_us").as_number() * 1e-6;
      const Json* wrong = row.find("wrong");
      if (wrong != nullptr && wrong->type() != Json::Type::null && wrong->as_int() > 0) continue;
      if (m.nranks < 2) throw std::runtime_error("nranks must be >= 2");
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
      const Json row = Json::parse(line);
      StepMeasurement s;
      s.step = row.at("step").as_int();
      s.seconds = row.at("step_ms").as_number() / 1e3;
      s.peak_mem_bytes = row.at("peak_mem_bytes").as_number();
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
