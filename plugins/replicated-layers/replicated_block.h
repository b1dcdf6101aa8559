// One GPT-2 transformer block, "h.<index>", whole on every rank (pre-LayerNorm):
//   x -> LN1 -> QKV linear -> causal attention -> proj linear -> + x = r
//   r -> LN2 -> fc linear -> GELU -> proj linear -> + r = out
// backward_input computes the input gradient (and the LayerNorm gradients, which come out of the
// same kernel pass); backward_weight the gradients of the four linears, from what
// backward_input left in the stash.
#pragma once

#include <string>

#include "replicated_context.h"
#include "stash_by_microbatch.h"

namespace replicated {

class ReplicatedBlock final : public trellis::Layer {
 public:
  ReplicatedBlock(const ReplicatedContext& ctx, int index);

  std::string_view name() const override { return name_; }
  std::vector<trellis::Parameter*> parameters() override;
  trellis::Tensor forward(const trellis::Microbatch& mb, const trellis::Tensor& input) override;
  trellis::Tensor backward_input(const trellis::Microbatch& mb,
                                 const trellis::Tensor& grad_output) override;
  void backward_weight(const trellis::Microbatch& mb) override;

 private:
  struct Stash {
    // Forward values backward needs; all [B, T, ...] except the per-token LayerNorm statistics
    // [N] and the attention probabilities [B, NH, T, T].
    trellis::Tensor x, ln1, ln1_mean, ln1_rstd, qkv, probs, att, res2, ln2, ln2_mean, ln2_rstd;
    trellis::Tensor fc, gelu;
    // Left by backward_input for backward_weight: the gradients of the linears' outputs, and the
    // input gradient returned (kept alive until the microbatch is done).
    trellis::Tensor d_out, d_fc, d_res2, d_qkv, d_x;
  };

  ReplicatedContext ctx_;
  std::string name_;
  trellis::Parameter ln1_weight_, ln1_bias_, qkv_weight_, qkv_bias_, attn_proj_weight_,
      attn_proj_bias_;
  trellis::Parameter ln2_weight_, ln2_bias_, fc_weight_, fc_bias_, mlp_proj_weight_, mlp_proj_bias_;
  StashByMicrobatch<Stash> stashes_;
};

}  // namespace replicated
