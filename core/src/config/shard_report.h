// --dry-run's view of what each tensor rank holds under the run's layer family: the hidden states
// passed between blocks and stages, and every parameter's shard (shape and offset in the whole),
// read off the family's own layers rather than predicted. Ranks with the same tensor coordinate
// hold the same shards, so one column per tensor rank covers the world.
#pragma once

#include <string>

#include "config/resolved_run.h"

namespace trellis {

// The "Shards" section of the report. When the family cannot be built here (a plugin that only
// checks configs, an error), the section says why instead.
std::string format_shards(const ResolvedRun& run);

}  // namespace trellis
