#include "model/recompute_plan.h"

#include <algorithm>

#include "trellis/error.h"

namespace trellis {

RecomputeSettings recompute_settings(std::string_view granularity, std::string_view method,
                                     int num_layers) {
  RecomputeSettings s;
  if (granularity == "none") {
    s.granularity = RecomputeGranularity::none;
  } else if (granularity == "selective") {
    s.granularity = RecomputeGranularity::selective;
  } else if (granularity == "full") {
    s.granularity = RecomputeGranularity::full;
  } else {
    throw Error("recompute \"" + std::string(granularity) + "\": valid: none, selective, full");
  }
  if (method == "uniform") {
    s.method = RecomputeMethod::uniform;
  } else if (method == "block") {
    s.method = RecomputeMethod::block;
  } else {
    throw Error("recompute_method \"" + std::string(method) + "\": valid: uniform, block");
  }
  s.num_layers = num_layers;
  return s;
}

const char* recompute_granularity_name(RecomputeGranularity g) noexcept {
  switch (g) {
    case RecomputeGranularity::selective:
      return "selective";
    case RecomputeGranularity::full:
      return "full";
    case RecomputeGranularity::none:
      break;
  }
  return "none";
}

const char* recompute_method_name(RecomputeMethod m) noexcept {
  return m == RecomputeMethod::block ? "block" : "uniform";
}

std::vector<RecomputeGroup> recompute_groups(const RecomputeSettings& settings, int blocks) {
  std::vector<RecomputeGroup> groups;
  if (settings.granularity != RecomputeGranularity::full || blocks <= 0) return groups;
  const int n = std::max(1, settings.num_layers);
  if (settings.method == RecomputeMethod::uniform) {
    for (int first = 0; first < blocks; first += n)
      groups.push_back({first, std::min(n, blocks - first)});
  } else {
    for (int b = 0; b < std::min(n, blocks); ++b) groups.push_back({b, 1});
  }
  return groups;
}

std::string describe_recompute(const RecomputeSettings& settings, int blocks_per_chunk) {
  const auto blocks = [](int n) { return std::to_string(n) + (n == 1 ? " block" : " blocks"); };
  switch (settings.granularity) {
    case RecomputeGranularity::none:
      return "none: every block keeps its stash for backward";
    case RecomputeGranularity::selective:
      return "selective: blocks keep all but attention's core (scores, softmax, weighted sum), "
             "which backward runs again";
    case RecomputeGranularity::full:
      break;
  }
  const int n = std::max(1, settings.num_layers);
  const std::vector<RecomputeGroup> groups = recompute_groups(settings, blocks_per_chunk);
  if (settings.method == RecomputeMethod::uniform) {
    return "full, uniform: groups of " + blocks(n) + " keep their input only, backward runs " +
           "each group's forward again (" + std::to_string(groups.size()) + " group" +
           (groups.size() == 1 ? "" : "s") + " in each chunk of " + blocks(blocks_per_chunk) + ")";
  }
  return "full, block: the first " + blocks(static_cast<int>(groups.size())) +
         " of each chunk of " + blocks(blocks_per_chunk) +
         " keep their input only, backward runs their forward again; " + "the other " +
         std::to_string(blocks_per_chunk - static_cast<int>(groups.size())) + " keep their stash";
}

}  // namespace trellis
