// The final LayerNorm, replicated across the tensor group; it runs on the tokens this rank holds
// between regions (a sequence shard for seq, whose gradients are then summed over the group).
#pragma once

#include "family_context.h"
#include "norm_gradients.h"
#include "parameters.h"
#include "stash_map.h"

namespace trellis::layers {

class FinalNorm final : public Layer {
 public:
  explicit FinalNorm(const FamilyContext& ctx);

  std::string_view name() const override { return "lnf"; }
  std::vector<Parameter*> parameters() override { return {&w_, &b_}; }
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  struct Stash {
    Tensor x, mean, rstd, out, d_x;
    NormGradients norm_grads;
  };
  FamilyContext ctx_;
  Parameter w_, b_;
  StashMap<Stash> stashes_;
};

}  // namespace trellis::layers
