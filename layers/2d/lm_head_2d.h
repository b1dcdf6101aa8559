// The LM head and the loss on the grid. The table is the token embedding's (tied), held as
// vocabulary block i, channel block j on rank (i, j) — transposed with respect to a linear's
// weight, so the head uses the other two SUMMA products (summa.h):
//   logits   rank (i, j) gets the logits of grid row i's tokens for vocabulary block j,
//            [B/q * T, Vp/q], by summa_reduce_rows (q column broadcasts of table blocks, q row
//            reductions of partial logits); the full logits never exist anywhere
//   loss     vocab-parallel along the row, as 1d does along the tensor group: an all-reduce of
//            each token's max and one of the sums of exponentials and target logits over the
//            row; the row's token losses summed over the column give the microbatch's loss,
//            which every rank returns
//   backward dh by summa_broadcast_both (q row broadcasts of logit gradients, q column
//            broadcasts of table blocks); the table's gradient by summa_reduce_cols (q row
//            broadcasts, q column reductions)
// When the embedding lives on another pipeline stage the head keeps its own copy of the table
// under the same name and layout; the trainer adds the two gradients.
#pragma once

#include "grid_context.h"
#include "stash_map.h"

namespace trellis::tp2d {

class LmHead2d final : public Layer {
 public:
  // `shared_table` is the embedding's token table, or null to own a copy.
  LmHead2d(const GridContext& ctx, Parameter* shared_table);

  std::string_view name() const override { return "lm_head"; }
  std::vector<Parameter*> parameters() override;
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  struct Stash {
    // h [rows, C/q]; targets of this row's tokens; stats = [sumexp; target logit]; the logits
    // become their gradient.
    Tensor h, targets, logits, max, stats, d_h;
  };
  std::int64_t vocab_begin() const { return ctx_.grid_col * ctx_.vocab_block(); }

  GridContext ctx_;
  Parameter own_table_;
  Parameter* table_;
  layers::StashMap<Stash> stashes_;
};

}  // namespace trellis::tp2d
