#include "comm_json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "text/quoted_string.h"
#include "trellis/error.h"

namespace trellis::bench {

namespace {

std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  char text[40];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

}  // namespace

std::vector<std::string> json_objects(const CommBenchOptions& options, const std::string& backend,
                                      int nranks, const std::vector<SweepRow>& rows) {
  std::vector<std::string> objects;
  for (const SweepRow& row : rows) {
    for (bool in_place : {false, true}) {
      const PlacementFigures& f = in_place ? row.in_place : row.out_of_place;
      if (!f.unavailable.empty()) continue;
      objects.push_back(
          "{\"op\": " + quoted_string(bench_op_name(options.op)) +
          ", \"backend\": " + quoted_string(backend) + ", \"nranks\": " + std::to_string(nranks) +
          ", \"size_bytes\": " + std::to_string(row.shape.bytes) +
          ", \"count\": " + std::to_string(row.shape.count) + ", \"dtype\": " +
          quoted_string(dtype_name(options.dtype)) + ", \"time_us\": " + number(f.time_us) +
          ", \"algbw_gbs\": " + number(f.algbw_gbs) + ", \"busbw_gbs\": " + number(f.busbw_gbs) +
          ", \"wrong\": " + (f.wrong ? std::to_string(*f.wrong) : std::string("null")) +
          ", \"in_place\": " + (in_place ? "true" : "false") + "}");
    }
  }
  return objects;
}

void write_json_list(const std::string& path, const std::vector<std::string>& objects) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) throw Error("cannot write " + temporary + ": " + std::strerror(errno));
    out << "[\n";
    for (std::size_t i = 0; i < objects.size(); ++i) {
      out << "  " << objects[i] << (i + 1 < objects.size() ? ",\n" : "\n");
    }
    out << "]\n";
    if (!out.flush()) throw Error("cannot write " + temporary + ": " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) throw Error("cannot rename " + temporary + " to " + path + ": " + ec.message());
}

std::vector<std::string> read_json_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path + ": " + std::strerror(errno));
  std::vector<std::string> objects;
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t start = line.find('{');
    if (start == std::string::npos) continue;
    std::size_t end = line.rfind('}');
    if (end == std::string::npos || end < start)
      throw Error(path + ": not written by trellis-bench");
    objects.push_back(line.substr(start, end - start + 1));
  }
  return objects;
}

}  // namespace trellis::bench
