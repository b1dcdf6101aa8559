#include "support/recompute_trace.h"

#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

namespace trellis::test {

namespace {

struct Slice {
  std::string name;
  double start = 0, end = 0;  // microseconds
  long microbatch = -1;
};

// The trace rounds each start and duration to the nanosecond, so a slice's end is known to 1 ns
// and a nested slice's end may pass its parent's by up to 2 ns.
constexpr double kEndResolutionUs = 0.002;

}  // namespace

std::map<int, RankRecomputation> read_recomputation(const std::filesystem::path& trace) {
  std::ifstream in(trace);
  REQUIRE_MESSAGE(in.good(), "cannot read the trace " << trace);
  const nlohmann::json json = nlohmann::json::parse(in);
  const int compute_track = 0;
  const std::regex forward(R"(\d+F\d+)"), backward(R"(\d+[BI]\d+)");
  std::map<int, std::vector<Slice>> backwards, recomputes;
  std::map<int, RankRecomputation> ranks;
  for (const nlohmann::json& event : json.at("traceEvents")) {
    if (event.value("ph", "") != "X" || event.value("tid", -1) != compute_track) continue;
    const int rank = event.at("pid").get<int>();
    Slice s;
    s.name = event.at("name").get<std::string>();
    s.start = event.at("ts").get<double>();
    s.end = s.start + event.at("dur").get<double>();
    s.microbatch = event.at("args").value("microbatch", -1L);
    if (std::regex_match(s.name, forward)) ++ranks[rank].forwards;
    if (std::regex_match(s.name, backward)) backwards[rank].push_back(s);
    if (s.name.starts_with("recompute ")) recomputes[rank].push_back(s);
  }
  for (const auto& [rank, slices] : recomputes) {
    for (const Slice& r : slices) {
      ranks[rank].recomputes.push_back(r.name);
      bool inside = false;
      for (const Slice& b : backwards[rank]) {
        inside = inside || (b.microbatch == r.microbatch && r.start >= b.start &&
                            r.end <= b.end + kEndResolutionUs);
      }
      if (!inside) ranks[rank].outside_backward.push_back(r.name);
    }
  }
  return ranks;
}

}  // namespace trellis::test
