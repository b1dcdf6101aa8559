#include "comm_json.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "trellis/error.h"

namespace trellis::bench {

std::vector<json::Document> json_objects(const CommBenchOptions& options,
                                         const std::string& backend, int nranks,
                                         const std::vector<SweepRow>& rows) {
  std::vector<json::Document> objects;
  for (const SweepRow& row : rows) {
    for (bool in_place : {false, true}) {
      const PlacementFigures& f = in_place ? row.in_place : row.out_of_place;
      if (!f.unavailable.empty()) continue;
      // Figures that are not finite (a time of nothing) are written as null by the library.
      objects.push_back({{"op", bench_op_name(options.op)},
                         {"backend", backend},
                         {"nranks", nranks},
                         {"size_bytes", row.shape.bytes},
                         {"count", row.shape.count},
                         {"dtype", dtype_name(options.dtype)},
                         {"time_us", f.time_us},
                         {"algbw_gbs", f.algbw_gbs},
                         {"busbw_gbs", f.busbw_gbs},
                         {"wrong", f.wrong ? json::Document(*f.wrong) : json::Document()},
                         {"in_place", in_place}});
    }
  }
  return objects;
}

void write_json_list(const std::string& path, const std::vector<json::Document>& objects) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) throw Error("cannot write " + temporary + ": " + std::strerror(errno));
    out << json::readable_text(json::Document(objects));
    if (!out.flush()) throw Error("cannot write " + temporary + ": " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) throw Error("cannot rename " + temporary + " to " + path + ": " + ec.message());
}

std::vector<json::Document> read_json_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path + ": " + std::strerror(errno));
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  const json::Document list = json::Document::parse(text, nullptr, false);
  if (!list.is_array()) throw Error(path + ": not a JSON list written by trellis-bench");
  return list.get<std::vector<json::Document>>();
}

}  // namespace trellis::bench
