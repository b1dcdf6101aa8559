// A transformer block under Megatron tensor parallelism, for the 1d and seq families:
//   x -> norm1 -> gather -> QKV (column-parallel: this rank's heads, qkv_projection.h)
//     -> [rotary positions] -> attention -> proj (row-parallel) -> reduce -> + bias + x = r
//   r -> norm2 -> gather -> MLP (dense_mlp.h: fc column-parallel, GELU or SwiGLU, proj
//     row-parallel) -> reduce -> + bias + r
// The norms, the MLP's activation, the positions, the key/value heads and the biases are the
// architecture's (ModelArchitecture): GPT-2's or LLaMA's, or a mix of their pieces.
// A block MoeSettings::is_moe_block names has the MoE MLP (moe_mlp.h) in place of the dense one,
// between the same gather and reduce.
// Under context parallelism the block holds its context rank's chunks of each sequence, and
// attention is the context plugin's (FamilyContext::attention), which communicates over the
// context group, and rotary positions turn each token by its true position in its sequence;
// nothing else changes.
// gather and reduce are the family's TokenRegion: nothing and an all-reduce for 1d, an all-gather
// and a reduce-scatter along the sequence for seq (x, r and the LayerNorms then work on a
// sequence shard). Two of each per forward; in backward their mirrors, two each again, and for
// seq two more all-gathers in backward_weight (the LayerNorm outputs, which the weight gradients
// of QKV and fc need whole and which are kept as shards to save memory) and one all-reduce of
// the LayerNorm gradients.
//
// Norms and the row-parallel biases are replicated on every rank of the tensor group. The
// biases are added once, by tensor rank 0, to its partial sums before the reduce; their
// gradients come out the same on every rank, which holds the whole gradient of the outputs.
#pragma once

#include <memory>

#include "attention_core.h"
#include "dense_mlp.h"
#include "family_context.h"
#include "moe_mlp.h"
#include "norm.h"
#include "norm_gradients.h"
#include "parameters.h"
#include "qkv_projection.h"
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
    Tensor x, ln1, qkv, att, res2, ln2, out;
    Norm::Saved ln1_saved, ln2_saved;
    AttentionStash attention;  // the probabilities, or the context attention's stash
    DenseMlp::Stash mlp;
    // Written by backward_input, read by backward_weight: the gradients of the linear layers'
    // outputs (region order), and the gradient returned for the input.
    Tensor d_out_all, d_res2_all, d_x;
    QkvProjection::Grads qkv_grads;
    NormGradients norm_grads;
  };

  // The norms' parameters in NormGradients order: ln1's, then ln2's.
  std::vector<Parameter*> norm_parameters();

  FamilyContext ctx_;
  std::string name_;
  Norm ln1_, ln2_;
  QkvProjection qkv_;
  Parameter proj_w_, proj_b_;
  DenseMlp mlp_;                 // dense blocks only
  std::unique_ptr<MoeMlp> moe_;  // MoE blocks only
  StashMap<Stash> stashes_;
};

}  // namespace trellis::layers
