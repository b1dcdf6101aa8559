// Token and learned position embeddings: tokens [B, T] -> hidden states [B, T, C]. Both tables
// are whole on every rank, so each rank looks up every token itself.
#pragma once

#include "replicated_context.h"
#include "stash_by_microbatch.h"

namespace replicated {

class ReplicatedEmbedding final : public trellis::Layer {
 public:
  explicit ReplicatedEmbedding(const ReplicatedContext& ctx);

  std::string_view name() const override { return "embedding"; }
  std::vector<trellis::Parameter*> parameters() override { return {&token_table_, &positions_}; }
  trellis::Tensor forward(const trellis::Microbatch& mb, const trellis::Tensor& tokens) override;
  trellis::Tensor backward_input(const trellis::Microbatch& mb,
                                 const trellis::Tensor& grad_output) override;
  void backward_weight(const trellis::Microbatch& mb) override;

  // The token table, which the LM head shares (tied weights).
  trellis::Parameter& token_table() { return token_table_; }

 private:
  struct Stash {
    trellis::Tensor tokens, grad_output;
  };
  ReplicatedContext ctx_;
  trellis::Parameter token_table_;  // "wte" [Vp, C]
  trellis::Parameter positions_;    // "wpe" [maxT, C]
  StashByMicrobatch<Stash> stashes_;
};

}  // namespace replicated
