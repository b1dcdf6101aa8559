// The link a communication group effectively has, from where its ranks land (rank_placement.h).
//
// A group inside one node talks over the intra-node link (latency and per-device bandwidth of
// [intra_node]). A group spanning nodes is bounded by the network: every group of the same kind
// communicates at once, so the ranks_per_node / members_per_node groups with members on a node
// share its adapters, and each gets members_per_node / ranks_per_node of the node's inter-node
// bandwidth (never more than the intra-node link); its latency is the network's. With 8 GPUs and
// 8 adapters a node, a data-parallel group with one member a node gets one adapter; one with all
// 8 members a node gets all 8.
#pragma once

#include <string>
#include <vector>

#include "plan/cluster_spec.h"
#include "plan/rank_placement.h"
#include "trellis/parallel.h"

namespace trellis::plan {

struct GroupLink {
  int size = 1;              // ranks in the group
  int nodes_spanned = 1;     // the most nodes any group of this kind touches
  int members_per_node = 1;  // the fewest members such a group has on one of its nodes
  double latency = 0.0;      // seconds per message step
  double bandwidth = 0.0;    // bytes/s a ring over the group reaches
  bool crosses_nodes() const noexcept { return nodes_spanned > 1; }
  std::string describe() const;  // "8 ranks in one node" / "32 ranks over 32 nodes (1 a node)"
};

// The link of the groups given as lists of world ranks (all groups of one kind).
GroupLink link_of_groups(const ClusterSpec& cluster, const RankPlacement& placement,
                         const std::vector<std::vector<int>>& groups);
// The groups of `layout` along `dims` (e.g. {tensor}, {data}).
GroupLink group_link(const ClusterSpec& cluster, const RankPlacement& placement,
                     const ParallelLayout& layout, const std::vector<ParallelDim>& dims);
// The link between consecutive pipeline ranks (each rank sends to its next stage's rank; all
// pairs at once): intra-node when every such pair shares a node.
GroupLink pipeline_link(const ClusterSpec& cluster, const RankPlacement& placement,
                        const ParallelLayout& layout);

}  // namespace trellis::plan
