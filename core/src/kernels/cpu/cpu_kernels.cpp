// CpuKernels: checks the tensors it is given (device, type, shape, contiguity) and runs the loops
// of cpu_ops.h on them. A shape mismatch is a programming error in a layer, reported with the
// kernel's name and both shapes.
#include "kernels/cpu/cpu_kernels.h"

#include <omp.h>

#include <cstring>
#include <string>

#include "kernels/checked_kernels.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_ops.h"
#include "trellis/error.h"

namespace trellis {

namespace cpu {

Matrix as_matrix(const Tensor& t, const char* what) {
  if (t.rank() != 2 || t.strides()[1] != 1 || t.dtype() != DType::f32) {
    throw Error(std::string("matmul: ") + what +
                " must be a 2-D f32 view with contiguous rows, got " + t.str());
  }
  return {t.data<float>(), static_cast<int>(t.size(0)), static_cast<int>(t.size(1)),
          static_cast<int>(t.strides()[0])};
}

}  // namespace cpu

namespace {

// The cpu functions CheckedKernels forwards to.
struct CpuOps {
  TRELLIS_CHECKED_KERNEL_OPS(cpu)
};

class CpuKernels final : public CheckedKernels<CpuOps> {
 public:
  explicit CpuKernels(int threads) : CheckedKernels<CpuOps>(Device::cpu()) {
    if (threads > 0) omp_set_num_threads(threads);
    // All parallelism comes from OpenMP (parallel_sgemm splits the products); OpenBLAS stays on
    // one thread so two thread pools never compete for the cores.
    openblas_set_num_threads(1);
    threads_ = omp_get_max_threads();
  }

  Device device() const override { return Device::cpu(); }
  int threads() const override { return threads_; }

  void copy(const Tensor& src, const Tensor& dst) override {
    if (src.dtype() != dst.dtype() || src.numel() != dst.numel() || !src.is_contiguous() ||
        !dst.is_contiguous()) {
      fail("copy",
           "needs contiguous tensors of one type and size, got " + src.str() + " and " + dst.str());
    }
    if (src.nbytes() > 0) std::memmove(dst.data_ptr(), src.data_ptr(), src.nbytes());
  }
  double sum_squares(const Tensor& t) override {
    return cpu::sum_squares(f32("sum_squares", "t", t, -1), t.numel());
  }

  void matmul(const Tensor& a, bool ta, const Tensor& b, bool tb, const Tensor& out, float alpha,
              float beta) override {
    cpu::Matrix A = cpu::as_matrix(a, "a");
    cpu::Matrix B = cpu::as_matrix(b, "b");
    cpu::Matrix C = cpu::as_matrix(out, "out");
    int m = ta ? A.cols : A.rows;
    int k = ta ? A.rows : A.cols;
    int kb = tb ? B.cols : B.rows;
    int n = tb ? B.rows : B.cols;
    if (k != kb || C.rows != m || C.cols != n) {
      fail("matmul", "shapes do not chain: op(a) " + std::to_string(m) + "x" + std::to_string(k) +
                         ", op(b) " + std::to_string(kb) + "x" + std::to_string(n) + ", out " +
                         out.shape().str());
    }
    cpu::parallel_sgemm(ta, tb, m, n, k, alpha, A.data, A.ld, B.data, B.ld, beta, C.data, C.ld);
  }

  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                      const Tensor& out) override {
    const char* k = "linear_forward";
    int oc = dim(k, w, 2, 0), c = dim(k, w, 2, 1);
    std::int64_t n = x.numel() / c;
    const float* xp = f32(k, "x", x, n * c);
    const float* wp = f32(k, "w", w, -1);
    float* op = f32(k, "out", out, n * oc);
    const float* bp = f32_optional(k, "b", b, oc);
    cpu::parallel_sgemm(false, true, static_cast<int>(n), oc, c, 1.0f, xp, c, wp, c, 0.0f, op, oc);
    if (bp) cpu::add_bias_rows(op, bp, static_cast<int>(n), oc);
  }

  void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                       const Tensor& dw, const Tensor& db) override {
    const char* k = "linear_backward";
    int oc = dim(k, w, 2, 0), c = dim(k, w, 2, 1);
    std::int64_t n = x.numel() / c;
    const float* dop = f32(k, "dout", dout, n * oc);
    const float* xp = f32(k, "x", x, n * c);
    const float* wp = f32(k, "w", w, -1);
    float* dwp = f32(k, "dw", dw, static_cast<std::int64_t>(oc) * c);
    if (dx.defined()) {
      cpu::parallel_sgemm(false, false, static_cast<int>(n), c, oc, 1.0f, dop, oc, wp, c, 0.0f,
                          f32(k, "dx", dx, n * c), c);
    }
    cpu::parallel_sgemm(true, false, oc, c, static_cast<int>(n), 1.0f, dop, oc, xp, c, 1.0f, dwp,
                        c);
    if (db.defined()) {
      cpu::column_sums_accumulate(dop, static_cast<int>(n), oc, f32(k, "db", db, oc), scratch_);
    }
  }

  void layernorm_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out,
                         const Tensor& mean, const Tensor& rstd) override {
    const char* k = "layernorm_forward";
    int c = static_cast<int>(w.numel());
    std::int64_t n = x.numel() / c;
    cpu::layernorm_forward(f32(k, "x", x, n * c), f32(k, "w", w, c), f32(k, "b", b, c),
                           f32(k, "out", out, n * c), f32(k, "mean", mean, n),
                           f32(k, "rstd", rstd, n), static_cast<int>(n), c);
  }

  void layernorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& mean,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dw,
                          const Tensor& db) override {
    const char* k = "layernorm_backward";
    int c = static_cast<int>(w.numel());
    std::int64_t n = x.numel() / c;
    cpu::layernorm_backward(f32(k, "dout", dout, n * c), f32(k, "x", x, n * c), f32(k, "w", w, c),
                            f32(k, "mean", mean, n), f32(k, "rstd", rstd, n),
                            f32(k, "dx", dx, n * c), f32(k, "dw", dw, c), f32(k, "db", db, c),
                            static_cast<int>(n), c, scratch_);
  }

  void layernorm_shard_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                const Tensor& mean, const Tensor& rstd, const Tensor& dsums,
                                const Tensor& dx, const Tensor& dw, const Tensor& db) override {
    const char* k = "layernorm_shard_backward";
    const int n = dim(k, x, 2, 0), c = dim(k, x, 2, 1);
    const std::int64_t nc = static_cast<std::int64_t>(n) * c;
    cpu::layernorm_shard_backward(
        f32(k, "dout", dout, nc), f32(k, "x", x, -1), f32(k, "w", w, c), f32(k, "mean", mean, n),
        f32(k, "rstd", rstd, n), f32(k, "dsums", dsums, 2 * static_cast<std::int64_t>(n)),
        f32(k, "dx", dx, nc), f32(k, "dw", dw, c), f32(k, "db", db, c), n, c, scratch_);
  }

  void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& rstd,
                        const Tensor& dx, const Tensor& dw) override {
    const char* k = "rmsnorm_backward";
    const RowsShape s = rmsnorm(k, x, w, rstd);
    cpu::rmsnorm_backward(f32_shaped(k, "dout", dout, x.shape()), x.data<float>(), w.data<float>(),
                          rstd.data<float>(), f32_shaped(k, "dx", dx, x.shape()),
                          f32_shaped(k, "dw", dw, w.shape()), s.rows, s.cols, scratch_);
  }

  void attention_forward(const Tensor& qkv, int heads, const Tensor& out,
                         const Tensor& probs) override {
    const char* k = "attention_forward";
    int B = dim(k, qkv, 3, 0), T = dim(k, qkv, 3, 1), C = dim(k, qkv, 3, 2) / 3;
    check_heads(k, C, heads);
    const float* q = f32(k, "qkv", qkv, static_cast<std::int64_t>(B) * T * 3 * C);
    float* o = f32(k, "out", out, static_cast<std::int64_t>(B) * T * C);
    float* p = f32(k, "probs", probs, static_cast<std::int64_t>(B) * heads * T * T);
    cpu::attention_forward(q, o, p, B, T, C, heads);
  }

  void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs, int heads,
                          const Tensor& dqkv) override {
    const char* k = "attention_backward";
    int B = dim(k, qkv, 3, 0), T = dim(k, qkv, 3, 1), C = dim(k, qkv, 3, 2) / 3;
    check_heads(k, C, heads);
    std::int64_t n = static_cast<std::int64_t>(B) * T;
    const float* d = f32(k, "dout", dout, n * C);
    const float* q = f32(k, "qkv", qkv, n * 3 * C);
    const float* p = f32(k, "probs", probs, static_cast<std::int64_t>(B) * heads * T * T);
    float* dq = f32(k, "dqkv", dqkv, n * 3 * C);
    cpu::attention_backward(d, q, p, dq, B, T, C, heads, scratch_);
  }

  double xent_loss_sum(const Tensor& max, const Tensor& sumexp,
                       const Tensor& target_logit) override {
    const char* k = "xent_loss_sum";
    std::int64_t n = max.numel();
    return cpu::xent_loss_sum(f32(k, "max", max, n), f32(k, "sumexp", sumexp, n),
                              f32(k, "target_logit", target_logit, n), static_cast<int>(n));
  }

  void adamw(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
             const AdamWStep& s) override {
    const char* k = "adamw";
    std::int64_t n = param.numel();
    cpu::adamw(f32(k, "param", param, n), f32(k, "grad", grad, n), f32(k, "m", m, n),
               f32(k, "v", v, n), n, s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.step);
  }

 private:
  int threads_ = 1;
  cpu::Scratch scratch_;
};

}  // namespace

std::shared_ptr<Kernels> make_cpu_kernels(int threads) {
  return std::make_shared<CpuKernels>(threads);
}

}  // namespace trellis
