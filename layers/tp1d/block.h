// A transformer block under 1d tensor parallelism (Megatron):
//   x -> LN1 -> QKV (column-parallel: this rank's heads) -> attention -> proj (row-parallel)
//     -> all-reduce -> + bias + x = r
//   r -> LN2 -> fc (column-parallel) -> GELU -> proj (row-parallel) -> all-reduce -> + bias + r
// LayerNorms and the row-parallel biases are replicated on every rank of the tensor group.
// Their gradients come out identical on every rank because every rank sees the whole
// (all-reduced) gradient of their outputs.
#pragma once

#include <memory>

#include "family_context.h"
#include "parameters.h"

namespace trellis::tp1d {

class Block final : public Layer {
 public:
  Block(const FamilyContext& ctx, int index);

  std::string_view name() const override { return name_; }
  std::vector<Parameter*> parameters() override;
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  struct Stash {
    Tensor x, ln1, ln1_mean, ln1_rstd, qkv, probs, att, res2, ln2, ln2_mean, ln2_rstd, fc, gelu;
    Tensor out;
    // Written by backward_input, read by backward_weight: the gradients of the linear layers'
    // outputs, and the gradient returned for the input.
    Tensor d_out, d_res2, d_qkv, d_fc, d_x;
  };

  FamilyContext ctx_;
  std::string name_;
  Parameter ln1_w_, ln1_b_, qkv_w_, qkv_b_, proj_w_, proj_b_;
  Parameter ln2_w_, ln2_b_, fc_w_, fc_b_, fcproj_w_, fcproj_b_;
  StashMap<Stash> stashes_;
};

}  // namespace trellis::tp1d
