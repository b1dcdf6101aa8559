// The LM head and the loss: logits [N, Vp] = hidden states [N, C] @ wte^T, then softmax
// cross-entropy over the V real tokens (padding columns never count). forward returns the sum of
// the microbatch's token losses as a [1] tensor; backward starts from mb.loss_scale.
//
// The weight is the token embedding's (tied). When the embedding lives on this rank the head
// uses its table; when it lives on another pipeline stage the head owns a copy under the same
// name "wte" with the same initialisation, and the trainer adds the two gradients.
#pragma once

#include "replicated_context.h"
#include "stash_by_microbatch.h"

namespace replicated {

class ReplicatedLmHead final : public trellis::Layer {
 public:
  // `shared_table`: the embedding's token table, or null to own a copy.
  ReplicatedLmHead(const ReplicatedContext& ctx, trellis::Parameter* shared_table);

  std::string_view name() const override { return "lm_head"; }
  std::vector<trellis::Parameter*> parameters() override;
  trellis::Tensor forward(const trellis::Microbatch& mb, const trellis::Tensor& input) override;
  trellis::Tensor backward_input(const trellis::Microbatch& mb,
                                 const trellis::Tensor& grad_output) override;
  void backward_weight(const trellis::Microbatch& mb) override;

 private:
  struct Stash {
    // The logits' buffer becomes their gradient in backward_input.
    trellis::Tensor hidden, targets, logits, row_max, sumexp, grad_hidden;
  };
  ReplicatedContext ctx_;
  trellis::Parameter own_table_;  // used only when the embedding is on another stage
  trellis::Parameter* table_;
  StashByMicrobatch<Stash> stashes_;
};

}  // namespace replicated
