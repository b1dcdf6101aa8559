// What `trellis-train --dry-run` prints: every key with its value and where it came from, the
// layout (world, sizes, model chunks, microbatches, padded vocabulary), the plugins used, and
// one line per rank with its coordinates and groups. Only computed facts; nothing estimated.
#pragma once

#include <string>
#include <vector>

#include "config/resolved_run.h"

namespace trellis {

std::string format_dry_run(const ResolvedRun& run);

// A group of world ranks, short for long regular groups: [0, 1, 5], [0..7], [0, 4..60].
std::string format_rank_group(const std::vector<int>& ranks);

}  // namespace trellis
