// The LM head and the loss, vocab-parallel, for the 1d and seq families: each rank computes the
// logits of its vocabulary rows for all tokens of the microbatch (the family's gather brings
// them in: nothing for 1d, an all-gather along the sequence for seq; the full logits are never
// gathered) and the softmax statistics are combined across the tensor group — an all-reduce of
// each token's max, then one of the sums of exponentials and the target logits. forward()
// returns the sum of the microbatch's token losses as a [1] tensor. In backward the gradient of
// the hidden states leaves through the family's reduce; seq gathers its input again for the
// weight gradient rather than keeping all tokens' hidden states.
//
// With tied embeddings (ModelArchitecture::tie_embeddings) the weight is the token embedding's.
// When the embedding lives on another pipeline stage the head keeps its own copy under the same
// name; it starts equal (same name, same initialisation) and the trainer adds the two gradients.
// Untied, the head has its own weight, "lm_head.weight", of the token table's shape and sharding.
#pragma once

#include "family_context.h"
#include "parameters.h"
#include "stash_map.h"

namespace trellis::layers {

class LmHead final : public Layer {
 public:
  // `shared_table` is the embedding's token table, or null to own a copy (or, untied, the
  // head's weight).
  LmHead(const FamilyContext& ctx, Parameter* shared_table);

  std::string_view name() const override { return "lm_head"; }
  std::vector<Parameter*> parameters() override;
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  struct Stash {
    // h: the input as this rank holds it; targets in region order; stats = [sumexp; target
    // logit]; the logits become their gradient.
    Tensor h, targets, logits, max, stats, d_h;
  };
  FamilyContext ctx_;
  Parameter own_table_;
  Parameter* table_;
  StashMap<Stash> stashes_;
};

}  // namespace trellis::layers
