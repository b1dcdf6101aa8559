#include "plan/group_link.h"

#include <algorithm>
#include <map>

namespace trellis::plan {

std::string GroupLink::describe() const {
  if (size <= 1) return "1 rank";
  if (!crosses_nodes()) return std::to_string(size) + " ranks in one node";
  return std::to_string(size) + " ranks over " + std::to_string(nodes_spanned) + " nodes (" +
         std::to_string(members_per_node) + " a node)";
}

GroupLink link_of_groups(const ClusterSpec& cluster, const RankPlacement& placement,
                         const std::vector<std::vector<int>>& groups) {
  GroupLink link;
  link.members_per_node = placement.ranks_per_node;
  for (const std::vector<int>& group : groups) {
    link.size = std::max(link.size, static_cast<int>(group.size()));
    std::map<int, int> per_node;
    for (int rank : group) ++per_node[placement.node_of(rank)];
    link.nodes_spanned = std::max(link.nodes_spanned, static_cast<int>(per_node.size()));
    for (const auto& [node, members] : per_node)
      link.members_per_node = std::min(link.members_per_node, members);
  }
  const double intra = cluster.intra_node.effective_bandwidth();
  if (!link.crosses_nodes()) {
    link.members_per_node = link.size;
    link.latency = cluster.intra_node.latency;
    link.bandwidth = intra;
    return link;
  }
  const double share =
      static_cast<double>(link.members_per_node) / std::max(1, placement.ranks_per_node);
  link.latency = cluster.inter_node.latency;
  link.bandwidth = std::min(intra, cluster.inter_node.effective_bandwidth() * share);
  return link;
}

GroupLink group_link(const ClusterSpec& cluster, const RankPlacement& placement,
                     const ParallelLayout& layout, const std::vector<ParallelDim>& dims) {
  return link_of_groups(cluster, placement, layout.all_groups(dims));
}

GroupLink pipeline_link(const ClusterSpec& cluster, const RankPlacement& placement,
                        const ParallelLayout& layout) {
  std::vector<std::vector<int>> pairs;
  for (const std::vector<int>& group : layout.all_groups({ParallelDim::pipeline})) {
    for (std::size_t i = 0; i + 1 < group.size(); ++i) pairs.push_back({group[i], group[i + 1]});
  }
  if (pairs.empty()) return GroupLink{};
  // A pair crossing nodes has one member a node: every rank of the node sends at once, each
  // with its share of the adapters.
  return link_of_groups(cluster, placement, pairs);
}

}  // namespace trellis::plan
