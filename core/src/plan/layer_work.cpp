#include "plan/layer_work.h"

#include "plan/context_work.h"

namespace trellis::plan {

ActionWork::ActionWork(const PassCost& pass)
    : flops(pass.flops), bytes(pass.bytes), comm(pass.collectives) {}

ActionWork& ActionWork::operator+=(const ActionWork& other) {
  flops += other.flops;
  bytes += other.bytes;
  comm.insert(comm.end(), other.comm.begin(), other.comm.end());
  context_comm.insert(context_comm.end(), other.context_comm.begin(), other.context_comm.end());
  expert_comm.insert(expert_comm.end(), other.expert_comm.begin(), other.expert_comm.end());
  attention_flops += other.attention_flops;
  attention_bytes += other.attention_bytes;
  return *this;
}

PassWork::PassWork(const PieceCost& piece)
    : forward(piece.forward),
      backward_input(piece.backward_input),
      backward_weight(piece.backward_weight) {}

PassWork& PassWork::operator+=(const PassWork& other) {
  forward += other.forward;
  backward_input += other.backward_input;
  backward_weight += other.backward_weight;
  return *this;
}

PassWork PassWork::scaled(double times) const {
  PassWork out = *this;
  for (ActionWork* w : {&out.forward, &out.backward_input, &out.backward_weight}) {
    w->flops *= times;
    w->bytes *= times;
    w->attention_flops *= times;
    w->attention_bytes *= times;
    for (CommCall& c : w->comm) c.count *= times;
    for (ContextCollective& c : w->context_comm) c.count *= times;
    for (CommCall& c : w->expert_comm) c.count *= times;
  }
  return out;
}

PassWork block_work(const LayerCost& cost, Recompute recompute, const ContextCost* context,
                    const DispatchCost* dispatch) {
  PassWork p(cost.block);
  if (dispatch != nullptr) {
    p.forward.expert_comm = dispatch->forward.collectives;
    p.forward.bytes += dispatch->forward.bytes;
    p.backward_input.expert_comm = dispatch->backward_input.collectives;
    p.backward_input.bytes += dispatch->backward_input.bytes;
  }
  // Attention's core alone, forward: what selective recomputation redoes, and under context
  // parallelism what the context's collectives may hide behind.
  ActionWork core;
  core.flops = core.attention_flops = cost.attention_core.flops;
  core.bytes = core.attention_bytes = cost.attention_core.bytes;
  if (context != nullptr) {
    core.context_comm = context->forward.collectives;
    p.forward.attention_flops = core.attention_flops;
    p.forward.attention_bytes = core.attention_bytes;
    p.forward.context_comm = context->forward.collectives;
    p.backward_input.attention_flops = kAttentionBackwardProducts * core.attention_flops;
    p.backward_input.attention_bytes = core.attention_bytes;
    p.backward_input.context_comm = context->backward_input.collectives;
  }
  switch (recompute) {
    case Recompute::none:
      break;
    case Recompute::full:
      p.backward_input += p.forward;
      break;
    case Recompute::selective:
      p.backward_input += core;
      break;
  }
  return p;
}

PassWork chunk_blocks_work(const std::vector<ChunkBlock>& blocks,
                           const RecomputeSettings& recompute, const ContextCost* context) {
  std::vector<bool> recomputed(blocks.size(), false);
  if (recompute.granularity == Recompute::full) {
    for (const RecomputeGroup& g : recompute_groups(recompute, static_cast<int>(blocks.size())))
      for (int b = g.first; b < g.first + g.count; ++b)
        recomputed[static_cast<std::size_t>(b)] = true;
  }
  const Recompute kept =
      recompute.granularity == Recompute::full ? Recompute::none : recompute.granularity;
  // Runs of alike blocks are one block's work scaled, so a chunk of equal blocks keeps one entry
  // per collective however many blocks it has.
  PassWork work;
  for (std::size_t b = 0; b < blocks.size();) {
    std::size_t end = b + 1;
    while (end < blocks.size() && blocks[end].cost == blocks[b].cost &&
           blocks[end].dispatch == blocks[b].dispatch && recomputed[end] == recomputed[b])
      ++end;
    work += block_work(*blocks[b].cost, recomputed[b] ? Recompute::full : kept, context,
                       blocks[b].dispatch)
                .scaled(static_cast<double>(end - b));
    b = end;
  }
  return work;
}

PassWork chunk_blocks_work(const LayerCost& cost, const RecomputeSettings& recompute, int blocks,
                           const ContextCost* context) {
  return chunk_blocks_work(std::vector<ChunkBlock>(static_cast<std::size_t>(blocks), {&cost}),
                           recompute, context);
}

PassWork embedding_work(const LayerCost& cost) {
  return PassWork(cost.embedding);
}

PassWork head_work(const LayerCost& cost) {
  return PassWork(cost.head);
}

}  // namespace trellis::plan
