// The column-parallel projection of a block's normed input to the queries, keys and values of
// this rank's heads, laid out as attention's kernels take them: qkv[B, T, 3 Cl], the rank's query
// heads, then one key head and one value head for each query head.
//
// Multi-head attention (kv_heads = heads) has one weight "attn.qkv.weight" [3, C, C] whose
// three blocks are split by heads, so one product gives qkv. Grouped-query attention has
// "attn.q.weight" [C, C] and "attn.kv.weight" [2, kv_heads x head size, C]: each key/value head
// serves heads / kv_heads consecutive query heads, so after the two products each of this rank's
// key/value heads is copied next to every query head it serves, and in backward the gradients of
// those copies are summed back into it (what Hugging Face's repeat_kv does, made explicit).
// Biases exist when ModelArchitecture::bias says so.
#pragma once

#include <string>
#include <vector>

#include "family_context.h"

namespace trellis::layers {

class QkvProjection {
 public:
  // What backward_weight needs of backward_input: the gradients of the products' outputs.
  struct Grads {
    Tensor d_qkv;      // multi-head: [B, T, 3 Cl]
    Tensor d_q, d_kv;  // grouped: [B, T, Cl] and [B, T, 2 KVl hs]
  };

  QkvProjection() = default;
  // Parameters `prefix`qkv.* or `prefix`q.* and `prefix`kv.*, e.g. prefix "h.3.attn.".
  QkvProjection(const FamilyContext& ctx, const std::string& prefix);

  std::vector<Parameter*> parameters();
  // qkv[B, T, 3 Cl] from x[B, T, C], both in region order.
  Tensor forward(const FamilyContext& ctx, const Tensor& x) const;
  // The gradient of x[B, T, C] from that of qkv; keeps in `grads` what backward_weight needs.
  Tensor backward_input(const FamilyContext& ctx, const Tensor& d_qkv, Grads& grads) const;
  // The weight (and bias) gradients, from the forward's x.
  void backward_weight(const FamilyContext& ctx, const Tensor& x, const Grads& grads);

 private:
  bool grouped() const { return q_w_.value.defined(); }

  Parameter qkv_w_, qkv_b_;            // multi-head
  Parameter q_w_, q_b_, kv_w_, kv_b_;  // grouped-query
};

// Rotary positions (ModelArchitecture::positions = rope) on the queries and keys of qkv[B, T,
// 3 Cl] in sequence order, at the positions of the tokens this context rank holds; `inverse`
// turns the gradient back. Nothing for learned positions.
void rotate_queries_and_keys(const FamilyContext& ctx, const Tensor& qkv, bool inverse);

}  // namespace trellis::layers
