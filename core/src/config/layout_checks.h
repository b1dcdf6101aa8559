// The concerns check_layout (config_check.h) composes, each reporting its problems to the context
// in the order check_layout calls them. Private to config/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/check_context.h"
#include "config/resolved_run.h"
#include "config/run_environment.h"

namespace trellis {

struct WorldSize {
  std::int64_t size = 0;
  std::string source;  // "launch.nproc", "TRELLIS_WORLD_SIZE"
  Origin origin;
};

// The world size: the launcher's (its environment variable) when a launcher started this
// process, else [launch] nproc. nullopt when it is not known (a problem has been reported, or
// launch.nproc is invalid).
std::optional<WorldSize> check_world_size(CheckContext& ctx, const RunEnvironment& env);

// world = tensor x context x data x pipeline: the data size, from parallel.data or, for -1, what
// the world leaves. nullopt when the sizes do not multiply to the world.
std::optional<std::int64_t> check_data_size(CheckContext& ctx, const RunEnvironment& env,
                                            const WorldSize& world);

// The model over its heads and its pipeline chunks (pipeline x virtual_stages). False when either
// does not split evenly or the keys are not known.
bool check_model_split(CheckContext& ctx);

// The global batch over data ranks and microbatches; fills run.microbatches. False when it does
// not split into whole microbatches or the sizes are not known.
bool check_batch_split(CheckContext& ctx, std::optional<std::int64_t> data, ResolvedRun& run);

// Fills run.dims, the vocabulary padded for the tensor group among them. False when the keys
// they come from are not known.
bool fill_model_dims(CheckContext& ctx, ResolvedRun& run);

}  // namespace trellis
