// The checks every Kernels implementation makes of its arguments. A failure is a programming error
// in a layer, reported as an Error naming the kernel, the argument and what was expected:
// "kernel layernorm_forward: x has 12 elements, expected 16 (f32[3, 4] on cpu)".
#pragma once

#include <cstdint>
#include <string>

#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

// A base of CpuKernels and CudaKernels: the checks against their device.
class ArgumentChecks {
 public:
  explicit ArgumentChecks(Device device) : device_(device) {}

  [[noreturn]] static void fail(const char* kernel, const std::string& what);
  // `t` is defined and on the kernels' device.
  void on_device(const char* kernel, const char* name, const Tensor& t) const;
  // A contiguous f32 tensor on the kernels' device with `numel` elements (any number for -1).
  float* f32(const char* kernel, const char* name, const Tensor& t, std::int64_t numel) const;
  // f32(), or null for an undefined tensor.
  float* f32_optional(const char* kernel, const char* name, const Tensor& t,
                      std::int64_t numel) const;
  // A contiguous i32 tensor on the kernels' device with `numel` elements.
  const std::int32_t* i32(const char* kernel, const char* name, const Tensor& t,
                          std::int64_t numel) const;
  // A position table [>= T, C] (f32_optional: null when undefined).
  float* positions(const char* kernel, const char* name, const Tensor& t, int T, int C) const;
  // Size `d` of `t`, which must have rank `rank`.
  static int dim(const char* kernel, const Tensor& t, int rank, int d);
  static void check_heads(const char* kernel, int channels, int heads);
  // f32() with exactly `shape`.
  float* f32_shaped(const char* kernel, const char* name, const Tensor& t,
                    const Shape& shape) const;

  // The block-attention kernels' inputs: q[B,Tq,C] and kv[B,Tk,2C], f32 and contiguous, with Tq
  // and Tk the tokens of q_at and k_at (1 to kMaxRuns runs, no negative start or length) and C
  // split into `heads`.
  struct BlockAttentionShape {
    int batch;
    int channels;
    std::int64_t queries;
    std::int64_t keys;
  };
  BlockAttentionShape block_attention(const char* kernel, const Tensor& q, const Tensor& kv,
                                      const TokenPositions& q_at, const TokenPositions& k_at,
                                      int heads) const;
  // The rows of copy_columns' src[N,Ws] and dst[N,Wd] (f32, contiguous), with columns
  // [src_col, src_col + width) of src and [dst_col, dst_col + width) of dst inside them.
  std::int64_t column_copy(const char* kernel, const Tensor& src, std::int64_t src_col,
                           const Tensor& dst, std::int64_t dst_col, std::int64_t width) const;

  // Rows and columns of a 2-D tensor.
  struct RowsShape {
    int rows;
    int cols;
  };
  // The RMSNorm kernels' x[N,C] (f32, contiguous), w[C] and rstd[N]: {N, C}.
  RowsShape rmsnorm(const char* kernel, const Tensor& x, const Tensor& w, const Tensor& rstd) const;
  // The SwiGLU kernels' gate_up[N,2F] (f32, contiguous; an even width) and `name`[N,F]: {N, F}.
  RowsShape swiglu(const char* kernel, const Tensor& gate_up, const char* name,
                   const Tensor& half) const;
  // rope's x[B,T,W] (f32, contiguous) with T the tokens of `at` (1 to kMaxRuns runs, no negative
  // start or length), `heads` heads of an even, positive `head_dim` inside its columns from `col`,
  // and a positive, finite theta: B.
  int rotary(const char* kernel, const Tensor& x, std::int64_t col, std::int64_t heads,
             std::int64_t head_dim, const TokenPositions& at, double theta) const;

 private:
  Device device_;
};

}  // namespace trellis
