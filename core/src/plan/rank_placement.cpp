#include "plan/rank_placement.h"

#include <algorithm>

namespace trellis::plan {

RankPlacement place_ranks(const ClusterSpec& cluster, int world, int devices_per_rank) {
  RankPlacement p;
  p.world = world;
  p.devices_per_rank = std::max(1, devices_per_rank);
  const int slots = std::max(1, cluster.devices_per_node / p.devices_per_rank);
  if (world <= slots * cluster.nodes) {
    p.ranks_per_node = slots;
  } else {
    // More ranks than room: spread them evenly over the nodes; they share devices.
    p.ranks_per_node = (world + cluster.nodes - 1) / cluster.nodes;
  }
  p.nodes_used = (world + p.ranks_per_node - 1) / p.ranks_per_node;
  const int on_first = std::min(world, p.ranks_per_node);
  p.oversubscription =
      std::max(1.0, static_cast<double>(on_first) * p.devices_per_rank / cluster.devices_per_node);
  return p;
}

}  // namespace trellis::plan
