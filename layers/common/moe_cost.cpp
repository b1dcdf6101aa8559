#include "moe_cost.h"

#include <algorithm>

namespace trellis::layers {

MoeBlockCost moe_block_cost(const MoeCostQuery& q, const LayerCost& dense, RegionHolding holding) {
  const LayerCostQuery& l = q.layer;
  const MoeSettings& moe = q.moe;
  const double h = static_cast<double>(l.dims.hidden), t = l.tensor;
  const double E = static_cast<double>(moe.experts), k = static_cast<double>(moe.top_k);
  const double tokens = static_cast<double>(l.micro_batch * l.seq_len);
  const double value = tokens * l.activation_bytes;  // one value a token, in bytes
  const double R = moe.capacity_factor > 0.0 ? k * std::min(1.0, moe.capacity_factor) : k;
  const bool split_experts = moe.expert_parallel > 1;

  MoeBlockCost c;
  c.routed_rows = R;
  c.block = dense.block;
  const double mlp = 16.0 * tokens * h * h / t;  // fc and proj, one pass
  const double router = 2.0 * tokens * h * E;
  for (PassCost* p : {&c.block.forward, &c.block.backward_input, &c.block.backward_weight})
    p->flops += (R - 1.0) * mlp + router;
  c.block.forward.bytes += ((R - 1.0) * 8.0 * h / t + h + 5.0 * R * h + 3.0 * E) * value;
  c.block.backward_input.bytes +=
      ((R - 1.0) * 12.0 * h / t + 2.0 * h + 6.0 * R * h + 4.0 * E) * value;
  c.block.backward_weight.bytes += (R - 1.0) * 4.0 * h / t * value;
  if (l.tensor > 1) {
    c.block.backward_input.collectives.push_back(
        {CollectiveKind::all_reduce, TensorSubgroup::whole, 4.0 * k * tokens, 1});
  }

  const double gathered_input = holding == RegionHolding::sharded ? h : 0.0;
  const double routed = R * (2.0 * h + 8.0 * h / t);
  c.stash = dense.block_stash;
  c.stash.after_forward += routed - 8.0 * h / t + gathered_input;
  c.stash.after_input += routed - 8.0 * h / t + E + gathered_input;
  c.stash.backward_workspace += (split_experts ? 2.0 * R * h : 0.0) - 4.0 * h / t;
  c.forward_workspace = split_experts ? 2.0 * R * h + E : E;

  const double mlp_parameters = 8.0 * h * h / t + 4.0 * h / t + h;
  c.parameters = dense.parameters.block - mlp_parameters + E * h;
  c.expert_parameters =
      static_cast<double>(moe.experts / std::max<std::int64_t>(1, moe.expert_parallel)) *
      mlp_parameters;
  return c;
}

}  // namespace trellis::layers
