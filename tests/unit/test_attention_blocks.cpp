// Causal attention against a direct double-precision evaluation, at sequence lengths that cut the
// kernel's query blocks unevenly (the golden files cover short sequences only).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

using namespace trellis;

namespace {

struct Reference {
  std::vector<double> out, dqkv;
};

// out = softmax(q k^T / sqrt(hs), causal) v per head; dqkv from dout by the chain rule.
Reference reference(const std::vector<float>& qkv, const std::vector<float>& dout, int B, int T,
                    int C, int NH) {
  const int hs = C / NH;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  Reference r{std::vector<double>(static_cast<std::size_t>(B) * T * C, 0.0),
              std::vector<double>(static_cast<std::size_t>(B) * T * 3 * C, 0.0)};
  auto at = [&](int b, int t, int part, int h, int d) {
    return static_cast<std::size_t>((b * T + t) * 3 * C + part * C + h * hs + d);
  };
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h) {
      std::vector<double> P(static_cast<std::size_t>(T) * T, 0.0);
      for (int t = 0; t < T; ++t) {
        double max = -1e300;
        for (int j = 0; j <= t; ++j) {
          double s = 0;
          for (int d = 0; d < hs; ++d) s += double(qkv[at(b, t, 0, h, d)]) * qkv[at(b, j, 1, h, d)];
          P[t * T + j] = s * scale;
          max = std::max(max, P[t * T + j]);
        }
        double sum = 0;
        for (int j = 0; j <= t; ++j) sum += (P[t * T + j] = std::exp(P[t * T + j] - max));
        for (int j = 0; j <= t; ++j) P[t * T + j] /= sum;
        for (int d = 0; d < hs; ++d) {
          double o = 0;
          for (int j = 0; j <= t; ++j) o += P[t * T + j] * qkv[at(b, j, 2, h, d)];
          r.out[(b * T + t) * C + h * hs + d] = o;
        }
      }
      for (int t = 0; t < T; ++t) {
        std::vector<double> dP(t + 1);
        double dot = 0;
        for (int j = 0; j <= t; ++j) {
          double s = 0;
          for (int d = 0; d < hs; ++d)
            s += double(dout[(b * T + t) * C + h * hs + d]) * qkv[at(b, j, 2, h, d)];
          dP[j] = s;
          dot += s * P[t * T + j];
        }
        for (int j = 0; j <= t; ++j) {
          double dS = P[t * T + j] * (dP[j] - dot) * scale;
          for (int d = 0; d < hs; ++d) {
            r.dqkv[at(b, t, 0, h, d)] += dS * qkv[at(b, j, 1, h, d)];
            r.dqkv[at(b, j, 1, h, d)] += dS * qkv[at(b, t, 0, h, d)];
            r.dqkv[at(b, j, 2, h, d)] += P[t * T + j] * dout[(b * T + t) * C + h * hs + d];
          }
        }
      }
    }
  return r;
}

}  // namespace

TEST_CASE("causal attention matches a direct evaluation across query blocks") {
  for (int T : {1, 31, 32, 33, 70, 128}) {
    CAPTURE(T);
    const int B = 2, C = 24, NH = 3;
    std::mt19937 rng(T);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto alloc = make_cpu_allocator();
    Tensor qkv = Tensor::empty({B, T, 3 * C}, DType::f32, alloc);
    Tensor dout = Tensor::empty({B, T, C}, DType::f32, alloc);
    std::vector<float> qkv_v(qkv.numel()), dout_v(dout.numel());
    for (auto& x : qkv_v) x = normal(rng);
    for (auto& x : dout_v) x = normal(rng);
    std::copy(qkv_v.begin(), qkv_v.end(), qkv.data<float>());
    std::copy(dout_v.begin(), dout_v.end(), dout.data<float>());
    Reference ref = reference(qkv_v, dout_v, B, T, C, NH);
    for (int threads : {1, 2}) {
      auto k = make_cpu_kernels(threads);
      Tensor out = Tensor::empty({B, T, C}, DType::f32, alloc);
      Tensor probs = Tensor::empty({B, NH, T, T}, DType::f32, alloc);
      Tensor dqkv = Tensor::empty({B, T, 3 * C}, DType::f32, alloc);
      // Garbage in the outputs: every element must be written.
      k->fill(out, std::nanf(""));
      k->fill(dqkv, std::nanf(""));
      k->attention_forward(qkv, NH, out, probs);
      k->attention_backward(dout, qkv, probs, NH, dqkv);
      double err = 0, scale = 0;
      for (std::size_t i = 0; i < ref.out.size(); ++i) {
        err = std::max(err, std::abs(out.data<float>()[i] - ref.out[i]));
        scale = std::max(scale, std::abs(ref.out[i]));
      }
      CHECK(err <= 1e-5 * scale);
      err = scale = 0;
      for (std::size_t i = 0; i < ref.dqkv.size(); ++i) {
        err = std::max(err, std::abs(dqkv.data<float>()[i] - ref.dqkv[i]));
        scale = std::max(scale, std::abs(ref.dqkv[i]));
      }
      CHECK(err <= 1e-5 * scale);
    }
  }
}
