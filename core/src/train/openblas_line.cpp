#include "train/openblas_line.h"

#include "data_parallel/all_reduce_scalar.h"
#include "device/openblas_core_choice.h"

namespace trellis {

std::string ranks_openblas_line(const ResolvedRun& run, const RankGroups& groups,
                                const ComputeDevice& device) {
  const OpenBlasInEffect blas = OpenBlasInEffect::of_this_process(
      BlasCoreSetting::parse(run.config.device.blas_core, "[device] blas_core"));
  // The ranks compare their cores by place in openblas_cores(); -1 for one OpenBLAS does not name.
  const auto cores = openblas_cores();
  const OpenBlasCore* loaded = find_openblas_core(blas.state.openblas.core);
  const double index = loaded ? static_cast<double>(loaded - cores.data()) : -1.0;
  auto reduce = [&](double value, ReduceOp op) {
    return all_reduce_scalar(*groups.world, value, op, device.allocator, *device.kernels);
  };
  const double highest = reduce(index, ReduceOp::max);
  const double lowest = -reduce(-index, ReduceOp::max);
  const bool restarted_here = blas.state.reexecuted && environment_matches(blas.choice, blas.state);
  const auto restarted = static_cast<long long>(reduce(restarted_here ? 1.0 : 0.0, ReduceOp::sum));
  const int ranks = run.world_size;
  std::string where;
  if (ranks > 1 && highest == lowest) where = "on all " + std::to_string(ranks) + " ranks";
  if (highest != lowest) {
    auto name = [&](double i) {
      return i < 0 ? std::string("kernels OpenBLAS does not name")
                   : std::string(cores[static_cast<std::size_t>(i)].name);
    };
    where = "on rank 0; the ranks differ, from " + name(lowest) + " to " + name(highest) +
            ": start them alike";
  }
  std::string line = blas.line(where);
  if (restarted > 0) {
    line += ranks == 1 ? "; the process restarted for them"
                       : "; " + std::to_string(restarted) + " of " + std::to_string(ranks) +
                             " ranks restarted for them";
  }
  return line;
}

}  // namespace trellis
