#include "attention_bound.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "error_bound.h"

namespace trellis::test::numerics {

AttentionReference attention_reference(std::span<const float> qkv, std::span<const float> dout,
                                       int B, int T, int C, int NH) {
  if (qkv.size() != static_cast<std::size_t>(B) * T * 3 * C ||
      dout.size() != static_cast<std::size_t>(B) * T * C || NH <= 0 || C % NH != 0) {
    throw std::invalid_argument("attention_reference: inconsistent shapes");
  }
  const int hs = C / NH;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  AttentionReference r;
  r.batch = B, r.seq = T, r.channels = C, r.heads = NH;
  const std::size_t n = static_cast<std::size_t>(B) * T;
  r.out.assign(n * C, 0.0);
  r.out_magnitude.assign(n * C, 0.0);
  r.lse.assign(static_cast<std::size_t>(B) * NH * T, 0.0);
  r.dqkv.assign(n * 3 * C, 0.0);
  r.dqkv_magnitude.assign(n * 3 * C, 0.0);
  auto at = [&](int b, int t, int part, int h, int d) {
    return (static_cast<std::size_t>(b) * T + t) * 3 * C + part * C + h * hs + d;
  };
  auto out_at = [&](int b, int t, int h, int d) {
    return (static_cast<std::size_t>(b) * T + t) * C + h * hs + d;
  };
  double max_abs_product = 0;
  std::vector<double> P(static_cast<std::size_t>(T) * T), dP(T), dP_abs(T);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h) {
      for (int t = 0; t < T; ++t) {
        double* p = P.data() + static_cast<std::size_t>(t) * T;
        double max = -HUGE_VAL;
        for (int j = 0; j <= t; ++j) {
          double s = 0, s_abs = 0;
          for (int d = 0; d < hs; ++d) {
            const double x = double(qkv[at(b, t, 0, h, d)]) * qkv[at(b, j, 1, h, d)];
            s += x;
            s_abs += std::abs(x);
          }
          p[j] = s * scale;
          max = std::max(max, p[j]);
          r.max_abs_score = std::max(r.max_abs_score, std::abs(p[j]));
          max_abs_product = std::max(max_abs_product, s_abs * scale);
        }
        double sum = 0;
        for (int j = 0; j <= t; ++j) sum += (p[j] = std::exp(p[j] - max));
        for (int j = 0; j <= t; ++j) p[j] /= sum;
        const double lse = max + std::log(sum);
        r.lse[(static_cast<std::size_t>(b) * NH + h) * T + t] = lse;
        r.max_abs_lse = std::max(r.max_abs_lse, std::abs(lse));
        for (int d = 0; d < hs; ++d) {
          double o = 0, o_abs = 0;
          for (int j = 0; j <= t; ++j) {
            const double v = qkv[at(b, j, 2, h, d)];
            o += p[j] * v;
            o_abs += p[j] * std::abs(v);
          }
          r.out[out_at(b, t, h, d)] = o;
          r.out_magnitude[out_at(b, t, h, d)] = o_abs;
        }
      }
      for (int t = 0; t < T; ++t) {
        const double* p = P.data() + static_cast<std::size_t>(t) * T;
        double dot = 0, dot_abs = 0;
        for (int j = 0; j <= t; ++j) {
          double s = 0, s_abs = 0;
          for (int d = 0; d < hs; ++d) {
            const double x = double(dout[out_at(b, t, h, d)]) * qkv[at(b, j, 2, h, d)];
            s += x;
            s_abs += std::abs(x);
          }
          dP[j] = s;
          dP_abs[j] = s_abs;
          dot += p[j] * s;
          dot_abs += 2 * p[j] * s_abs;  // D_i's magnitude, its error through out included
        }
        for (int j = 0; j <= t; ++j) {
          const double dS = p[j] * (dP[j] - dot) * scale;
          const double dS_abs = p[j] * (dP_abs[j] + dot_abs) * scale;
          for (int d = 0; d < hs; ++d) {
            const double q = qkv[at(b, t, 0, h, d)], k = qkv[at(b, j, 1, h, d)];
            const double g = dout[out_at(b, t, h, d)];
            r.dqkv[at(b, t, 0, h, d)] += dS * k;
            r.dqkv[at(b, j, 1, h, d)] += dS * q;
            r.dqkv[at(b, j, 2, h, d)] += p[j] * g;
            r.dqkv_magnitude[at(b, t, 0, h, d)] += dS_abs * std::abs(k);
            r.dqkv_magnitude[at(b, j, 1, h, d)] += dS_abs * std::abs(q);
            r.dqkv_magnitude[at(b, j, 2, h, d)] += p[j] * std::abs(g);
          }
        }
      }
    }
  r.score_error = gamma(hs + 2) * max_abs_product;
  return r;
}

AttentionBounds attention_bounds(const AttentionReference& r, int merges) {
  const double T = r.seq, m = merges, hs = static_cast<double>(r.channels) / r.heads;
  const double eta = 4 * r.score_error +
                     kUnitRoundoff * (4 * r.max_abs_score + 2 * r.max_abs_lse + 16 + 8 * m) +
                     gamma(T + 10);
  const double forward = eta + gamma(T + 3 * m + 4);
  const double backward = eta + gamma(2 * hs + 2 * T + 3 * m + 16);
  AttentionBounds bounds;
  bounds.out.resize(r.out_magnitude.size());
  std::transform(r.out_magnitude.begin(), r.out_magnitude.end(), bounds.out.begin(),
                 [&](double magnitude) { return forward * magnitude; });
  bounds.lse.assign(r.lse.size(), forward);
  bounds.dqkv.resize(r.dqkv_magnitude.size());
  std::transform(r.dqkv_magnitude.begin(), r.dqkv_magnitude.end(), bounds.dqkv.begin(),
                 [&](double magnitude) { return backward * magnitude; });
  return bounds;
}

}  // namespace trellis::test::numerics
