// The banner's "blas:" line on the cpu device: the OpenBLAS kernels rank 0 runs, whether every
// rank runs the same ones (a rank started apart from the others, or on another kind of node, may
// not) and how many ranks restarted for them (none where a launcher gave them their environment).
#pragma once

#include <string>

#include "config/resolved_run.h"
#include "kernels/compute_device.h"
#include "trellis/rank_groups.h"

namespace trellis {

// Collective over groups.world: every rank calls it; the line is the same on every rank.
std::string ranks_openblas_line(const ResolvedRun& run, const RankGroups& groups,
                                const ComputeDevice& device);

}  // namespace trellis
