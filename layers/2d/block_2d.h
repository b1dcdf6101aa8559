// A transformer block on the q x q grid. Hidden states are [B/q, T, C/q] on rank (i, j): grid row
// i's sequences, grid column j's channels.
//   x -> LN1 -> QKV -> attention -> proj -> + x = r -> LN2 -> fc -> GELU -> proj -> + r
// The linears are SUMMA products (Linear2d); QKV's output block j holds heads [j NH/q,
// (j+1) NH/q) of q, k and v for grid row i's whole sequences, so attention is local (under
// context parallelism, the context plugin's across the context group, whose ranks hold the same
// grid position); GELU and the
// residual additions are element-wise. Per block and microbatch, for q > 1:
//   forward          4 linears x (q row + q column broadcasts, 1 bias all-gather), 2 LayerNorms
//                    x (2 row all-reduces of B/q*T floats, 2 column all-gathers of C/q)
//   backward_input   4 linears x (q column broadcasts + q row reductions), 2 LayerNorms x
//                    1 row all-reduce of 2 B/q*T floats
//   backward_weight  4 linears x (q row broadcasts + q column reductions, 1 bias reduce-scatter),
//                    2 LayerNorms x 2 column reduce-scatters
#pragma once

#include "attention_core.h"
#include "layer_norm_2d.h"
#include "linear_2d.h"
#include "stash_map.h"

namespace trellis::tp2d {

class Block2d final : public Layer {
 public:
  Block2d(const GridContext& ctx, int index);

  std::string_view name() const override { return name_; }
  std::vector<Parameter*> parameters() override;
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  // 2-D [rows, channels] views of this rank's tokens.
  struct Stash {
    Tensor x, ln1, qkv, att, res2, ln2, fc, gelu, out;
    LayerNorm2d::Saved ln1_saved, ln2_saved;
    layers::AttentionStash attention;  // the probabilities, or the context attention's stash
    // Written by backward_input, read by backward_weight.
    Tensor d_out, d_res2, d_qkv, d_fc, d_x, norm_grads;  // norm_grads [4, C/q]: ln1 w, b, ln2 w, b
  };

  GridContext ctx_;
  std::string name_;
  LayerNorm2d ln1_, ln2_;
  Linear2d qkv_, proj_, fc_, fcproj_;
  layers::StashMap<Stash> stashes_;
};

}  // namespace trellis::tp2d
