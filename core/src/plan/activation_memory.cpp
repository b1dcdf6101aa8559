#include "plan/activation_memory.h"

#include <algorithm>

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
  switch (w.recompute) {
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

// Values per token a block keeps under the shape's recomputation.
struct TokenValues {
  double layer_full;       // one block after its forward
  double layer_after_i;    // one block after its input gradient
  double layer_workspace;  // a block's input-gradient buffers at their highest
  double chunk_input;      // the first block's input (embedding output or received states)
  double grad_in;          // the gradient arriving at the chunk's top
};

TokenValues block_values(const LayerCost& cost, const ActivationShape& w) {
  const BlockStash& s = cost.block_stash;
  const bool selective = w.recompute == Recompute::selective;
  TokenValues v{};
  v.layer_full = selective ? s.after_forward : s.after_forward + s.attention_probabilities;
  v.layer_after_i = s.after_input;
  v.layer_workspace = s.backward_workspace;
  v.chunk_input = s.chunk_input;
  v.grad_in = s.gradient_in;
  if (w.recompute == Recompute::full) {
    // Only the layer's input stays; backward rebuilds one layer's stash at a time.
    v.layer_workspace += v.layer_full;
    v.layer_full = v.chunk_input;
  }
  return v;
}

}  // namespace

double trellis_layer_activation_bytes(const LayerCost& cost, const ActivationShape& w) {
  return block_values(cost, w).layer_full * static_cast<double>(w.micro_batch * w.seq_len) *
         w.activation_bytes;
}

ChunkActivations chunk_activations(const LayerCost& cost, const ActivationShape& w, int blocks,
                                   bool has_head, ActivationModel model) {
  const double tokens = static_cast<double>(w.micro_batch * w.seq_len);
  const double e = w.activation_bytes;
  const TokenValues v = block_values(cost, w);
  const HeadStash& head = cost.head_stash;
  const double bytes = tokens * e;  // one value a token, in bytes

  ChunkActivations c;
  if (model == ActivationModel::korthikanti) {
    c.per_layer = published_layer_activation_bytes(w, cost.activations_sharded);
    c.after_forward = blocks * c.per_layer + v.chunk_input * bytes;
    if (has_head) c.after_forward += head.logits * bytes;
    c.after_input = c.after_forward;
    c.peak_in_backward = c.peak_in_input = c.after_forward + v.layer_workspace * bytes;
    return c;
  }
  c.per_layer = v.layer_full * bytes;
  c.after_forward = blocks * c.per_layer + v.chunk_input * bytes;
  c.after_input = blocks * v.layer_after_i * bytes + v.grad_in * bytes;
  double block_peak = v.grad_in + v.layer_workspace;  // the top block's backward
  double logits = 0.0, head_peak = 0.0;
  if (has_head) {
    logits = head.logits;
    c.after_forward += head.after_forward * bytes;
    c.after_input += head.after_input * bytes;
    head_peak = head.backward_workspace;
  }
  // Whole backward: the head finishes (logits freed) before the blocks run.
  c.peak_in_backward = c.after_forward + std::max(head_peak, block_peak - logits) * bytes;
  c.peak_in_input = c.after_forward + std::max(head_peak, block_peak) * bytes;
  return c;
}

}  // namespace trellis::plan
