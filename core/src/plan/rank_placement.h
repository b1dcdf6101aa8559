// Where ranks land on the cluster: ranks fill nodes in rank order, so with the default order
// tp-cp-dp-pp a tensor group of up to devices_per_node ranks shares one node (Megatron's
// placement). A rank uses `devices_per_rank` devices (1 GPU; on a CPU cluster [device] threads
// cores). When the run has more ranks than the cluster has room for, the extra ranks share
// devices: `oversubscription` > 1, and the step predictor has them take turns while they work.
#pragma once

#include "plan/cluster_spec.h"

namespace trellis::plan {

struct RankPlacement {
  int world = 1;
  int devices_per_rank = 1;
  int ranks_per_node = 1;  // ranks on each node (the last may hold fewer)
  int nodes_used = 1;
  double oversubscription = 1.0;  // devices the ranks of a node want / devices it has (>= 1)

  int node_of(int rank) const noexcept { return rank / ranks_per_node; }
};

RankPlacement place_ranks(const ClusterSpec& cluster, int world, int devices_per_rank);

}  // namespace trellis::plan
