// The CUDA kernels as launchers over raw device arrays, one family per file; the same shapes and
// arithmetic as kernels/cpu/cpu_ops.h. Everything is launched on the compute stream
// (cudaStreamLegacy) and checked: a failed launch throws trellis::Error. CudaKernels checks the
// tensors and calls these.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "trellis/kernels.h"

namespace trellis::cuda {

inline cudaStream_t compute_stream() {
  return cudaStreamLegacy;
}

// Blocks of 256 threads covering n elements (at most 65535 * 8 blocks; loops stride over more).
int grid_for(std::int64_t n);

// elementwise.cu
void fill(float* x, std::int64_t n, float value);
void add(const float* a, const float* b, float* out, std::int64_t n);
void accumulate(float* dst, const float* src, std::int64_t n);
void scale(float* x, std::int64_t n, float factor);
// Float partial sums of x^2 per 1024 elements into partial[ceil(n / 1024)], then their sum in
// double into *total (device memory).
void sum_squares(const float* x, std::int64_t n, float* partial, double* total);
// The sum in double of values[n] (device), into *total (device).
void sum_double(const float* values, std::int64_t n, double* total);
void add_bias_rows(float* out, const float* b, std::int64_t rows, int cols);
void column_sums_accumulate(const float* dout, std::int64_t rows, int cols, float* db);
void f32_to_bf16(const float* x, __nv_bfloat16* out, std::int64_t n);
void bf16_to_f32(const __nv_bfloat16* x, float* out, std::int64_t n);

// pointwise.cu
void gelu_forward(const float* x, float* out, std::int64_t n);
void gelu_backward(const float* x, const float* dout, float* dx, std::int64_t n);

// pointwise.cu, AdamW: scalars computed on the host as the CPU kernel does
void adamw(float* param, const float* grad, float* m, float* v, std::int64_t n, float decay,
           float beta1, float beta2, float eps, float step_size, float bias_correction2_sqrt);

// layernorm.cu: x[N,Cs], one block per row; sums of shards divided by `channels`. The whole-row
// LayerNorm is these steps with one shard (channels = Cs).
void layernorm_shard_mean(const float* x, float* mean, int rows, int cols, std::int64_t channels);
void layernorm_shard_var(const float* x, const float* mean, float* var, int rows, int cols,
                         std::int64_t channels);
void layernorm_shard_forward(const float* x, const float* w, const float* b, const float* mean,
                             const float* var, float* out, float* rstd, int rows, int cols);
// dsums[2*rows]: row sums of w*dout, then of w*dout*xhat, divided by `channels`
void layernorm_shard_backward_sums(const float* dout, const float* x, const float* w,
                                   const float* mean, const float* rstd, float* dsums, int rows,
                                   int cols, std::int64_t channels);
// dx from dsums (overwritten); dw += sum of dout*xhat, db += sum of dout over rows
void layernorm_shard_backward(const float* dout, const float* x, const float* w, const float* mean,
                              const float* rstd, const float* dsums, float* dx, float* dw,
                              float* db, int rows, int cols);

// rmsnorm.cu: x[N,C], one block per row for the row sums (in double), out and dx; one thread per
// channel, looping over the rows, for dw. dx overwritten, dw +=.
void rmsnorm_forward(const float* x, const float* w, float eps, float* out, float* rstd, int rows,
                     int cols);
void rmsnorm_backward(const float* dout, const float* x, const float* w, const float* rstd,
                      float* dx, float* dw, int rows, int cols);

// swiglu.cu: gate_up[N,2F] (gate, then up), out[N,F]; dgate_up overwritten. One element per
// thread.
void swiglu_forward(const float* gate_up, float* out, std::int64_t rows, std::int64_t cols);
void swiglu_backward(const float* gate_up, const float* dout, float* dgate_up, std::int64_t rows,
                     std::int64_t cols);

// rope.cu: as cpu_ops.h's (x[B,T,W] in place), one channel pair per thread.
void rope(float* x, int B, std::int64_t width, std::int64_t col, std::int64_t heads,
          std::int64_t head_dim, const TokenPositions& at, double theta, bool inverse);

// attention.cu: the causal softmax of scores[B*NH*T, T] rows in place (row r is query r % T),
// and its backward: dp = p * (dp - rowsum(p * dp)), zero past the diagonal.
void causal_softmax(float* scores, std::int64_t rows, int T);
void causal_softmax_backward(const float* probs, float* dprobs, std::int64_t rows, int T);

// block_attention.cu: as cpu_ops.h's, over device arrays.
void attention_block_forward(const float* q, const float* kv, const TokenPositions& q_at,
                             const TokenPositions& k_at, float* out, float* lse, bool merge, int B,
                             int C, int NH);
void attention_block_backward(const float* dout, const float* q, const float* kv,
                              const TokenPositions& q_at, const TokenPositions& k_at,
                              const float* out, const float* lse, float* dq, float* dkv, int B,
                              int C, int NH);
void copy_columns(const float* src, std::int64_t src_width, std::int64_t src_col, float* dst,
                  std::int64_t dst_width, std::int64_t dst_col, std::int64_t rows,
                  std::int64_t width);

// embedding.cu
void embedding_forward(const std::int32_t* tokens, const float* wte, std::int64_t vocab_rows,
                       std::int64_t vocab_begin, const float* wpe, float* out, int B, int T, int C);
void embedding_backward(const std::int32_t* tokens, const float* dout, std::int64_t vocab_rows,
                        std::int64_t vocab_begin, float* dwte, float* dwpe, int B, int T, int C);

// xent.cu: logits[N,Vs] for ids [vocab_begin, vocab_begin + Vs); ids >= vocab_size are padding.
void xent_row_max(const float* logits, int rows, int cols, std::int64_t vocab_begin,
                  std::int64_t vocab_size, float* max);
void xent_row_stats(const float* logits, const std::int32_t* targets, int rows, int cols,
                    std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                    float* sumexp, float* target_logit);
// loss[r] = log(sumexp[r]) + max[r] - target_logit[r]
void xent_row_loss(const float* max, const float* sumexp, const float* target_logit, float* loss,
                   int rows);
void xent_backward(const float* logits, const std::int32_t* targets, int rows, int cols,
                   std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                   const float* sumexp, float scale, float* dlogits);

}  // namespace trellis::cuda
