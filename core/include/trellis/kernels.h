// Kernels: the numerical operations layers are built from, for one device.
//
// Layer families call these instead of touching memory themselves, so the same layer code runs on
// every device: core provides a CPU implementation (OpenBLAS sgemm and plain loops) and, when built
// with CUDA, a GPU one. Shapes follow llm.c: N rows (tokens), C channels, OC output channels,
// B sequences of T tokens, NH heads. Unless stated, tensors are contiguous f32 on the kernels'
// device, outputs are overwritten, and gradients named "+=" are accumulated into.
//
// Vocabulary-sharded variants (tensor parallelism) take `vocab_begin`, the first token id this
// rank's rows of the embedding / columns of the logits stand for, and `vocab_size`, the real
// vocabulary V: ids at or beyond V are padding and never contribute to the loss.
#pragma once

#include <cstdint>

#include "trellis/tensor.h"

namespace trellis {

// Where the tokens of a block sit in their sequences, for attention over blocks of tokens
// (context parallelism, ABI 2.1): up to kMaxRuns runs of consecutive positions, in the order the
// block holds its tokens. Every sequence of the block has the same positions. A block of whole
// sequences of T tokens is the one run {start 0, length T}; a context rank under causal load
// balancing holds two (trellis/context_attention.h).
struct TokenPositions {
  static constexpr int kMaxRuns = 4;
  int runs = 0;
  std::int64_t start[kMaxRuns] = {};
  std::int64_t length[kMaxRuns] = {};

  // The tokens of the block: the sum of the runs' lengths.
  std::int64_t tokens() const noexcept {
    std::int64_t n = 0;
    for (int r = 0; r < runs; ++r) n += length[r];
    return n;
  }
};

struct AdamWStep {
  float lr;
  float beta1;
  float beta2;
  float eps;
  float weight_decay;  // decoupled: param -= lr * weight_decay * param
  int step;            // 1-based, for bias correction
};

class Kernels {
 public:
  virtual ~Kernels() = default;
  virtual Device device() const = 0;
  // Threads the kernels use ([device] threads on CPU).
  virtual int threads() const = 0;

  // ---- memory and elementwise ----
  virtual void fill(const Tensor& t, float value) = 0;
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;                // same numel
  virtual void add(const Tensor& a, const Tensor& b, const Tensor& out) = 0;  // out = a + b
  virtual void accumulate(const Tensor& dst, const Tensor& src) = 0;          // dst += src
  virtual void scale(const Tensor& t, float factor) = 0;                      // t *= factor
  // Sum of t^2: float partial sums over blocks of 1024 elements, added in double (relative error
  // around 1e-7, as good as a gradient norm needs, at memory speed).
  virtual double sum_squares(const Tensor& t) = 0;

  // out = alpha * op(a) @ op(b) + beta * out, where op transposes when asked. 2-D views whose
  // rows may be strided (a row stride larger than the width), columns contiguous.
  virtual void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
                      const Tensor& out, float alpha = 1.0f, float beta = 0.0f) = 0;

  // ---- linear: out[N,OC] = x[N,C] @ w[OC,C]^T + b[OC] (b may be undefined) ----
  virtual void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                              const Tensor& out) = 0;
  // dx[N,C] = dout @ w (skipped when dx is undefined); dw += dout^T @ x; db += sum over rows.
  virtual void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                               const Tensor& dx, const Tensor& dw, const Tensor& db) = 0;

  // ---- LayerNorm over the last dimension, eps 1e-5, biased variance ----
  // x[N,C] -> out[N,C]; saves mean[N] and rstd[N] for backward.
  virtual void layernorm_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                                 const Tensor& out, const Tensor& mean, const Tensor& rstd) = 0;
  // dx = d/dx; dw += ...; db += ...
  virtual void layernorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                  const Tensor& mean, const Tensor& rstd, const Tensor& dx,
                                  const Tensor& dw, const Tensor& db) = 0;

  // ---- GELU, tanh approximation ----
  virtual void gelu_forward(const Tensor& x, const Tensor& out) = 0;
  virtual void gelu_backward(const Tensor& x, const Tensor& dout, const Tensor& dx) = 0;

  // ---- causal self-attention ----
  // qkv[B,T,3C] (queries, keys, values side by side, heads of C/NH channels) -> out[B,T,C];
  // saves the softmax probabilities probs[B,NH,T,T] for backward.
  virtual void attention_forward(const Tensor& qkv, int heads, const Tensor& out,
                                 const Tensor& probs) = 0;
  // dqkv[B,T,3C] from dout[B,T,C].
  virtual void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs,
                                  int heads, const Tensor& dqkv) = 0;

  // ---- embeddings ----
  // out[B,T,C] = wte[token - vocab_begin] (zero for tokens outside this shard's rows)
  //              + wpe[t] (when wpe is defined; wpe[maxT,C] with T <= maxT).
  virtual void embedding_forward(const Tensor& tokens, const Tensor& wte, std::int64_t vocab_begin,
                                 const Tensor& wpe, const Tensor& out) = 0;
  // dwte += scattered rows of dout for tokens in this shard; dwpe += sum over sequences (when
  // dwpe is defined).
  virtual void embedding_backward(const Tensor& tokens, const Tensor& dout,
                                  std::int64_t vocab_begin, const Tensor& dwte,
                                  const Tensor& dwpe) = 0;

  // ---- softmax cross-entropy over logits[N,Vs] (a shard of Vs vocabulary columns) ----
  // Computed in steps so the statistics of vocabulary shards can be combined between steps:
  // max[N] = the largest real logit of each row in this shard (-inf when it has none).
  virtual void xent_row_max(const Tensor& logits, std::int64_t vocab_begin, std::int64_t vocab_size,
                            const Tensor& max) = 0;
  // Given each row's max over the whole vocabulary: sumexp[N] = sum of exp(logit - max) over
  // this shard's real columns; target_logit[N] = the target's logit when it is in this shard,
  // else 0.
  virtual void xent_row_stats(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                              std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp,
                              const Tensor& target_logit) = 0;
  // The sum over rows of log(sumexp) + max - target_logit: the summed token losses.
  virtual double xent_loss_sum(const Tensor& max, const Tensor& sumexp,
                               const Tensor& target_logit) = 0;
  // dlogits = scale * (softmax - onehot(target)), zero in padding columns. dlogits may be logits.
  virtual void xent_backward(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                             std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp,
                             float scale, const Tensor& dlogits) = 0;

  // ---- optimizer ----
  // AdamW as in PyTorch: m, v updated from grad, bias-corrected, decoupled weight decay.
  virtual void adamw(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                     const AdamWStep& step) = 0;

  // ---- LayerNorm over channels split across ranks (2D tensor parallelism), ABI 1.1 ----
  // x[N,Cs] holds Cs of each row's C channels (`channels` = C); w and b are the same Cs channels.
  // As for the cross-entropy, the work is in steps: each gives per-row values that the ranks
  // holding the row's other channels add up (an all-reduce of N floats) before the next step, so
  // a row's channels never have to meet. With one shard (Cs = C) the steps give exactly
  // layernorm_forward / layernorm_backward.
  // mean[N] = this shard's sum of x, divided by C: summed over the shards, the row's mean.
  virtual void layernorm_shard_mean(const Tensor& x, std::int64_t channels, const Tensor& mean) = 0;
  // Given the row's mean: var[N] = this shard's sum of (x - mean)^2, divided by C: summed over the
  // shards, the row's biased variance.
  virtual void layernorm_shard_var(const Tensor& x, const Tensor& mean, std::int64_t channels,
                                   const Tensor& var) = 0;
  // Given the row's mean and variance: rstd[N] = 1 / sqrt(var + 1e-5) and
  // out = (x - mean) * rstd * w + b. rstd may be var (each row's var is read before it is written).
  virtual void layernorm_shard_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                                       const Tensor& mean, const Tensor& var, const Tensor& out,
                                       const Tensor& rstd) = 0;
  // Backward, first step, with xhat = (x - mean) * rstd: dsums[2,N] = this shard's sums of
  // w * dout (row 0) and of w * dout * xhat (row 1), divided by C: summed, the row's means.
  virtual void layernorm_shard_backward_sums(const Tensor& dout, const Tensor& x, const Tensor& w,
                                             const Tensor& mean, const Tensor& rstd,
                                             std::int64_t channels, const Tensor& dsums) = 0;
  // Given the row's means: dx = (w * dout - dsums[0] - xhat * dsums[1]) * rstd (overwritten);
  // dw += sum over rows of dout * xhat; db += sum over rows of dout.
  virtual void layernorm_shard_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                        const Tensor& mean, const Tensor& rstd, const Tensor& dsums,
                                        const Tensor& dx, const Tensor& dw, const Tensor& db) = 0;

  // ---- attention over blocks of tokens (context parallelism), ABI 2.1 ----
  // Causal attention of a block of queries against a block of keys and values of the same
  // sequences, each block's tokens at the positions `q_at` / `k_at` give: query i sees key j when
  // the key's position is not after the query's. Heads of C/NH channels, scores scaled by
  // 1/sqrt(C/NH) as attention_forward does.
  // q[B,Tq,C], kv[B,Tk,2C] (each token's key, then its value) -> out[B,Tq,C] and lse[B,NH,Tq],
  // the natural log of each row's softmax denominator over the keys it sees (sum of
  // exp(score)), or -inf for a row that sees none (its out is then 0). With `merge`, out and lse
  // already hold the attention over other keys of the same queries and become the attention over
  // both (the online softmax: out weighted by exp(lse - new lse) on each side).
  virtual void attention_block_forward(const Tensor& q, const Tensor& kv,
                                       const TokenPositions& q_at, const TokenPositions& k_at,
                                       int heads, const Tensor& out, const Tensor& lse,
                                       bool merge) = 0;
  // The gradients through one block of keys, given the finished attention of the queries (out
  // and lse over every block) and dout[B,Tq,C]: dq[B,Tq,C] += and dkv[B,Tk,2C] += (keys, then
  // values). Summed over the blocks that cover every key, these are attention_backward's.
  virtual void attention_block_backward(const Tensor& dout, const Tensor& q, const Tensor& kv,
                                        const TokenPositions& q_at, const TokenPositions& k_at,
                                        int heads, const Tensor& out, const Tensor& lse,
                                        const Tensor& dq, const Tensor& dkv) = 0;
  // Columns of row-major matrices: dst[n, dst_col + j] = src[n, src_col + j] for j < width, for
  // every row n of src[N, Ws] and dst[N, Wd] (both contiguous, f32, the same N rows).
  virtual void copy_columns(const Tensor& src, std::int64_t src_col, const Tensor& dst,
                            std::int64_t dst_col, std::int64_t width) = 0;

  // ---- LLaMA-style blocks, ABI 2.6 ----
  // RMSNorm over the last dimension: x[N,C] -> out[N,C] = x * rstd * w, with
  // rstd[N] = 1 / sqrt(mean of x^2 + eps) saved for backward.
  virtual void rmsnorm_forward(const Tensor& x, const Tensor& w, float eps, const Tensor& out,
                               const Tensor& rstd) = 0;
  // dx (overwritten) = d/dx; dw += sum over rows of dout * x * rstd.
  virtual void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                const Tensor& rstd, const Tensor& dx, const Tensor& dw) = 0;
  // SwiGLU: gate_up[N,2F] holds each row's gate (its first F columns) and up (the last F);
  // out[N,F] = silu(gate) * up, silu(g) = g / (1 + exp(-g)).
  virtual void swiglu_forward(const Tensor& gate_up, const Tensor& out) = 0;
  // dgate_up[N,2F] (overwritten) from dout[N,F].
  virtual void swiglu_backward(const Tensor& gate_up, const Tensor& dout,
                               const Tensor& dgate_up) = 0;
  // Rotary positions, in place, on x[B,T,W]: the `heads` heads of `head_dim` channels that
  // start at column `col` of every row, token t of each sequence at the position `at` gives it
  // (at.tokens() == T). Channel i < head_dim/2 of a head pairs with channel i + head_dim/2 (the
  // "rotate half" layout Hugging Face's LLaMA uses) and the pair turns by the angle
  // position x theta^(-2i/head_dim), computed in double. `inverse` turns by minus the angle:
  // the backward, applied to the gradient.
  virtual void rope(const Tensor& x, std::int64_t col, std::int64_t heads, std::int64_t head_dim,
                    const TokenPositions& at, double theta, bool inverse) = 0;
};

}  // namespace trellis
