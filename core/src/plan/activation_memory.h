// Activation memory of one transformer layer, and of one pipeline chunk, per microbatch.
//
// The published formulas (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
// Transformer Models", section 4), bytes per layer with 16-bit activations and 1-byte dropout
// masks, s sequence, b micro batch, h hidden, a heads, t tensor size:
//   no parallelism                     s b h (34 + 5 a s / h)
//   tensor parallel (1d)               s b h (10 + 24 / t + 5 a s / (h t))
//   tensor + sequence parallel (seq)   s b h / t (34 + 5 a s / h)
//   selective recompute                the 5 a s / h terms go: s b h (10 + 24/t), 34 s b h / t
//   full recompute                     the layer's input only: 2 s b h (1d), 2 s b h / t (seq)
// 2d keeps every activation as a 1/t shard, like seq (the paper has no 2d; we use seq's form).
//
// What Trellis keeps (layers/common/block.cpp's stash, e bytes a value, no dropout):
//   LayerNorm outputs, the residual stream r and the block output: 4 s b h (replicated in 1d)
//   QKV 3 s b h / t, attention output s b h / t, MLP input and GELU output 8 s b h / t
//   attention probabilities a s^2 b / t, LayerNorm statistics 4 s b
// so per layer e [s b h (4 + 12/t) + 4 s b + a s^2 b / t] in 1d: at e = 4 that is
// s b h (16 + 48/t) + 16 s b + 4 a s^2 b / t bytes, the published terms' shape with 4-byte
// values, no masks (34 -> 16 + 48, 5 a s / h -> 4 a s / h). In seq and 2d every term is a
// 1/t shard. After the input gradient (split backward) a layer keeps the linears' inputs and
// output gradients for the weight gradient: e s b h (4 + 12/t) in 1d.
#pragma once

#include "plan/layer_work.h"

namespace trellis::plan {

enum class ActivationModel : unsigned char { trellis, korthikanti };
const char* activation_model_name(ActivationModel m) noexcept;  // "trellis", "korthikanti"

// Korthikanti et al.'s bytes per layer (16-bit activations), for the shape's mode and recompute.
double published_layer_activation_bytes(const WorkShape& shape);
// Trellis's stash per layer after the forward (see above), for the shape's mode and recompute.
double trellis_layer_activation_bytes(const WorkShape& shape);

// Activation bytes of one (stage, microbatch) of a chunk, at the moments that matter for the
// peak: after its forward, after its input gradient (split backward: what waits for W), and the
// highest point during a whole backward (B) and during an input-gradient pass (I), each
// including what the chunk holds then.
struct ChunkActivations {
  double per_layer = 0.0;  // one layer after its forward
  double after_forward = 0.0;
  double after_input = 0.0;
  double peak_in_backward = 0.0;
  double peak_in_input = 0.0;
};

ChunkActivations chunk_activations(const WorkShape& shape, int blocks, bool has_head,
                                   ActivationModel model);

}  // namespace trellis::plan
