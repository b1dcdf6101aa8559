// CheckedKernels<Ops>: the kernels whose work is one function over raw arrays with the same
// signature on every device, checked (ArgumentChecks) and forwarded once for all devices. `Ops`
// names the device's functions (cpu_ops.h, cuda_ops.h) as static members; CpuKernels and
// CudaKernels derive from it and add the kernels whose devices differ (copies, products,
// reductions to the host, LayerNorm's and RMSNorm's backward, AdamW).
#pragma once

#include <cstdint>

#include "kernels/argument_checks.h"
#include "trellis/kernels.h"

// The members of an `Ops` struct: the functions of namespace `ns` that CheckedKernels calls, e.g.
//   struct CpuOps { TRELLIS_CHECKED_KERNEL_OPS(cpu) };
#define TRELLIS_CHECKED_KERNEL_OPS(ns)                                                      \
  static constexpr auto fill = &ns::fill;                                                   \
  static constexpr auto add = &ns::add;                                                     \
  static constexpr auto accumulate = &ns::accumulate;                                       \
  static constexpr auto scale = &ns::scale;                                                 \
  static constexpr auto layernorm_shard_mean = &ns::layernorm_shard_mean;                   \
  static constexpr auto layernorm_shard_var = &ns::layernorm_shard_var;                     \
  static constexpr auto layernorm_shard_forward = &ns::layernorm_shard_forward;             \
  static constexpr auto layernorm_shard_backward_sums = &ns::layernorm_shard_backward_sums; \
  static constexpr auto gelu_forward = &ns::gelu_forward;                                   \
  static constexpr auto gelu_backward = &ns::gelu_backward;                                 \
  static constexpr auto embedding_forward = &ns::embedding_forward;                         \
  static constexpr auto embedding_backward = &ns::embedding_backward;                       \
  static constexpr auto xent_row_max = &ns::xent_row_max;                                   \
  static constexpr auto xent_row_stats = &ns::xent_row_stats;                               \
  static constexpr auto xent_backward = &ns::xent_backward;                                 \
  static constexpr auto attention_block_forward = &ns::attention_block_forward;             \
  static constexpr auto attention_block_backward = &ns::attention_block_backward;           \
  static constexpr auto copy_columns = &ns::copy_columns;                                   \
  static constexpr auto rmsnorm_forward = &ns::rmsnorm_forward;                             \
  static constexpr auto swiglu_forward = &ns::swiglu_forward;                               \
  static constexpr auto swiglu_backward = &ns::swiglu_backward;                             \
  static constexpr auto rope = &ns::rope;

namespace trellis {

template <class Ops>
class CheckedKernels : public Kernels, protected ArgumentChecks {
 public:
  using ArgumentChecks::ArgumentChecks;

  void fill(const Tensor& t, float value) override {
    Ops::fill(f32("fill", "t", t, -1), t.numel(), value);
  }
  void add(const Tensor& a, const Tensor& b, const Tensor& out) override {
    const std::int64_t n = out.numel();
    Ops::add(f32("add", "a", a, n), f32("add", "b", b, n), f32("add", "out", out, n), n);
  }
  void accumulate(const Tensor& dst, const Tensor& src) override {
    const std::int64_t n = dst.numel();
    Ops::accumulate(f32("accumulate", "dst", dst, n), f32("accumulate", "src", src, n), n);
  }
  void scale(const Tensor& t, float factor) override {
    Ops::scale(f32("scale", "t", t, -1), t.numel(), factor);
  }

  void layernorm_shard_mean(const Tensor& x, std::int64_t channels, const Tensor& mean) override {
    const char* k = "layernorm_shard_mean";
    const int n = dim(k, x, 2, 0), c = dim(k, x, 2, 1);
    Ops::layernorm_shard_mean(f32(k, "x", x, -1), f32(k, "mean", mean, n), n, c, channels);
  }
  void layernorm_shard_var(const Tensor& x, const Tensor& mean, std::int64_t channels,
                           const Tensor& var) override {
    const char* k = "layernorm_shard_var";
    const int n = dim(k, x, 2, 0), c = dim(k, x, 2, 1);
    Ops::layernorm_shard_var(f32(k, "x", x, -1), f32(k, "mean", mean, n), f32(k, "var", var, n), n,
                             c, channels);
  }
  void layernorm_shard_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                               const Tensor& mean, const Tensor& var, const Tensor& out,
                               const Tensor& rstd) override {
    const char* k = "layernorm_shard_forward";
    const int n = dim(k, x, 2, 0), c = dim(k, x, 2, 1);
    Ops::layernorm_shard_forward(f32(k, "x", x, -1), f32(k, "w", w, c), f32(k, "b", b, c),
                                 f32(k, "mean", mean, n), f32(k, "var", var, n),
                                 f32(k, "out", out, static_cast<std::int64_t>(n) * c),
                                 f32(k, "rstd", rstd, n), n, c);
  }
  void layernorm_shard_backward_sums(const Tensor& dout, const Tensor& x, const Tensor& w,
                                     const Tensor& mean, const Tensor& rstd, std::int64_t channels,
                                     const Tensor& dsums) override {
    const char* k = "layernorm_shard_backward_sums";
    const int n = dim(k, x, 2, 0), c = dim(k, x, 2, 1);
    Ops::layernorm_shard_backward_sums(
        f32(k, "dout", dout, static_cast<std::int64_t>(n) * c), f32(k, "x", x, -1),
        f32(k, "w", w, c), f32(k, "mean", mean, n), f32(k, "rstd", rstd, n),
        f32(k, "dsums", dsums, 2 * static_cast<std::int64_t>(n)), n, c, channels);
  }

  void gelu_forward(const Tensor& x, const Tensor& out) override {
    const std::int64_t n = x.numel();
    Ops::gelu_forward(f32("gelu_forward", "x", x, n), f32("gelu_forward", "out", out, n), n);
  }
  void gelu_backward(const Tensor& x, const Tensor& dout, const Tensor& dx) override {
    const char* k = "gelu_backward";
    const std::int64_t n = x.numel();
    Ops::gelu_backward(f32(k, "x", x, n), f32(k, "dout", dout, n), f32(k, "dx", dx, n), n);
  }

  void embedding_forward(const Tensor& tokens, const Tensor& wte, std::int64_t vocab_begin,
                         const Tensor& wpe, const Tensor& out) override {
    const char* k = "embedding_forward";
    const int B = dim(k, tokens, 2, 0), T = dim(k, tokens, 2, 1), C = dim(k, wte, 2, 1);
    Ops::embedding_forward(i32(k, "tokens", tokens, static_cast<std::int64_t>(B) * T),
                           f32(k, "wte", wte, -1), wte.size(0), vocab_begin,
                           positions(k, "wpe", wpe, T, C),
                           f32(k, "out", out, static_cast<std::int64_t>(B) * T * C), B, T, C);
  }
  void embedding_backward(const Tensor& tokens, const Tensor& dout, std::int64_t vocab_begin,
                          const Tensor& dwte, const Tensor& dwpe) override {
    const char* k = "embedding_backward";
    const int B = dim(k, tokens, 2, 0), T = dim(k, tokens, 2, 1), C = dim(k, dwte, 2, 1);
    Ops::embedding_backward(i32(k, "tokens", tokens, static_cast<std::int64_t>(B) * T),
                            f32(k, "dout", dout, static_cast<std::int64_t>(B) * T * C),
                            dwte.size(0), vocab_begin, f32(k, "dwte", dwte, -1),
                            positions(k, "dwpe", dwpe, T, C), B, T, C);
  }

  void xent_row_max(const Tensor& logits, std::int64_t vocab_begin, std::int64_t vocab_size,
                    const Tensor& max) override {
    const char* k = "xent_row_max";
    const int n = dim(k, logits, 2, 0), v = dim(k, logits, 2, 1);
    Ops::xent_row_max(f32(k, "logits", logits, -1), n, v, vocab_begin, vocab_size,
                      f32(k, "max", max, n));
  }
  void xent_row_stats(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                      std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp,
                      const Tensor& target_logit) override {
    const char* k = "xent_row_stats";
    const int n = dim(k, logits, 2, 0), v = dim(k, logits, 2, 1);
    Ops::xent_row_stats(f32(k, "logits", logits, -1), i32(k, "targets", targets, n), n, v,
                        vocab_begin, vocab_size, f32(k, "max", max, n), f32(k, "sumexp", sumexp, n),
                        f32(k, "target_logit", target_logit, n));
  }
  void xent_backward(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                     std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp, float scale,
                     const Tensor& dlogits) override {
    const char* k = "xent_backward";
    const int n = dim(k, logits, 2, 0), v = dim(k, logits, 2, 1);
    Ops::xent_backward(f32(k, "logits", logits, -1), i32(k, "targets", targets, n), n, v,
                       vocab_begin, vocab_size, f32(k, "max", max, n), f32(k, "sumexp", sumexp, n),
                       scale, f32(k, "dlogits", dlogits, static_cast<std::int64_t>(n) * v));
  }

  void attention_block_forward(const Tensor& q, const Tensor& kv, const TokenPositions& q_at,
                               const TokenPositions& k_at, int heads, const Tensor& out,
                               const Tensor& lse, bool merge) override {
    const char* k = "attention_block_forward";
    const BlockAttentionShape s = block_attention(k, q, kv, q_at, k_at, heads);
    Ops::attention_block_forward(
        q.data<float>(), kv.data<float>(), q_at, k_at, f32_shaped(k, "out", out, q.shape()),
        f32_shaped(k, "lse", lse, {s.batch, heads, s.queries}), merge, s.batch, s.channels, heads);
  }
  void attention_block_backward(const Tensor& dout, const Tensor& q, const Tensor& kv,
                                const TokenPositions& q_at, const TokenPositions& k_at, int heads,
                                const Tensor& out, const Tensor& lse, const Tensor& dq,
                                const Tensor& dkv) override {
    const char* k = "attention_block_backward";
    const BlockAttentionShape s = block_attention(k, q, kv, q_at, k_at, heads);
    Ops::attention_block_backward(
        f32_shaped(k, "dout", dout, q.shape()), q.data<float>(), kv.data<float>(), q_at, k_at,
        f32_shaped(k, "out", out, q.shape()),
        f32_shaped(k, "lse", lse, {s.batch, heads, s.queries}), f32_shaped(k, "dq", dq, q.shape()),
        f32_shaped(k, "dkv", dkv, kv.shape()), s.batch, s.channels, heads);
  }
  void copy_columns(const Tensor& src, std::int64_t src_col, const Tensor& dst,
                    std::int64_t dst_col, std::int64_t width) override {
    const std::int64_t rows = column_copy("copy_columns", src, src_col, dst, dst_col, width);
    Ops::copy_columns(src.data<float>(), src.size(1), src_col, dst.data<float>(), dst.size(1),
                      dst_col, rows, width);
  }

  void rmsnorm_forward(const Tensor& x, const Tensor& w, float eps, const Tensor& out,
                       const Tensor& rstd) override {
    const char* k = "rmsnorm_forward";
    const RowsShape s = rmsnorm(k, x, w, rstd);
    Ops::rmsnorm_forward(x.data<float>(), w.data<float>(), eps,
                         f32_shaped(k, "out", out, x.shape()), rstd.data<float>(), s.rows, s.cols);
  }
  void swiglu_forward(const Tensor& gate_up, const Tensor& out) override {
    const RowsShape s = swiglu("swiglu_forward", gate_up, "out", out);
    Ops::swiglu_forward(gate_up.data<float>(), out.data<float>(), s.rows, s.cols);
  }
  void swiglu_backward(const Tensor& gate_up, const Tensor& dout, const Tensor& dgate_up) override {
    const char* k = "swiglu_backward";
    const RowsShape s = swiglu(k, gate_up, "dout", dout);
    Ops::swiglu_backward(gate_up.data<float>(), dout.data<float>(),
                         f32_shaped(k, "dgate_up", dgate_up, gate_up.shape()), s.rows, s.cols);
  }
  void rope(const Tensor& x, std::int64_t col, std::int64_t heads, std::int64_t head_dim,
            const TokenPositions& at, double theta, bool inverse) override {
    const int B = rotary("rope", x, col, heads, head_dim, at, theta);
    Ops::rope(x.data<float>(), B, x.size(2), col, heads, head_dim, at, theta, inverse);
  }
};

}  // namespace trellis
