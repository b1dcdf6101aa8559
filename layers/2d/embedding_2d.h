// Token and position embeddings on the grid. Rank (i, j) holds vocabulary block i and channel
// block j of the token table ([Vp/q, C/q]) and position block i, channel block j of the position
// table ([maxT/q, C/q]).
//
// Forward: grid column j holds every vocabulary row of channel block j, split by grid row, so it
// embeds the whole microbatch vocab-parallel — each rank looks up the tokens in its rows, zeros
// elsewhere, row 0 adds the positions (the column all-gathers its position table) — and a
// reduce-scatter along the column sums the partial embeddings and leaves grid row i's sequences
// on rank (i, j): [B/q, T, C/q]. Backward: the column all-gathers the output gradient, each rank
// adds the rows of its tokens to its table block and keeps its rows of the position gradient
// (which every rank of the column computes whole).
//
// The whole column's embeddings [B, T, C/q] exist for a moment in forward and backward: the one
// activation of this family that is 1/q, not 1/q^2, of the whole.
#pragma once

#include "grid_context.h"
#include "stash_map.h"

namespace trellis::tp2d {

class Embedding2d final : public Layer {
 public:
  explicit Embedding2d(const GridContext& ctx);

  std::string_view name() const override { return "embedding"; }
  std::vector<Parameter*> parameters() override { return {&wte_, &wpe_}; }
  Tensor forward(const Microbatch& mb, const Tensor& tokens) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

  // The token table, which the LM head shares (tied weights).
  Parameter& token_table() { return wte_; }

 private:
  struct Stash {
    Tensor tokens, d_out;
  };
  GridContext ctx_;
  Parameter wte_, wpe_;
  layers::StashMap<Stash> stashes_;
};

// The token table's shard on rank (i, j): vocabulary block i, channel block j.
Parameter make_token_table(const GridContext& ctx);

}  // namespace trellis::tp2d
