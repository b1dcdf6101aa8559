// Queries and keys-values cut from a qkv[B, Tl, 3C] (each token's queries, keys and values side by
// side), and their gradients written back into a dqkv of the same layout: the block-attention
// kernels take queries [B, Tl, C] and keys-values [B, Tl, 2C] as tensors of their own.
#pragma once

#include "context_group.h"

namespace trellis::context {

// q[B, Tl, C] = the queries of qkv.
Tensor queries_of(const ContextGroup& group, const Tensor& qkv, const AttentionShape& s);
// Writes the keys and values of qkv into kv[B, Tl, 2C] (a tensor or a contiguous view of one).
void copy_keys_values(const ContextGroup& group, const Tensor& qkv, const AttentionShape& s,
                      const Tensor& kv);
// dqkv[B, Tl, 3C] = dq[B, Tl, C] and dkv[B, Tl, 2C] side by side.
void write_qkv_gradient(const ContextGroup& group, const Tensor& dq, const Tensor& dkv,
                        const AttentionShape& s, const Tensor& dqkv);

}  // namespace trellis::context
