// The CPU kernels as plain functions over raw arrays, one family per file. Shapes in the comments;
// all arrays row-major and contiguous unless a leading dimension is given. CpuKernels checks the
// tensors and calls these.
#pragma once

#include <cstdint>
#include <vector>

#include "trellis/kernels.h"

namespace trellis::cpu {

// Per-thread scratch buffers reused across calls (grown on demand, never shrunk).
class Scratch {
 public:
  float* get(int thread, std::size_t floats);
  void reserve_threads(int threads);

 private:
  std::vector<std::vector<float>> buffers_;
};

// elementwise.cpp
void fill(float* x, std::int64_t n, float value);
void add(const float* a, const float* b, float* out, std::int64_t n);
void accumulate(float* dst, const float* src, std::int64_t n);
void scale(float* x, std::int64_t n, float factor);
double sum_squares(const float* x, std::int64_t n);
// out[r, :] += b for each of `rows` rows of `cols`
void add_bias_rows(float* out, const float* b, int rows, int cols);
// db[OC] += sum over rows of dout[N,OC]
void column_sums_accumulate(const float* dout, int rows, int cols, float* db, Scratch& scratch);

// layernorm.cpp: x[N,C]
void layernorm_forward(const float* x, const float* w, const float* b, float* out, float* mean,
                       float* rstd, int rows, int cols);
void layernorm_backward(const float* dout, const float* x, const float* w, const float* mean,
                        const float* rstd, float* dx, float* dw, float* db, int rows, int cols,
                        Scratch& scratch);

// layernorm_shard.cpp: x[N,Cs], Cs of each row's C channels; stats per row, sums divided by C
void layernorm_shard_mean(const float* x, float* mean, int rows, int cols, std::int64_t channels);
void layernorm_shard_var(const float* x, const float* mean, float* var, int rows, int cols,
                         std::int64_t channels);
void layernorm_shard_forward(const float* x, const float* w, const float* b, const float* mean,
                             const float* var, float* out, float* rstd, int rows, int cols);
// dsums[2*rows]: row sums of w*dout, then of w*dout*xhat, divided by C
void layernorm_shard_backward_sums(const float* dout, const float* x, const float* w,
                                   const float* mean, const float* rstd, float* dsums, int rows,
                                   int cols, std::int64_t channels);
void layernorm_shard_backward(const float* dout, const float* x, const float* w, const float* mean,
                              const float* rstd, const float* dsums, float* dx, float* dw,
                              float* db, int rows, int cols, Scratch& scratch);

// gelu.cpp
void gelu_forward(const float* x, float* out, std::int64_t n);
void gelu_backward(const float* x, const float* dout, float* dx, std::int64_t n);

// rmsnorm.cpp: x[N,C], w[C], rstd[N]; rstd = 1 / sqrt(mean of x^2 + eps), the row sums in double
void rmsnorm_forward(const float* x, const float* w, float eps, float* out, float* rstd, int rows,
                     int cols);
// dx overwritten; dw += sum over rows of dout * x * rstd
void rmsnorm_backward(const float* dout, const float* x, const float* w, const float* rstd,
                      float* dx, float* dw, int rows, int cols, Scratch& scratch);

// swiglu.cpp: gate_up[N,2F] (gate, then up), out[N,F]; dgate_up overwritten
void swiglu_forward(const float* gate_up, float* out, std::int64_t rows, std::int64_t cols);
void swiglu_backward(const float* gate_up, const float* dout, float* dgate_up, std::int64_t rows,
                     std::int64_t cols);

// rope.cpp: x[B,T,W] in place, `heads` heads of `head_dim` channels from column `col`; token t
// of each sequence at the position `at` gives it (T = at.tokens()).
void rope(float* x, int B, std::int64_t width, std::int64_t col, std::int64_t heads,
          std::int64_t head_dim, const TokenPositions& at, double theta, bool inverse);

// attention.cpp: qkv[B,T,3C], out[B,T,C], probs[B,NH,T,T]
void attention_forward(const float* qkv, float* out, float* probs, int B, int T, int C, int NH);
void attention_backward(const float* dout, const float* qkv, const float* probs, float* dqkv, int B,
                        int T, int C, int NH, Scratch& scratch);

// block_attention.cpp: q[B,Tq,C], kv[B,Tk,2C] (keys, then values), out[B,Tq,C], lse[B,NH,Tq],
// dout/dq like q, dkv like kv; Tq and Tk the tokens of q_at and k_at (Kernels' contract).
void attention_block_forward(const float* q, const float* kv, const TokenPositions& q_at,
                             const TokenPositions& k_at, float* out, float* lse, bool merge, int B,
                             int C, int NH);
void attention_block_backward(const float* dout, const float* q, const float* kv,
                              const TokenPositions& q_at, const TokenPositions& k_at,
                              const float* out, const float* lse, float* dq, float* dkv, int B,
                              int C, int NH);
// dst[n, dst_col + j] = src[n, src_col + j] for j < width, n < rows; src[rows, src_width],
// dst[rows, dst_width].
void copy_columns(const float* src, std::int64_t src_width, std::int64_t src_col, float* dst,
                  std::int64_t dst_width, std::int64_t dst_col, std::int64_t rows,
                  std::int64_t width);

// embedding.cpp: tokens[B*T], wte[Vs,C] standing for ids [vocab_begin, vocab_begin + Vs),
// wpe[>=T, C] or null, out[B*T, C]
void embedding_forward(const std::int32_t* tokens, const float* wte, std::int64_t vocab_rows,
                       std::int64_t vocab_begin, const float* wpe, float* out, int B, int T, int C);
void embedding_backward(const std::int32_t* tokens, const float* dout, std::int64_t vocab_rows,
                        std::int64_t vocab_begin, float* dwte, float* dwpe, int B, int T, int C);

// xent.cpp: logits[N,Vs] for ids [vocab_begin, vocab_begin + Vs); ids >= vocab_size are padding.
void xent_row_max(const float* logits, int rows, int cols, std::int64_t vocab_begin,
                  std::int64_t vocab_size, float* max);
void xent_row_stats(const float* logits, const std::int32_t* targets, int rows, int cols,
                    std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                    float* sumexp, float* target_logit);
double xent_loss_sum(const float* max, const float* sumexp, const float* target_logit, int rows);
void xent_backward(const float* logits, const std::int32_t* targets, int rows, int cols,
                   std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                   const float* sumexp, float scale, float* dlogits);

// adamw.cpp
void adamw(float* param, const float* grad, float* m, float* v, std::int64_t n, float lr,
           float beta1, float beta2, float eps, float weight_decay, int step);

}  // namespace trellis::cpu
