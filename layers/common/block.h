// A transformer block under Megatron tensor parallelism, for the 1d and seq families:
//   x -> LN1 -> gather -> QKV (column-parallel: this rank's heads) -> attention
//     -> proj (row-parallel) -> reduce -> + bias + x = r
//   r -> LN2 -> gather -> fc (column-parallel) -> GELU -> proj (row-parallel) -> reduce
//     -> + bias + r
// A block MoeSettings::is_moe_block names has the MoE MLP (moe_mlp.h) in place of fc, GELU and
// proj, between the same gather and reduce.
// Under context parallelism the block holds its context rank's chunks of each sequence, and
// attention is the context plugin's (FamilyContext::attention), which communicates over the
// context group; nothing else changes.
// gather and reduce are the family's TokenRegion: nothing and an all-reduce for 1d, an all-gather
// and a reduce-scatter along the sequence for seq (x, r and the LayerNorms then work on a
// sequence shard). Two of each per forward; in backward their mirrors, two each again, and for
// seq two more all-gathers in backward_weight (the LayerNorm outputs, which the weight gradients
// of QKV and fc need whole and which are kept as shards to save memory) and one all-reduce of
// the LayerNorm gradients.
//
// LayerNorms and the row-parallel biases are replicated on every rank of the tensor group. The
// biases are added once, by tensor rank 0, to its partial sums before the reduce; their
// gradients come out the same on every rank, which holds the whole gradient of the outputs.
#pragma once

#include <memory>

#include "attention_core.h"
#include "family_context.h"
#include "moe_mlp.h"
#include "norm_gradients.h"
#include "parameters.h"
#include "stash_map.h"

namespace trellis::layers {

class Block final : public Layer {
 public:
  Block(const FamilyContext& ctx, int index);

  std::string_view name() const override { return name_; }
  std::vector<Parameter*> parameters() override;
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  // Tensors between regions are [B, local T, C]; region tensors [B, T, X] in region order,
  // except qkv and attention's stash, which are in sequence order. T is the tokens of each
  // sequence this context rank holds (FamilyContext::seq_len()).
  struct Stash {
    Tensor x, ln1, ln1_mean, ln1_rstd, qkv, att, res2, ln2, ln2_mean, ln2_rstd, fc, gelu;
    Tensor out;
    AttentionStash attention;  // the probabilities, or the context attention's stash
    // Written by backward_input, read by backward_weight: the gradients of the linear layers'
    // outputs (region order), and the gradient returned for the input.
    Tensor d_out_all, d_res2_all, d_qkv, d_fc, d_x;
    NormGradients norm_grads;
  };

  FamilyContext ctx_;
  std::string name_;
  Parameter ln1_w_, ln1_b_, qkv_w_, qkv_b_, proj_w_, proj_b_;
  Parameter ln2_w_, ln2_b_, fc_w_, fc_b_, fcproj_w_, fcproj_b_;  // fc..: dense blocks only
  std::unique_ptr<MoeMlp> moe_;                                  // MoE blocks only
  StashMap<Stash> stashes_;
};

}  // namespace trellis::layers
