// Where groups land and the links they get (rank_placement.h, group_link.h).
#include <doctest/doctest.h>

#include "plan/group_link.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

ClusterSpec dgx(int nodes) {
  ClusterSpec c;
  c.name = "test";
  c.nodes = nodes;
  c.devices_per_node = 8;
  c.intra_node = {300e9, 5e-6, 0.8};   // 240 GB/s
  c.inter_node = {200e9, 10e-6, 1.0};  // 25 GB/s a device
  return c;
}

}  // namespace

TEST_CASE("ranks fill nodes in order; extra ranks share devices") {
  const RankPlacement p = place_ranks(dgx(4), 32, 1);
  CHECK(p.ranks_per_node == 8);
  CHECK(p.nodes_used == 4);
  CHECK(p.node_of(17) == 2);
  CHECK(p.oversubscription == 1.0);
  ClusterSpec cpu = dgx(1);
  cpu.devices_per_node = 2;
  const RankPlacement shared = place_ranks(cpu, 4, 1);
  CHECK(shared.ranks_per_node == 4);
  CHECK(shared.oversubscription == 2.0);
  CHECK(place_ranks(cpu, 2, 2).oversubscription == 2.0);  // 2 ranks of 2 threads on 2 cores
}

TEST_CASE("tensor groups of 8 stay in a node; data groups across nodes share the adapters") {
  const ClusterSpec c = dgx(4);
  const ParallelLayout layout({8, 1, 4, 1});  // tensor 8 x data 4 on 32 GPUs
  const RankPlacement p = place_ranks(c, 32, 1);
  const GroupLink tensor = group_link(c, p, layout, {ParallelDim::tensor});
  CHECK_FALSE(tensor.crosses_nodes());
  CHECK(tensor.bandwidth == doctest::Approx(240e9));
  CHECK(tensor.latency == doctest::Approx(5e-6));
  const GroupLink data = group_link(c, p, layout, {ParallelDim::data});
  CHECK(data.nodes_spanned == 4);
  CHECK(data.members_per_node == 1);
  // 8 data groups share a node's 200 GB/s: 25 GB/s each.
  CHECK(data.bandwidth == doctest::Approx(25e9));
  CHECK(data.latency == doctest::Approx(10e-6));
  // Tensor 2 x data 16: each data group has 4 members a node, so 4/8 of the node's adapters,
  // 100 GB/s.
  const ParallelLayout narrow({2, 1, 16, 1});
  const GroupLink wide_data = group_link(c, p, narrow, {ParallelDim::data});
  CHECK(wide_data.members_per_node == 4);
  CHECK(wide_data.bandwidth == doctest::Approx(100e9));
  // A node's adapters never beat NVLink: all 8 a node would get 200 GB/s, below 240.
  const ParallelLayout flat({1, 1, 32, 1});
  CHECK(group_link(c, p, flat, {ParallelDim::data}).bandwidth == doctest::Approx(200e9));
}

TEST_CASE("pipeline sends: inside a node when the stages share it, else an adapter share") {
  const ClusterSpec c = dgx(4);
  const RankPlacement p = place_ranks(c, 32, 1);
  // tensor 8 x pipeline 4: each stage is a node; every pair crosses nodes.
  const GroupLink across = pipeline_link(c, p, ParallelLayout({8, 1, 1, 4}));
  CHECK(across.crosses_nodes());
  CHECK(across.bandwidth == doctest::Approx(25e9));
  // tensor 2 x pipeline 4 x data 4: the stages of a pipeline are 8 ranks apart: across nodes.
  CHECK(pipeline_link(c, p, ParallelLayout({2, 1, 4, 4})).crosses_nodes());
  // pipeline 2 on 2 ranks of one node.
  const RankPlacement two = place_ranks(c, 2, 1);
  CHECK_FALSE(pipeline_link(c, two, ParallelLayout({1, 1, 1, 2})).crosses_nodes());
}
