// Activation recomputation as Megatron-LM offers it ([train] recompute, recompute_method,
// recompute_num_layers), and which blocks of a pipeline chunk it recomputes.
//
//   none       every block keeps its stash from forward to backward
//   selective  blocks keep everything but attention's core (scores, softmax, weighted sum), which
//              their backward runs again (the layer family does it: LayerFamilyInit's
//              recompute_attention)
//   full       groups of consecutive blocks keep only the group's input; the backward of a
//              group starts by running the group's forward again (core does it, for any family:
//              ModelChunk)
//     uniform  every block of the chunk, in groups of recompute_num_layers (the last group of a
//              chunk may be shorter)
//     block    the first recompute_num_layers blocks of each chunk, one group each; the rest
//              keep their stash
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trellis {

enum class RecomputeGranularity : unsigned char { none, selective, full };
enum class RecomputeMethod : unsigned char { uniform, block };

struct RecomputeSettings {
  RecomputeGranularity granularity = RecomputeGranularity::none;
  RecomputeMethod method = RecomputeMethod::uniform;
  int num_layers = 1;
};

// From the config's words ("none", "selective", "full"; "uniform", "block"), already checked by
// the schema; throws trellis::Error for any other.
RecomputeSettings recompute_settings(std::string_view granularity, std::string_view method,
                                     int num_layers);
const char* recompute_granularity_name(RecomputeGranularity g) noexcept;
const char* recompute_method_name(RecomputeMethod m) noexcept;

// Consecutive blocks of a chunk recomputed together, by their index in the chunk.
struct RecomputeGroup {
  int first = 0;
  int count = 0;
};

// The groups of a chunk of `blocks` blocks: none unless full.
std::vector<RecomputeGroup> recompute_groups(const RecomputeSettings& settings, int blocks);

// One line for --dry-run and the banner, e.g. "full, uniform: groups of 2 blocks keep their
// input only (2 groups in each chunk of 4 blocks)".
std::string describe_recompute(const RecomputeSettings& settings, int blocks_per_chunk);

}  // namespace trellis
