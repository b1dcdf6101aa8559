#include "bf16_emulation.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "forwarding_kernels.h"

namespace trellis::gpu_test {

float round_to_bf16(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7f800000u) == 0x7f800000u) return x;  // inf or NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);              // to nearest, ties to even
  bits &= 0xffff0000u;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

namespace {

class Bf16ProductKernels final : public ForwardingKernels {
 public:
  explicit Bf16ProductKernels(std::shared_ptr<Kernels> cpu)
      : ForwardingKernels(std::move(cpu)), allocator_(make_cpu_allocator()) {}

  void matmul(const Tensor& a, bool ta, const Tensor& b, bool tb, const Tensor& out, float alpha,
              float beta) override {
    inner().matmul(rounded(a), ta, rounded(b), tb, out, alpha, beta);
  }

  // out = bf(x) bf(w)^T, then + b in fp32 (the bias is not a product's operand).
  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                      const Tensor& out) override {
    inner().linear_forward(rounded(x), rounded(w), b, out);
  }

  // dx = bf(dout) bf(w); dw += bf(dout)^T bf(x); db += column sums of dout in fp32.
  void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                       const Tensor& dw, const Tensor& db) override {
    const std::int64_t oc = w.size(0), c = w.size(1), n = x.numel() / c;
    const Tensor d = rounded(dout).view({n, oc});
    if (dx.defined()) inner().matmul(d, false, rounded(w), false, dx.view({n, c}), 1.0f, 0.0f);
    inner().matmul(d, true, rounded(x).view({n, c}), false, dw, 1.0f, 1.0f);
    if (db.defined()) {
      const float* g = dout.data<float>();
      float* sums = db.data<float>();
      for (std::int64_t j = 0; j < oc; ++j) {
        float sum = 0.0f;
        for (std::int64_t r = 0; r < n; ++r) sum += g[r * oc + j];
        sums[j] += sum;
      }
    }
  }

  // Per sequence and head: probs = causal softmax(bf(q) bf(k)^T / sqrt(hs)) in fp32,
  // out = bf(probs) bf(v).
  void attention_forward(const Tensor& qkv, int heads, const Tensor& out,
                         const Tensor& probs) override {
    const std::int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, hs = C / heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    const Tensor rows = rounded(qkv).view({B * T, 3 * C});
    const Tensor out_rows = out.view({B * T, C});
    const Tensor probs_rows = probs.view({B * heads * T, T});
    for (std::int64_t b = 0; b < B; ++b) {
      const Tensor seq = rows.narrow(0, b * T, T);
      for (std::int64_t h = 0; h < heads; ++h) {
        const Tensor p = probs_rows.narrow(0, (b * heads + h) * T, T);
        inner().matmul(seq.narrow(1, h * hs, hs), false, seq.narrow(1, C + h * hs, hs), true, p,
                       scale, 0.0f);
        causal_softmax(p.data<float>(), T);
        inner().matmul(rounded(p), false, seq.narrow(1, 2 * C + h * hs, hs), false,
                       out_rows.narrow(0, b * T, T).narrow(1, h * hs, hs), 1.0f, 0.0f);
      }
    }
  }

  // dv = bf(probs)^T bf(dout); dprobs = bf(dout) bf(v)^T; dscores = softmax backward in fp32;
  // dq = bf(dscores) bf(k) / sqrt(hs); dk = bf(dscores)^T bf(q) / sqrt(hs).
  void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs, int heads,
                          const Tensor& dqkv) override {
    const std::int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, hs = C / heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    const Tensor rows = rounded(qkv).view({B * T, 3 * C});
    const Tensor d_rows = rounded(dout).view({B * T, C});
    const Tensor dq_rows = dqkv.view({B * T, 3 * C});
    const Tensor probs_rows = probs.view({B * heads * T, T});
    const Tensor ds = Tensor::empty({T, T}, DType::f32, allocator_);
    for (std::int64_t b = 0; b < B; ++b) {
      const Tensor seq = rows.narrow(0, b * T, T), d_seq = d_rows.narrow(0, b * T, T);
      const Tensor dq_seq = dq_rows.narrow(0, b * T, T);
      for (std::int64_t h = 0; h < heads; ++h) {
        const Tensor p = probs_rows.narrow(0, (b * heads + h) * T, T);
        const Tensor d = d_seq.narrow(1, h * hs, hs);
        inner().matmul(rounded(p), true, d, false, dq_seq.narrow(1, 2 * C + h * hs, hs), 1.0f,
                       0.0f);
        inner().matmul(d, false, seq.narrow(1, 2 * C + h * hs, hs), true, ds, 1.0f, 0.0f);
        causal_softmax_backward(p.data<float>(), ds.data<float>(), T);
        const Tensor rds = rounded(ds);
        inner().matmul(rds, false, seq.narrow(1, C + h * hs, hs), false,
                       dq_seq.narrow(1, h * hs, hs), scale, 0.0f);
        inner().matmul(rds, true, seq.narrow(1, h * hs, hs), false,
                       dq_seq.narrow(1, C + h * hs, hs), scale, 0.0f);
      }
    }
  }

 private:
  // A contiguous copy of `t` (contiguous, or a 2-D view with strided rows) rounded to bf16.
  Tensor rounded(const Tensor& t) const {
    Tensor copy = Tensor::empty(t.shape(), DType::f32, allocator_);
    float* to = copy.data<float>();
    const float* from = t.data<float>();
    if (t.is_contiguous()) {
      for (std::int64_t i = 0; i < t.numel(); ++i) to[i] = round_to_bf16(from[i]);
      return copy;
    }
    const std::int64_t rows = t.size(0), cols = t.size(1), ld = t.strides()[0];
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t c = 0; c < cols; ++c) to[r * cols + c] = round_to_bf16(from[r * ld + c]);
    }
    return copy;
  }

  // Row t of the T x T block sees keys 0..t, as the CUDA kernel computes it.
  static void causal_softmax(float* scores, std::int64_t T) {
    for (std::int64_t t = 0; t < T; ++t) {
      float* row = scores + t * T;
      float max = -INFINITY;
      for (std::int64_t j = 0; j <= t; ++j) max = std::fmax(max, row[j]);
      float sum = 0.0f;
      for (std::int64_t j = 0; j <= t; ++j) {
        row[j] = std::exp(row[j] - max);
        sum += row[j];
      }
      const float inv = 1.0f / sum;
      for (std::int64_t j = 0; j < T; ++j) row[j] = j <= t ? row[j] * inv : 0.0f;
    }
  }

  static void causal_softmax_backward(const float* probs, float* dprobs, std::int64_t T) {
    for (std::int64_t t = 0; t < T; ++t) {
      const float* p = probs + t * T;
      float* d = dprobs + t * T;
      float dot = 0.0f;
      for (std::int64_t j = 0; j <= t; ++j) dot += p[j] * d[j];
      for (std::int64_t j = 0; j < T; ++j) d[j] = j <= t ? p[j] * (d[j] - dot) : 0.0f;
    }
  }

  std::shared_ptr<Allocator> allocator_;
};

}  // namespace

std::shared_ptr<Kernels> make_bf16_emulating_kernels(std::shared_ptr<Kernels> cpu) {
  return std::make_shared<Bf16ProductKernels>(std::move(cpu));
}

}  // namespace trellis::gpu_test
