#include "attention_core.h"

namespace trellis::layers {

AttentionStash attention_core_forward(Kernels& kernels, ContextAttention* context,
                                      const std::shared_ptr<Allocator>& allocator,
                                      const Tensor& qkv, int heads, const Tensor& att,
                                      bool training) {
  AttentionStash stash;
  if (context != nullptr) {
    // Across the context group: this rank's chunks attend to every earlier token.
    stash.context = context->forward(qkv, heads, att, training);
    return stash;
  }
  const std::int64_t B = qkv.shape()[0], T = qkv.shape()[1];
  stash.probs = Tensor::empty({B, heads, T, T}, DType::f32, allocator);
  kernels.attention_forward(qkv, heads, att, stash.probs);
  return stash;
}

void attention_core_backward(Kernels& kernels, ContextAttention* context, const Tensor& d_att,
                             const Tensor& qkv, int heads, AttentionStash& stash,
                             const Tensor& d_qkv) {
  if (context != nullptr) {
    context->backward(d_att, qkv, heads, *stash.context, d_qkv);
  } else {
    kernels.attention_backward(d_att, qkv, stash.probs, heads, d_qkv);
  }
}

}  // namespace trellis::layers
