#include "plan/activation_memory.h"

#include <algorithm>
#include <vector>

namespace trellis::plan {

const char* activation_model_name(ActivationModel m) noexcept {
  return m == ActivationModel::trellis ? "trellis" : "korthikanti";
}

double published_layer_activation_bytes(const ActivationShape& w, bool shards) {
  const double s = static_cast<double>(w.seq_len), b = static_cast<double>(w.micro_batch);
  const double h = static_cast<double>(w.hidden), a = static_cast<double>(w.heads);
  const double t = w.tensor;
  const double sbh = s * b * h;
  const double attention = 5.0 * a * s / h;  // softmax output, its dropout mask and output
  switch (w.recompute.granularity) {
    case Recompute::full:
      return shards ? 2.0 * sbh / t : 2.0 * sbh;
    case Recompute::selective:
      return shards ? 34.0 * sbh / t : sbh * (10.0 + 24.0 / t);
    case Recompute::none:
      break;
  }
  return shards ? sbh / t * (34.0 + attention) : sbh * (10.0 + 24.0 / t + attention / t);
}

namespace {

// Values per token of one block and of the chunk's ends, under the shape's recomputation.
struct TokenValues {
  double layer_full;         // one block's stash after a forward with training (full: rebuilt)
  double layer_after_i;      // one block after its input gradient
  double layer_workspace;    // a block's input-gradient buffers at their highest
  double chunk_input;        // the first block's input (embedding output or received states);
                             // also the size of every group input full recomputation keeps
  double grad_in;            // the gradient arriving at the chunk's top
  double forward_workspace;  // held beyond layer_full while the block's forward runs
};

TokenValues block_values(const BlockStash& s, Recompute recompute) {
  TokenValues v{};
  v.layer_full = s.after_forward + s.attention_probabilities;
  v.layer_after_i = s.after_input;
  v.layer_workspace = s.backward_workspace;
  v.chunk_input = s.chunk_input;
  v.grad_in = s.gradient_in;
  if (recompute == Recompute::selective) {
    // Kept no more from forward to backward; rebuilt at the start of the block's input
    // gradient, they live to its end.
    v.layer_full -= s.attention_probabilities;
    v.layer_workspace += s.attention_probabilities;
  }
  return v;
}

// A chunk's blocks under full recomputation: its groups (bottom first), then the blocks that
// keep their stash (the block method's rest; none for uniform, every block without full).
struct ChunkGroups {
  std::vector<RecomputeGroup> groups;
  int kept = 0;
};

ChunkGroups chunk_groups(const RecomputeSettings& r, int blocks) {
  ChunkGroups c;
  c.groups = recompute_groups(r, blocks);
  c.kept = blocks;
  for (const RecomputeGroup& g : c.groups) c.kept -= g.count;
  return c;
}

// The Trellis model, in values a token: the chunk's blocks (`memory`, bottom first) and head
// walked as trellis-train runs them (model/model_chunk.cpp, the families' stashes). Blocks may
// differ (dense and MoE): where one block's buffers stand for all of a set (the kept blocks'
// backward, a group's rebuild), the largest is taken, an upper bound that is exact when the
// blocks are alike.
ChunkActivations trellis_chunk_values(const LayerCost& cost, const ActivationShape& w,
                                      const std::vector<BlockMemory>& memory, bool has_head) {
  const int blocks = static_cast<int>(memory.size());
  std::vector<TokenValues> v;
  for (const BlockMemory& m : memory) {
    v.push_back(block_values(m.stash, w.recompute.granularity));
    v.back().forward_workspace = m.forward_workspace;
  }
  const double probs = cost.block_stash.attention_probabilities;
  const ChunkGroups chunk = chunk_groups(w.recompute, blocks);
  const double G = static_cast<double>(chunk.groups.size());
  HeadStash head;
  if (has_head) head = cost.head_stash;
  const double ci = v.front().chunk_input;
  const double grad_in = v.front().grad_in;
  std::vector<bool> recomputed(static_cast<std::size_t>(blocks), false);
  for (const RecomputeGroup& g : chunk.groups)
    for (int b = g.first; b < g.first + g.count; ++b)
      recomputed[static_cast<std::size_t>(b)] = true;
  double kept_full = 0.0, kept_after_i = 0.0, kept_workspace = 0.0, all_after_i = 0.0;
  double kept_forward_workspace = 0.0;
  for (int b = 0; b < blocks; ++b) {
    const TokenValues& x = v[static_cast<std::size_t>(b)];
    all_after_i += x.layer_after_i;
    if (recomputed[static_cast<std::size_t>(b)]) continue;
    kept_full += x.layer_full;
    kept_after_i += x.layer_after_i;
    kept_workspace = std::max(kept_workspace, x.layer_workspace);
    kept_forward_workspace = std::max(kept_forward_workspace, x.forward_workspace);
  }
  // A group's blocks: their stashes together, the largest of each buffer.
  struct GroupValues {
    double full = 0.0, after_i = 0.0, largest_forward = 0.0, workspace = 0.0;
  };
  auto group_values = [&](const RecomputeGroup& g) {
    GroupValues out;
    for (int b = g.first; b < g.first + g.count; ++b) {
      const TokenValues& x = v[static_cast<std::size_t>(b)];
      out.full += x.layer_full;
      out.after_i += x.layer_after_i;
      out.largest_forward = std::max(out.largest_forward, x.layer_full + x.forward_workspace);
      out.workspace = std::max(out.workspace, x.layer_workspace);
    }
    return out;
  };

  ChunkActivations c;
  c.per_layer = chunk.groups.empty() ? v.front().layer_full : ci;
  // A group's output is held by what follows it in the chunk: the next group (as its input), a
  // kept block (as its x) or the final norm; at a chunk's end without the head, by the send to
  // the next stage only (pipeline/executor.cpp drops finished sends after each action).
  const bool output_held = chunk.kept > 0 || has_head;
  c.sent_output = G > 0 && !output_held ? ci : 0.0;
  const double held_norm_input = !chunk.groups.empty() && chunk.kept == 0 && has_head ? ci : 0.0;
  c.after_forward = ci + kept_full + head.after_forward;
  if (G > 0) c.after_forward += (G - 1) * ci + (output_held ? ci : 0.0);
  c.after_input = all_after_i + grad_in + head.after_input;

  // Forward: a block holds its whole stash until it returns (the probabilities too while its
  // attention runs: an upper bound, by at most what it stashes after the attention, under
  // selective recomputation); a recomputed group's blocks keep nothing after they return but
  // their output, the next block's input.
  c.peak_in_forward = c.after_forward;
  if (w.recompute.granularity == Recompute::selective) c.peak_in_forward += probs;
  // A kept block's forward buffers (an MoE block's routing), with every kept block below it held:
  // at most all of the chunk's but the head's.
  if (kept_forward_workspace > 0.0) {
    c.peak_in_forward = std::max(
        c.peak_in_forward, c.after_forward - head.after_forward + kept_forward_workspace +
                               (w.recompute.granularity == Recompute::selective ? probs : 0.0));
  }
  for (std::size_t g = 0; g < chunk.groups.size(); ++g) {
    const double inputs = ci * static_cast<double>(g + 1);
    const double previous_output = chunk.groups[g].count > 1 ? ci : 0.0;
    c.peak_in_forward =
        std::max(c.peak_in_forward,
                 inputs + previous_output + group_values(chunk.groups[g]).largest_forward);
  }

  // Backward: the head first, on everything the forward left.
  const double head_peak = c.after_forward + head.backward_workspace;
  const double block_top = grad_in + kept_workspace;  // the gradient in and the buffers
  // Whole backward: the head's stash (and the norm's input) is gone before the blocks start;
  // the kept blocks run from the top, then each group, rebuilt, with the groups below it.
  const double after_head = c.after_forward - head.after_forward - held_norm_input;
  c.peak_in_backward = has_head ? head_peak : 0.0;
  if (chunk.kept > 0) c.peak_in_backward = std::max(c.peak_in_backward, after_head + block_top);
  // Input gradient: the head leaves its after_input; every block done waits for its weight
  // gradient with after_input.
  const double after_head_i = after_head + head.after_input;
  c.peak_in_input = has_head ? head_peak : 0.0;
  if (chunk.kept > 0) c.peak_in_input = std::max(c.peak_in_input, after_head_i + block_top);
  double done_above = head.after_input + kept_after_i;  // after_input held above
  for (std::size_t g = chunk.groups.size(); g-- > 0;) {
    const GroupValues group = group_values(chunk.groups[g]);
    const double inputs = ci * static_cast<double>(g + 1);  // this group's and those below
    const double rebuilt = group.full + grad_in + group.workspace;
    c.peak_in_backward = std::max(c.peak_in_backward, inputs + rebuilt);
    c.peak_in_input = std::max(c.peak_in_input, done_above + inputs + rebuilt);
    done_above += group.after_i;
  }
  return c;
}

}  // namespace

double trellis_layer_activation_bytes(const LayerCost& cost, const ActivationShape& w) {
  const TokenValues v = block_values(cost.block_stash, w.recompute.granularity);
  const double per_layer =
      w.recompute.granularity == Recompute::full ? v.chunk_input : v.layer_full;
  return per_layer * static_cast<double>(w.micro_batch * w.seq_len) * w.activation_bytes;
}

ChunkActivations chunk_activations(const LayerCost& cost, const ActivationShape& w, int blocks,
                                   bool has_head, ActivationModel model) {
  return chunk_activations(
      cost, w, std::vector<BlockMemory>(static_cast<std::size_t>(blocks), {cost.block_stash}),
      has_head, model);
}

ChunkActivations chunk_activations(const LayerCost& cost, const ActivationShape& w,
                                   const std::vector<BlockMemory>& memory, bool has_head,
                                   ActivationModel model) {
  const int blocks = static_cast<int>(memory.size());
  const double tokens = static_cast<double>(w.micro_batch * w.seq_len);
  const double bytes = tokens * w.activation_bytes;  // one value a token, in bytes

  ChunkActivations c;
  if (model == ActivationModel::korthikanti) {
    const TokenValues v = block_values(cost.block_stash, w.recompute.granularity);
    const ChunkGroups chunk = chunk_groups(w.recompute, blocks);
    ActivationShape kept_shape = w;
    kept_shape.recompute = {};
    const double recomputed = blocks - chunk.kept;
    c.per_layer = published_layer_activation_bytes(w, cost.activations_sharded);
    c.after_forward =
        (chunk.groups.empty() ? blocks : recomputed) * c.per_layer +
        (chunk.groups.empty() ? 0.0
                              : chunk.kept * published_layer_activation_bytes(
                                                 kept_shape, cost.activations_sharded)) +
        v.chunk_input * bytes;
    if (has_head) c.after_forward += cost.head_stash.logits * bytes;
    c.after_input = c.peak_in_forward = c.after_forward;
    // Full: one block's stash rebuilt on top of its workspace.
    const double rebuilt = w.recompute.granularity == Recompute::full ? v.layer_full : 0.0;
    c.peak_in_backward = c.peak_in_input = c.after_forward + (v.layer_workspace + rebuilt) * bytes;
    return c;
  }
  c = trellis_chunk_values(cost, w, memory, has_head);
  for (double* x : {&c.per_layer, &c.after_forward, &c.peak_in_forward, &c.sent_output,
                    &c.after_input, &c.peak_in_backward, &c.peak_in_input})
    *x *= bytes;
  return c;
}

}  // namespace trellis::plan
