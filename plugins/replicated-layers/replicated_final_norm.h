// The final LayerNorm, "lnf", before the LM head.
#pragma once

#include "replicated_context.h"
#include "stash_by_microbatch.h"

namespace replicated {

class ReplicatedFinalNorm final : public trellis::Layer {
 public:
  explicit ReplicatedFinalNorm(const ReplicatedContext& ctx);

  std::string_view name() const override { return "lnf"; }
  std::vector<trellis::Parameter*> parameters() override { return {&weight_, &bias_}; }
  trellis::Tensor forward(const trellis::Microbatch& mb, const trellis::Tensor& input) override;
  trellis::Tensor backward_input(const trellis::Microbatch& mb,
                                 const trellis::Tensor& grad_output) override;
  void backward_weight(const trellis::Microbatch& mb) override;

 private:
  struct Stash {
    trellis::Tensor input, mean, rstd, grad_input;
  };
  ReplicatedContext ctx_;
  trellis::Parameter weight_, bias_;
  StashByMicrobatch<Stash> stashes_;
};

}  // namespace replicated
