// The final norm (LayerNorm or RMSNorm, Norm), replicated across the tensor group; it runs on the
// tokens this rank holds between regions (a sequence shard for seq, whose gradients are then
// summed over the group).
#pragma once

#include "family_context.h"
#include "norm.h"
#include "norm_gradients.h"
#include "stash_map.h"

namespace trellis::layers {

class FinalNorm final : public Layer {
 public:
  explicit FinalNorm(const FamilyContext& ctx);

  std::string_view name() const override { return "lnf"; }
  std::vector<Parameter*> parameters() override { return norm_.parameters(); }
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  struct Stash {
    Tensor x, out, d_x;
    Norm::Saved saved;
    NormGradients norm_grads;
  };
  FamilyContext ctx_;
  Norm norm_;
  StashMap<Stash> stashes_;
};

}  // namespace trellis::layers
