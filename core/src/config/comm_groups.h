// [comm.groups]: which comm backend carries each parallel dimension's groups. [comm] backend is
// the default, and the world's; a dimension may name another, so that a run can, say, reduce
// gradients over mpi while its tensor-parallel traffic goes over ucx.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "config/run_config.h"
#include "trellis/parallel.h"

namespace trellis {

// The dimensions a backend can be chosen for, as [comm.groups] names them.
enum class CommDimension : unsigned char { tensor, context, data, pipeline, expert };
inline constexpr std::array<CommDimension, 5> kCommDimensions = {
    CommDimension::tensor, CommDimension::context, CommDimension::data, CommDimension::pipeline,
    CommDimension::expert};

// "tensor", "context", "data", "pipeline", "expert": the key under [comm.groups].
const char* comm_dimension_name(CommDimension dimension) noexcept;
// "comm.groups.tensor", ...
std::string comm_group_key(CommDimension dimension);
// The [comm.groups] entry as written; empty when the config leaves it out.
const std::string& comm_group_entry(const CommGroupBackends& groups, CommDimension dimension);

// Ranks in one group of `dimension` under `layout` (expert: `expert_size`).
int comm_dimension_size(CommDimension dimension, const ParallelLayout& layout, int expert_size);

// The backend `dimension`'s groups use: its [comm.groups] entry, or [comm] backend when there is
// none or when the dimension's groups have one rank (they communicate nothing, so no other
// backend's world is made for them).
std::string comm_group_backend(const CommSection& comm, CommDimension dimension,
                               const ParallelLayout& layout, int expert_size);

// Every backend the run's groups use, [comm] backend first, each once.
std::vector<std::string> comm_backends_used(const CommSection& comm, const ParallelLayout& layout,
                                            int expert_size);

}  // namespace trellis
