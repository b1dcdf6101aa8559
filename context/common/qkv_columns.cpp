#include "qkv_columns.h"

namespace trellis::context {

namespace {

// The rows of a [B, Tl, W] tensor as the [B * Tl, W] matrix copy_columns takes.
Tensor rows(const Tensor& t, const AttentionShape& s) {
  return t.view({s.batch * s.tokens, t.numel() / (s.batch * s.tokens)});
}

}  // namespace

Tensor queries_of(const ContextGroup& group, const Tensor& qkv, const AttentionShape& s) {
  Tensor q = group.empty({s.batch, s.tokens, s.channels});
  group.kernels().copy_columns(rows(qkv, s), 0, rows(q, s), 0, s.channels);
  return q;
}

void copy_keys_values(const ContextGroup& group, const Tensor& qkv, const AttentionShape& s,
                      const Tensor& kv) {
  group.kernels().copy_columns(rows(qkv, s), s.channels, rows(kv, s), 0, 2 * s.channels);
}

void write_qkv_gradient(const ContextGroup& group, const Tensor& dq, const Tensor& dkv,
                        const AttentionShape& s, const Tensor& dqkv) {
  Kernels& k = group.kernels();
  k.copy_columns(rows(dq, s), 0, rows(dqkv, s), 0, s.channels);
  k.copy_columns(rows(dkv, s), 0, rows(dqkv, s), s.channels, 2 * s.channels);
}

}  // namespace trellis::context
