// The LM head and the loss, vocab-parallel: each rank computes the logits of its vocabulary rows
// (the full logits are never gathered) and the softmax statistics are combined across the tensor
// group — an all-reduce of each row's max, then one of the sums of exponentials and the target
// logits. forward() returns the sum of the microbatch's token losses as a [1] tensor.
//
// The weight is the token embedding's (tied). When the embedding lives on another pipeline stage
// the head keeps its own copy under the same name; it starts equal (same name, same
// initialisation) and the trainer adds the two gradients.
#pragma once

#include "family_context.h"
#include "parameters.h"

namespace trellis::tp1d {

class LmHead final : public Layer {
 public:
  // `shared_table` is the embedding's token table, or null to own a copy.
  LmHead(const FamilyContext& ctx, Parameter* shared_table);

  std::string_view name() const override { return "lm_head"; }
  std::vector<Parameter*> parameters() override;
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  struct Stash {
    Tensor h, logits, max, stats, d_h;  // stats = [sumexp; target logit], logits become dlogits
  };
  FamilyContext ctx_;
  Parameter own_table_;
  Parameter* table_;
  StashMap<Stash> stashes_;
};

}  // namespace trellis::tp1d
