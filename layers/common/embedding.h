// Token and position embeddings, for the 1d and seq families. The token table is split by
// vocabulary rows across the tensor group (vocab-parallel): each rank looks up the tokens in its
// rows, zeros elsewhere, and the family's reduce (all-reduce for 1d, reduce-scatter along the
// sequence for seq) assembles this rank's embeddings. The position table is replicated and added
// once, by tensor rank 0, before the reduce. Under context parallelism the rank's tokens are its
// context chunks of each sequence, and each gets the position row of where it sits. With rotary
// positions (ModelArchitecture::positions) there is no position table: attention turns queries
// and keys instead.
#pragma once

#include "family_context.h"
#include "parameters.h"
#include "stash_map.h"

namespace trellis::layers {

class Embedding final : public Layer {
 public:
  explicit Embedding(const FamilyContext& ctx);

  std::string_view name() const override { return "embedding"; }
  std::vector<Parameter*> parameters() override {
    if (wpe_.value.defined()) return {&wte_, &wpe_};
    return {&wte_};
  }
  Tensor forward(const Microbatch& mb, const Tensor& tokens) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

  // The token table, which the LM head shares (tied weights).
  Parameter& token_table() { return wte_; }

 private:
  struct Stash {
    Tensor tokens, d_out;
  };
  FamilyContext ctx_;
  Parameter wte_, wpe_;
  StashMap<Stash> stashes_;
};

}  // namespace trellis::layers
