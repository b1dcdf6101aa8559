#include "train/trace_merge.h"

#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace trellis {

namespace {

std::filesystem::path rank_part(const std::filesystem::path& file, int rank) {
  return file.string() + ".rank" + std::to_string(rank);
}

}  // namespace

bool write_merged_trace(const TraceRecorder& trace, const std::filesystem::path& file,
                        Communicator& world) {
  {
    std::ofstream out(rank_part(file, world.rank()), std::ios::trunc);
    out << trace.events_json();
  }
  world.barrier()->wait();
  if (world.rank() != 0) return false;
  std::vector<std::string> parts;
  for (int r = 0; r < world.size(); ++r) {
    const std::filesystem::path part = rank_part(file, r);
    std::ifstream in(part);
    std::ostringstream text;
    text << in.rdbuf();
    parts.push_back(text.str());
    std::error_code ec;
    std::filesystem::remove(part, ec);
  }
  TraceRecorder::write_file(file, parts);
  return true;
}

}  // namespace trellis
