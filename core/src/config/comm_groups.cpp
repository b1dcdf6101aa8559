#include "config/comm_groups.h"

#include <algorithm>

namespace trellis {

const char* comm_dimension_name(CommDimension dimension) noexcept {
  switch (dimension) {
    case CommDimension::tensor:
      return "tensor";
    case CommDimension::context:
      return "context";
    case CommDimension::data:
      return "data";
    case CommDimension::pipeline:
      return "pipeline";
    case CommDimension::expert:
      return "expert";
  }
  return "?";
}

std::string comm_group_key(CommDimension dimension) {
  return std::string("comm.groups.") + comm_dimension_name(dimension);
}

const std::string& comm_group_entry(const CommGroupBackends& groups, CommDimension dimension) {
  switch (dimension) {
    case CommDimension::tensor:
      return groups.tensor;
    case CommDimension::context:
      return groups.context;
    case CommDimension::data:
      return groups.data;
    case CommDimension::pipeline:
      return groups.pipeline;
    case CommDimension::expert:
      return groups.expert;
  }
  return groups.tensor;
}

int comm_dimension_size(CommDimension dimension, const ParallelLayout& layout, int expert_size) {
  const ParallelSizes& sizes = layout.sizes();
  switch (dimension) {
    case CommDimension::tensor:
      return sizes.tensor;
    case CommDimension::context:
      return sizes.context;
    case CommDimension::data:
      return sizes.data;
    case CommDimension::pipeline:
      return sizes.pipeline;
    case CommDimension::expert:
      return expert_size;
  }
  return 1;
}

std::string comm_group_backend(const CommSection& comm, CommDimension dimension,
                               const ParallelLayout& layout, int expert_size) {
  const std::string& entry = comm_group_entry(comm.groups, dimension);
  if (entry.empty() || comm_dimension_size(dimension, layout, expert_size) <= 1) {
    return comm.backend;
  }
  return entry;
}

std::vector<std::string> comm_backends_used(const CommSection& comm, const ParallelLayout& layout,
                                            int expert_size) {
  std::vector<std::string> backends = {comm.backend};
  for (CommDimension dimension : kCommDimensions) {
    std::string backend = comm_group_backend(comm, dimension, layout, expert_size);
    if (std::find(backends.begin(), backends.end(), backend) == backends.end()) {
      backends.push_back(std::move(backend));
    }
  }
  return backends;
}

}  // namespace trellis
