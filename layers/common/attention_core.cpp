#include "attention_core.h"

#include <string>

namespace trellis::layers {

AttentionRecompute attention_recompute(const LayerFamilyInit& init) {
  return {init.recompute_attention, init.recompute_trace};
}

namespace {

AttentionStash run_forward(const AttentionCoreSetup& core, const Tensor& qkv, int heads,
                           const Tensor& att, bool keep) {
  AttentionStash stash;
  if (core.context != nullptr) {
    // Across the context group: this rank's chunks attend to every earlier token.
    stash.context = core.context->forward(qkv, heads, att, keep);
    return stash;
  }
  const std::int64_t B = qkv.shape()[0], T = qkv.shape()[1];
  Tensor probs = Tensor::empty({B, heads, T, T}, DType::f32, core.allocator);
  core.kernels->attention_forward(qkv, heads, att, probs);
  if (keep) stash.probs = std::move(probs);
  return stash;
}

}  // namespace

AttentionStash attention_core_forward(const AttentionCoreSetup& core, const Tensor& qkv, int heads,
                                      const Tensor& att, bool training) {
  return run_forward(core, qkv, heads, att, training && !core.recompute.enabled);
}

void attention_core_backward(const AttentionCoreSetup& core, const Tensor& d_att, const Tensor& qkv,
                             int heads, AttentionStash& stash, const Tensor& d_qkv,
                             std::string_view layer, int microbatch) {
  if (core.recompute.enabled) {
    // The forward again, keeping its stash this time; its output (equal to the one the block
    // already used) goes to a scratch buffer.
    RecomputeTrace* trace = core.recompute.trace;
    if (trace != nullptr) trace->begin(std::string(layer) + " attention", microbatch);
    Tensor scratch = Tensor::empty(d_att.shape(), DType::f32, core.allocator);
    stash = run_forward(core, qkv, heads, scratch, true);
    if (trace != nullptr) trace->end();
  }
  if (core.context != nullptr) {
    core.context->backward(d_att, qkv, heads, *stash.context, d_qkv);
  } else {
    core.kernels->attention_backward(d_att, qkv, stash.probs, heads, d_qkv);
  }
}

}  // namespace trellis::layers
