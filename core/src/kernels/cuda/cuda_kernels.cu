// CudaKernels: checks the tensors it is given (device, type, shape, contiguity) as CpuKernels does
// and runs the launchers of cuda_ops.h and cuBLAS products (gemm.h) on them.
#include <cuda_bf16.h>

#include <cmath>
#include <string>

#include "device/cuda_check.h"
#include "device/cuda_library.h"
#include "kernels/checked_kernels.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda_kernels.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// The cuda functions CheckedKernels forwards to.
struct CudaOps {
  TRELLIS_CHECKED_KERNEL_OPS(cuda)
};

class CudaKernels final : public CheckedKernels<CudaOps> {
 public:
  CudaKernels(int device, CudaPrecision precision)
      : CheckedKernels<CudaOps>(Device::cuda(device)),
        device_(Device::cuda(device)),
        gemm_(device, precision == CudaPrecision::bf16) {
    cudaDeviceProp properties{};
    cuda::check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties",
                "the CUDA kernels");
    multiprocessors_ = properties.multiProcessorCount;
  }

  Device device() const override { return device_; }
  // The device's multiprocessors: what the kernels run on at once.
  int threads() const override { return multiprocessors_; }

  // Same dtype: a copy between any two of host and device memory. f32 <-> bf16: a conversion,
  // both tensors on this device. A copy to or from host memory has completed when it returns.
  void copy(const Tensor& src, const Tensor& dst) override {
    if (src.numel() != dst.numel() || !src.is_contiguous() || !dst.is_contiguous()) {
      fail("copy", "needs contiguous tensors of one size, got " + src.str() + " and " + dst.str());
    }
    if (src.dtype() == dst.dtype()) {
      const bool with_host =
          src.device().kind == DeviceKind::cpu || dst.device().kind == DeviceKind::cpu;
      if (src.nbytes() > 0) {
        cuda::check(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), src.nbytes(), cudaMemcpyDefault,
                                    cuda::compute_stream()),
                    "cudaMemcpyAsync", "copy");
      }
      if (with_host) {
        cuda::check(cudaStreamSynchronize(cuda::compute_stream()), "cudaStreamSynchronize", "copy");
      }
      return;
    }
    on_device("copy", "src", src);
    on_device("copy", "dst", dst);
    if (src.dtype() == DType::f32 && dst.dtype() == DType::bf16) {
      cuda::f32_to_bf16(src.data<float>(), static_cast<__nv_bfloat16*>(dst.data_ptr()),
                        src.numel());
    } else if (src.dtype() == DType::bf16 && dst.dtype() == DType::f32) {
      cuda::bf16_to_f32(static_cast<const __nv_bfloat16*>(src.data_ptr()), dst.data<float>(),
                        src.numel());
    } else {
      fail("copy", "converts f32 <-> bf16 only, got " + src.str() + " to " + dst.str());
    }
  }

  double sum_squares(const Tensor& t) override {
    const std::int64_t n = t.numel();
    const float* x = f32("sum_squares", "t", t, -1);
    float* partial = scratch_.get<float>(static_cast<std::size_t>(n / 1024 + 1), "sum_squares");
    cuda::sum_squares(x, n, partial, result_.get<double>(1, "sum_squares"));
    return result_on_host("sum_squares");
  }

  void matmul(const Tensor& a, bool ta, const Tensor& b, bool tb, const Tensor& out, float alpha,
              float beta) override {
    const cuda::GemmOperand A = operand(a, "a"), B = operand(b, "b");
    const cuda::GemmOperand C = operand(out, "out");
    const int m = ta ? A.cols : A.rows, k = ta ? A.rows : A.cols;
    const int kb = tb ? B.cols : B.rows, n = tb ? B.rows : B.cols;
    if (k != kb || C.rows != m || C.cols != n) {
      fail("matmul", "shapes do not chain: op(a) " + std::to_string(m) + "x" + std::to_string(k) +
                         ", op(b) " + std::to_string(kb) + "x" + std::to_string(n) + ", out " +
                         out.shape().str());
    }
    gemm_.run("matmul", ta, tb, m, n, k, alpha, A, B, beta, {out.data<float>(), C.ld});
  }

  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                      const Tensor& out) override {
    const char* k = "linear_forward";
    const int oc = dim(k, w, 2, 0), c = dim(k, w, 2, 1);
    const std::int64_t n = x.numel() / c;
    const float* xp = f32(k, "x", x, n * c);
    const float* wp = f32(k, "w", w, -1);
    float* op = f32(k, "out", out, n * oc);
    const float* bp = f32_optional(k, "b", b, oc);
    const int rows = static_cast<int>(n);
    gemm_.run(k, false, true, rows, oc, c, 1.0f, {xp, rows, c, c}, {wp, oc, c, c}, 0.0f, {op, oc});
    if (bp) cuda::add_bias_rows(op, bp, n, oc);
  }

  void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                       const Tensor& dw, const Tensor& db) override {
    const char* k = "linear_backward";
    const int oc = dim(k, w, 2, 0), c = dim(k, w, 2, 1);
    const std::int64_t n = x.numel() / c;
    const int rows = static_cast<int>(n);
    const float* dop = f32(k, "dout", dout, n * oc);
    const float* xp = f32(k, "x", x, n * c);
    const float* wp = f32(k, "w", w, -1);
    float* dwp = f32(k, "dw", dw, static_cast<std::int64_t>(oc) * c);
    if (dx.defined()) {
      gemm_.run(k, false, false, rows, c, oc, 1.0f, {dop, rows, oc, oc}, {wp, oc, c, c}, 0.0f,
                {f32(k, "dx", dx, n * c), c});
    }
    gemm_.run(k, true, false, oc, c, rows, 1.0f, {dop, rows, oc, oc}, {xp, rows, c, c}, 1.0f,
              {dwp, c});
    if (db.defined()) cuda::column_sums_accumulate(dop, n, oc, f32(k, "db", db, oc));
  }

  void layernorm_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out,
                         const Tensor& mean, const Tensor& rstd) override {
    const char* k = "layernorm_forward";
    const int c = static_cast<int>(w.numel());
    const std::int64_t n = x.numel() / c;
    const float* xp = f32(k, "x", x, n * c);
    float* meanp = f32(k, "mean", mean, n);
    float* rstdp = f32(k, "rstd", rstd, n);
    const int rows = static_cast<int>(n);
    // The shard steps with one shard; rstd holds the variance in between.
    cuda::layernorm_shard_mean(xp, meanp, rows, c, c);
    cuda::layernorm_shard_var(xp, meanp, rstdp, rows, c, c);
    cuda::layernorm_shard_forward(xp, f32(k, "w", w, c), f32(k, "b", b, c), meanp, rstdp,
                                  f32(k, "out", out, n * c), rstdp, rows, c);
  }

  void layernorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& mean,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dw,
                          const Tensor& db) override {
    const char* k = "layernorm_backward";
    const int c = static_cast<int>(w.numel());
    const std::int64_t n = x.numel() / c;
    const int rows = static_cast<int>(n);
    const float* dop = f32(k, "dout", dout, n * c);
    const float* xp = f32(k, "x", x, n * c);
    const float* wp = f32(k, "w", w, c);
    const float* meanp = f32(k, "mean", mean, n);
    const float* rstdp = f32(k, "rstd", rstd, n);
    float* dsums = scratch_.get<float>(2 * static_cast<std::size_t>(n), k);
    cuda::layernorm_shard_backward_sums(dop, xp, wp, meanp, rstdp, dsums, rows, c, c);
    cuda::layernorm_shard_backward(dop, xp, wp, meanp, rstdp, dsums, f32(k, "dx", dx, n * c),
                                   f32(k, "dw", dw, c), f32(k, "db", db, c), rows, c);
  }

  void layernorm_shard_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                const Tensor& mean, const Tensor& rstd, const Tensor& dsums,
                                const Tensor& dx, const Tensor& dw, const Tensor& db) override {
    const char* k = "layernorm_shard_backward";
    const int n = dim(k, x, 2, 0), c = dim(k, x, 2, 1);
    const std::int64_t nc = static_cast<std::int64_t>(n) * c;
    cuda::layernorm_shard_backward(
        f32(k, "dout", dout, nc), f32(k, "x", x, -1), f32(k, "w", w, c), f32(k, "mean", mean, n),
        f32(k, "rstd", rstd, n), f32(k, "dsums", dsums, 2 * static_cast<std::int64_t>(n)),
        f32(k, "dx", dx, nc), f32(k, "dw", dw, c), f32(k, "db", db, c), n, c);
  }

  void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& rstd,
                        const Tensor& dx, const Tensor& dw) override {
    const char* k = "rmsnorm_backward";
    const RowsShape s = rmsnorm(k, x, w, rstd);
    cuda::rmsnorm_backward(f32_shaped(k, "dout", dout, x.shape()), x.data<float>(), w.data<float>(),
                           rstd.data<float>(), f32_shaped(k, "dx", dx, x.shape()),
                           f32_shaped(k, "dw", dw, w.shape()), s.rows, s.cols);
  }

  // Per sequence b, strided-batched over the heads (head h of q, k and v starts h * hs channels
  // into a row of qkv; its T x T block of probs T * T elements after head h - 1's):
  //   probs = causal softmax(q k^T / sqrt(hs)), out = probs v.
  // The whole score matrix is multiplied (the masked half too) and the softmax writes zeros there.
  void attention_forward(const Tensor& qkv, int heads, const Tensor& out,
                         const Tensor& probs) override {
    const char* k = "attention_forward";
    const int B = dim(k, qkv, 3, 0), T = dim(k, qkv, 3, 1), C = dim(k, qkv, 3, 2) / 3;
    check_heads(k, C, heads);
    const float* q = f32(k, "qkv", qkv, static_cast<std::int64_t>(B) * T * 3 * C);
    float* o = f32(k, "out", out, static_cast<std::int64_t>(B) * T * C);
    float* p = f32(k, "probs", probs, static_cast<std::int64_t>(B) * heads * T * T);
    const int hs = C / heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    const std::int64_t tt = static_cast<std::int64_t>(T) * T;
    for (int b = 0; b < B; ++b) {
      const float* qb = q + static_cast<std::int64_t>(b) * T * 3 * C;
      gemm_.run(k, false, true, T, T, hs, scale, {qb, T, hs, 3 * C, hs}, {qb + C, T, hs, 3 * C, hs},
                0.0f, {p + b * heads * tt, T, tt}, heads);
    }
    cuda::causal_softmax(p, static_cast<std::int64_t>(B) * heads * T, T);
    for (int b = 0; b < B; ++b) {
      const float* qb = q + static_cast<std::int64_t>(b) * T * 3 * C;
      gemm_.run(k, false, false, T, hs, T, 1.0f, {p + b * heads * tt, T, T, T, tt},
                {qb + 2 * C, T, hs, 3 * C, hs}, 0.0f,
                {o + static_cast<std::int64_t>(b) * T * C, C, hs}, heads);
    }
  }

  // dv = probs^T dout; dprobs = dout v^T; dscores = softmax backward (zero past the diagonal);
  // dq = dscores k / sqrt(hs); dk = dscores^T q / sqrt(hs). dqkv is overwritten.
  void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs, int heads,
                          const Tensor& dqkv) override {
    const char* k = "attention_backward";
    const int B = dim(k, qkv, 3, 0), T = dim(k, qkv, 3, 1), C = dim(k, qkv, 3, 2) / 3;
    check_heads(k, C, heads);
    const std::int64_t n = static_cast<std::int64_t>(B) * T;
    const float* d = f32(k, "dout", dout, n * C);
    const float* q = f32(k, "qkv", qkv, n * 3 * C);
    const float* p = f32(k, "probs", probs, static_cast<std::int64_t>(B) * heads * T * T);
    float* dq = f32(k, "dqkv", dqkv, n * 3 * C);
    const int hs = C / heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    const std::int64_t tt = static_cast<std::int64_t>(T) * T;
    // One sequence's score gradients at a time (heads x T x T), reused in stream order.
    float* ds = scratch_.get<float>(static_cast<std::size_t>(heads * tt), k);
    for (int b = 0; b < B; ++b) {
      const std::int64_t row0 = static_cast<std::int64_t>(b) * T;
      const float* qb = q + row0 * 3 * C;
      const float* pb = p + b * heads * tt;
      const float* db = d + row0 * C;
      float* dqb = dq + row0 * 3 * C;
      const cuda::GemmOperand probs_b{pb, T, T, T, tt}, dout_b{db, T, hs, C, hs};
      const cuda::GemmOperand q_b{qb, T, hs, 3 * C, hs}, k_b{qb + C, T, hs, 3 * C, hs};
      const cuda::GemmOperand v_b{qb + 2 * C, T, hs, 3 * C, hs}, ds_b{ds, T, T, T, tt};
      gemm_.run(k, true, false, T, hs, T, 1.0f, probs_b, dout_b, 0.0f, {dqb + 2 * C, 3 * C, hs},
                heads);
      gemm_.run(k, false, true, T, T, hs, 1.0f, dout_b, v_b, 0.0f, {ds, T, tt}, heads);
      cuda::causal_softmax_backward(pb, ds, static_cast<std::int64_t>(heads) * T, T);
      gemm_.run(k, false, false, T, hs, T, scale, ds_b, k_b, 0.0f, {dqb, 3 * C, hs}, heads);
      gemm_.run(k, true, false, T, hs, T, scale, ds_b, q_b, 0.0f, {dqb + C, 3 * C, hs}, heads);
    }
  }

  double xent_loss_sum(const Tensor& max, const Tensor& sumexp,
                       const Tensor& target_logit) override {
    const char* k = "xent_loss_sum";
    const std::int64_t n = max.numel();
    float* loss = scratch_.get<float>(static_cast<std::size_t>(n) + 1, k);
    cuda::xent_row_loss(f32(k, "max", max, n), f32(k, "sumexp", sumexp, n),
                        f32(k, "target_logit", target_logit, n), loss, static_cast<int>(n));
    cuda::sum_double(loss, n, result_.get<double>(1, k));
    return result_on_host(k);
  }

  void adamw(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
             const AdamWStep& s) override {
    const char* k = "adamw";
    const std::int64_t n = param.numel();
    // The scalars as the CPU kernel computes them (in double, as PyTorch does in Python).
    const float decay = static_cast<float>(1.0 - static_cast<double>(s.lr) * s.weight_decay);
    const double bias_correction1 = 1.0 - std::pow(static_cast<double>(s.beta1), s.step);
    const double bias_correction2 = 1.0 - std::pow(static_cast<double>(s.beta2), s.step);
    cuda::adamw(f32(k, "param", param, n), f32(k, "grad", grad, n), f32(k, "m", m, n),
                f32(k, "v", v, n), n, decay, s.beta1, s.beta2, s.eps,
                static_cast<float>(s.lr / bias_correction1),
                static_cast<float>(std::sqrt(bias_correction2)));
  }

 private:
  // A 2-D f32 view on this device with contiguous rows, as a gemm operand.
  cuda::GemmOperand operand(const Tensor& t, const char* what) const {
    on_device("matmul", what, t);
    if (t.rank() != 2 || t.strides()[1] != 1 || t.dtype() != DType::f32) {
      fail("matmul",
           std::string(what) + " must be a 2-D f32 view with contiguous rows, got " + t.str());
    }
    return {t.data<float>(), static_cast<int>(t.size(0)), static_cast<int>(t.size(1)),
            static_cast<int>(t.strides()[0])};
  }
  // The double the last reduction left in result_, brought to the host.
  double result_on_host(const char* kernel) {
    double value = 0.0;
    cuda::check(cudaMemcpyAsync(&value, result_.get<double>(1, kernel), sizeof value,
                                cudaMemcpyDeviceToHost, cuda::compute_stream()),
                "cudaMemcpyAsync", kernel);
    cuda::check(cudaStreamSynchronize(cuda::compute_stream()), "cudaStreamSynchronize", kernel);
    return value;
  }

  Device device_;
  int multiprocessors_ = 1;
  cuda::Gemm gemm_;
  cuda::DeviceBuffer scratch_;  // per-call temporaries (partials, dsums, attention's dprobs)
  cuda::DeviceBuffer result_;   // one double coming back to the host
};

}  // namespace

std::shared_ptr<Kernels> cuda::make_kernels(int device, bool bf16) {
  return std::make_shared<CudaKernels>(device, bf16 ? CudaPrecision::bf16 : CudaPrecision::f32);
}

}  // namespace trellis
