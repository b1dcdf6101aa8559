// What a run's Chrome trace ([logging] trace) shows of recomputation, rank by rank: how many
// forward actions each rank ran and the "recompute ..." slices on its compute track, each placed
// against the backward actions (B, or I under split backward) of its microbatch.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace trellis::test {

struct RankRecomputation {
  int forwards = 0;                     // forward actions ("<stage>F<microbatch>")
  std::vector<std::string> recomputes;  // the names of the "recompute ..." slices, in order
  // Recompute slices that lie inside no backward action (B or I) of their microbatch on the
  // rank's compute track.
  std::vector<std::string> outside_backward;
};

// By rank (the trace's pid). Fails the test when the file cannot be read or parsed.
std::map<int, RankRecomputation> read_recomputation(const std::filesystem::path& trace);

}  // namespace trellis::test
