#include "qkv_projection.h"

#include "parameters.h"

namespace trellis::layers {

QkvProjection::QkvProjection(const FamilyContext& ctx, const std::string& prefix) {
  const std::int64_t C = ctx.dims.hidden, Cl = ctx.local_hidden(), r = ctx.tensor_rank;
  const auto& a = ctx.allocator;
  const float std = 0.02f;
  const bool bias = ctx.arch.bias;
  if (ctx.arch.kv_heads == ctx.dims.heads) {
    // Q, K and V each split by heads: this rank's rows of each of the three C x C blocks.
    qkv_w_ = make_parameter(prefix + "qkv.weight", {3, Cl, C}, {{3, C, C}, {0, r * Cl, 0}, 1}, true,
                            normal(std), a);
    if (bias) {
      qkv_b_ =
          make_parameter(prefix + "qkv.bias", {3, Cl}, {{3, C}, {0, r * Cl}, 1}, false, zeros(), a);
    }
    return;
  }
  const std::int64_t KV = ctx.arch.kv_heads * ctx.head_size();
  const std::int64_t KVl = ctx.local_kv_heads() * ctx.head_size();
  q_w_ =
      make_parameter(prefix + "q.weight", {Cl, C}, {{C, C}, {r * Cl, 0}, 1}, true, normal(std), a);
  kv_w_ = make_parameter(prefix + "kv.weight", {2, KVl, C}, {{2, KV, C}, {0, r * KVl, 0}, 1}, true,
                         normal(std), a);
  if (bias) {
    q_b_ = make_parameter(prefix + "q.bias", {Cl}, {{C}, {r * Cl}, 1}, false, zeros(), a);
    kv_b_ =
        make_parameter(prefix + "kv.bias", {2, KVl}, {{2, KV}, {0, r * KVl}, 1}, false, zeros(), a);
  }
}

std::vector<Parameter*> QkvProjection::parameters() {
  std::vector<Parameter*> out;
  for (Parameter* p : {&qkv_w_, &qkv_b_, &q_w_, &q_b_, &kv_w_, &kv_b_})
    if (p->value.defined()) out.push_back(p);
  return out;
}

namespace {

// Moves heads between the grouped layout (q[N, Cl], kv[N, 2 KVl hs]) and attention's
// (qkv[N, 3 Cl]): query head h of this rank reads key/value head h / group.
struct HeadMap {
  std::int64_t heads, head_size, group, kv_width;  // kv_width = KVl hs
  std::int64_t q_cols() const { return heads * head_size; }
  std::int64_t kv_head(std::int64_t h) const { return h / group; }
};

HeadMap head_map(const FamilyContext& ctx) {
  const std::int64_t hs = ctx.head_size();
  return {ctx.local_heads(), hs, ctx.dims.heads / ctx.arch.kv_heads, ctx.local_kv_heads() * hs};
}

}  // namespace

Tensor QkvProjection::forward(const FamilyContext& ctx, const Tensor& x) const {
  const std::int64_t B = x.shape()[0], T = x.shape()[1], C = ctx.dims.hidden, N = B * T;
  const std::int64_t Cl = ctx.local_hidden();
  Kernels& k = *ctx.kernels;
  Tensor qkv = ctx.empty({B, T, 3 * Cl});
  if (!grouped()) {
    k.linear_forward(x, qkv_w_.value.view({3 * Cl, C}),
                     qkv_b_.value.defined() ? qkv_b_.value.view({3 * Cl}) : Tensor(), qkv);
    return qkv;
  }
  const HeadMap m = head_map(ctx);
  Tensor q = ctx.empty({N, Cl});
  Tensor kv = ctx.empty({N, 2 * m.kv_width});
  k.linear_forward(x.view({N, C}), q_w_.value, q_b_.value, q);
  k.linear_forward(x.view({N, C}), kv_w_.value.view({2 * m.kv_width, C}),
                   kv_b_.value.defined() ? kv_b_.value.view({2 * m.kv_width}) : Tensor(), kv);
  const Tensor flat = qkv.view({N, 3 * Cl});
  k.copy_columns(q, 0, flat, 0, Cl);
  for (std::int64_t h = 0; h < m.heads; ++h) {
    const std::int64_t src = m.kv_head(h) * m.head_size, dst = h * m.head_size;
    k.copy_columns(kv, src, flat, Cl + dst, m.head_size);
    k.copy_columns(kv, m.kv_width + src, flat, 2 * Cl + dst, m.head_size);
  }
  return qkv;
}

Tensor QkvProjection::backward_input(const FamilyContext& ctx, const Tensor& d_qkv,
                                     Grads& grads) const {
  const std::int64_t B = d_qkv.shape()[0], T = d_qkv.shape()[1], C = ctx.dims.hidden, N = B * T;
  const std::int64_t Cl = ctx.local_hidden();
  Kernels& k = *ctx.kernels;
  Tensor d_x = ctx.empty({B, T, C});
  if (!grouped()) {
    grads.d_qkv = d_qkv;
    k.matmul(d_qkv.view({N, 3 * Cl}), false, qkv_w_.value.view({3 * Cl, C}), false,
             d_x.view({N, C}));
    return d_x;
  }
  const HeadMap m = head_map(ctx);
  const Tensor flat = d_qkv.view({N, 3 * Cl});
  grads.d_q = ctx.empty({N, Cl});
  k.copy_columns(flat, 0, grads.d_q, 0, Cl);
  // Copy g of every key/value head (the g-th query head it serves), summed over g.
  grads.d_kv = ctx.empty({N, 2 * m.kv_width});
  Tensor copy = m.group > 1 ? ctx.empty({N, 2 * m.kv_width}) : Tensor();
  for (std::int64_t g = 0; g < m.group; ++g) {
    const Tensor& into = g == 0 ? grads.d_kv : copy;
    for (std::int64_t j = 0; j * m.group < m.heads; ++j) {
      const std::int64_t src = (j * m.group + g) * m.head_size, dst = j * m.head_size;
      k.copy_columns(flat, Cl + src, into, dst, m.head_size);
      k.copy_columns(flat, 2 * Cl + src, into, m.kv_width + dst, m.head_size);
    }
    if (g > 0) k.accumulate(grads.d_kv, copy);
  }
  k.matmul(grads.d_q, false, q_w_.value, false, d_x.view({N, C}));
  k.matmul(grads.d_kv, false, kv_w_.value.view({2 * m.kv_width, C}), false, d_x.view({N, C}), 1.0f,
           1.0f);
  return d_x;
}

void QkvProjection::backward_weight(const FamilyContext& ctx, const Tensor& x, const Grads& grads) {
  const std::int64_t C = ctx.dims.hidden, Cl = ctx.local_hidden();
  Kernels& k = *ctx.kernels;
  if (!grouped()) {
    k.linear_backward(grads.d_qkv, x, qkv_w_.value.view({3 * Cl, C}), Tensor(),
                      qkv_w_.grad.view({3 * Cl, C}),
                      qkv_b_.grad.defined() ? qkv_b_.grad.view({3 * Cl}) : Tensor());
    return;
  }
  const std::int64_t N = x.numel() / C, KV2 = kv_w_.value.numel() / C;
  k.linear_backward(grads.d_q, x.view({N, C}), q_w_.value, Tensor(), q_w_.grad, q_b_.grad);
  k.linear_backward(grads.d_kv, x.view({N, C}), kv_w_.value.view({KV2, C}), Tensor(),
                    kv_w_.grad.view({KV2, C}),
                    kv_b_.grad.defined() ? kv_b_.grad.view({KV2}) : Tensor());
}

void rotate_queries_and_keys(const FamilyContext& ctx, const Tensor& qkv, bool inverse) {
  if (ctx.arch.positions != ModelArchitecture::Positions::rope) return;
  // Queries and keys are the first 2 x local heads heads of each row.
  ctx.kernels->rope(qkv, 0, 2 * ctx.local_heads(), ctx.head_size(), ctx.chunks.positions(),
                    ctx.arch.rope_theta, inverse);
}

}  // namespace trellis::layers
