#include "plan/cluster_spec.h"

#include "trellis/error.h"

namespace trellis::plan {

double ClusterSpec::peak_flops(const std::string& dtype) const {
  auto it = accelerator.peak_flops.find(dtype);
  if (it != accelerator.peak_flops.end()) return it->second;
  std::string have;
  for (const auto& [name, value] : accelerator.peak_flops)
    have += (have.empty() ? "" : ", ") + name;
  throw InputError("cluster '" + name + "': no peak for dtype " + dtype + " in " +
                   "[accelerator.peak_tflops]; it has: " + (have.empty() ? "none" : have));
}

}  // namespace trellis::plan
