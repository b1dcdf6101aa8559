#include "plan/activation_memory.h"

#include <algorithm>

namespace trellis::plan {

const char* activation_model_name(ActivationModel m) noexcept {
  return m == ActivationModel::trellis ? "trellis" : "korthikanti";
}

double published_layer_activation_bytes(const WorkShape& w) {
  const double s = static_cast<double>(w.seq_len), b = static_cast<double>(w.micro_batch);
  const double h = static_cast<double>(w.hidden), a = static_cast<double>(w.heads);
  const double t = w.tensor;
  const double sbh = s * b * h;
  const double attention = 5.0 * a * s / h;  // softmax output, its dropout mask and output
  const bool shards = w.mode != TensorMode::one_d;
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

// Values per token (x e bytes) that Trellis's layers keep; see activation_memory.h.
struct TokenValues {
  double layer_full;       // one block after its forward
  double layer_after_i;    // one block after its input gradient
  double layer_workspace;  // a block's input-gradient buffers at their highest
  double chunk_input;      // the first block's input (embedding output or received states)
  double grad_in;          // the gradient arriving at the chunk's top
};

TokenValues trellis_values(const WorkShape& w) {
  const double h = static_cast<double>(w.hidden), t = w.tensor;
  const double probs = static_cast<double>(w.heads * w.seq_len) / t;
  const bool selective = w.recompute == Recompute::selective;
  const double att = selective ? 0.0 : probs;
  TokenValues v{};
  switch (w.mode) {
    case TensorMode::one_d:
      v.layer_full = 4 * h + 12 * h / t + 4 + att;
      v.layer_after_i = 4 * h + 12 * h / t;
      // d_fc, d_att, d_qkv split; d_ln2, d_res2, d_ln1, d_x whole.
      v.layer_workspace = 4 * h + 8 * h / t;
      v.chunk_input = h;
      v.grad_in = h;
      break;
    case TensorMode::seq:
      // States between regions are sequence shards; the QKV, attention, MLP tensors are whole
      // sequences of this rank's channels (as in 1d). Backward keeps the gathered output
      // gradients (d_out, d_res2) whole for the weight gradient.
      v.layer_full = 16 * h / t + 4 / t + att;
      v.layer_after_i = 2 * h + 15 * h / t;
      v.layer_workspace = 4 * h + 13 * h / t;
      v.chunk_input = h / t;
      v.grad_in = h / t;
      break;
    case TensorMode::two_d:
      v.layer_full = 16 * h / t + 4 / t + att;
      v.layer_after_i = 16 * h / t;
      v.layer_workspace = 13 * h / t;
      v.chunk_input = h / t;
      v.grad_in = h / t;
      break;
  }
  if (w.recompute == Recompute::full) {
    // Only the layer's input stays; backward rebuilds one layer's stash at a time.
    v.layer_workspace += v.layer_full;
    v.layer_full = v.chunk_input;
  }
  return v;
}

}  // namespace

double trellis_layer_activation_bytes(const WorkShape& w) {
  return trellis_values(w).layer_full * static_cast<double>(w.micro_batch * w.seq_len) *
         w.activation_bytes;
}

ChunkActivations chunk_activations(const WorkShape& w, int blocks, bool has_head,
                                   ActivationModel model) {
  const double tokens = static_cast<double>(w.micro_batch * w.seq_len);
  const double e = w.activation_bytes;
  const double h = static_cast<double>(w.hidden), t = w.tensor;
  const double vocab = static_cast<double>(w.vocab) / t;
  const TokenValues v = trellis_values(w);
  const double bytes = tokens * e;  // one value a token, in bytes

  ChunkActivations c;
  if (model == ActivationModel::korthikanti) {
    c.per_layer = published_layer_activation_bytes(w);
    c.after_forward = blocks * c.per_layer + v.chunk_input * bytes;
    if (has_head) c.after_forward += vocab * bytes;  // the logits
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
    // Final LayerNorm output and statistics, the head's input (seq gathers it whole), the
    // logits and the loss statistics.
    const double norm_out = w.mode == TensorMode::one_d ? h : h / t;
    const double head_input = w.mode == TensorMode::seq ? h : 0.0;
    logits = vocab;
    c.after_forward += (norm_out + 2 + head_input + logits + 3) * bytes;
    // After its input gradient the head keeps the logits' gradient and its input, and passes
    // d_h, which the final norm turns into the top block's output gradient.
    c.after_input += (logits + 3 + norm_out + head_input + h) * bytes;
    head_peak = 2 * h;  // d_h and the final norm's input gradient
  }
  // Whole backward: the head finishes (logits freed) before the blocks run.
  c.peak_in_backward = c.after_forward + std::max(head_peak, block_peak - logits) * bytes;
  c.peak_in_input = c.after_forward + std::max(head_peak, block_peak) * bytes;
  return c;
}

}  // namespace trellis::plan
