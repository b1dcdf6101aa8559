#include "bf16_bounds.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace trellis::gpu_test {

namespace {

// A host matrix in double: a 2-D view (contiguous rows, any row stride), transposed when asked.
struct Matrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> v;
  double at(std::int64_t r, std::int64_t c) const { return v[r * cols + c]; }
};

Matrix absolute(const Tensor& t, bool transpose) {
  const std::int64_t rows = t.size(0), cols = t.size(1), ld = t.strides()[0];
  const float* data = t.data<float>();
  Matrix m{transpose ? cols : rows, transpose ? rows : cols, {}};
  m.v.resize(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const double x = std::fabs(static_cast<double>(data[r * ld + c]));
      m.v[static_cast<std::size_t>(transpose ? c * rows + r : r * cols + c)] = x;
    }
  }
  return m;
}

// S = |A| |B|: the sums of |a||b| each element of A B adds up.
Matrix magnitude_product(const Matrix& a, const Matrix& b) {
  Matrix s{a.rows, b.cols, std::vector<double>(static_cast<std::size_t>(a.rows * b.cols), 0.0)};
  for (std::int64_t i = 0; i < a.rows; ++i) {
    for (std::int64_t k = 0; k < a.cols; ++k) {
      const double x = a.at(i, k);
      for (std::int64_t j = 0; j < b.cols; ++j) s.v[i * b.cols + j] += x * b.at(k, j);
    }
  }
  return s;
}

double magnitude(const Tensor& t, std::int64_t i) {
  return t.defined() ? std::fabs(static_cast<double>(t.data<float>()[i])) : 0.0;
}

// The probabilities' fp32 evaluation on one device, relative to p: the exponent's subtraction
// (u |s - max|), exp itself (2 ulp: 4u), the row's sum (gamma_T, plus the errors of the terms
// it adds, at most u |s_l - max| + 4u each) and the division (2u). Both devices: twice that.
double f32_softmax_error(double distance, double widest, double T) {
  return 2.0 * 1.01 * kF32Unit * (distance + widest + T + 8.0);
}

}  // namespace

double gamma(double n, double unit) {
  return n * unit / (1.0 - n * unit);
}

double bf16_product_error(double K) {
  const double u = kBf16Unit;
  return 2.0 * u + u * u + (1.0 + u) * (1.0 + u) * gamma(2.0 * K + 1.0, kAccumulationUnit);
}

double f32_product_error(double K) {
  return gamma(K + 1.0, kF32Unit);
}

std::vector<double> matmul_bound(const Tensor& a, bool ta, const Tensor& b, bool tb, float alpha,
                                 float beta, const Tensor& out_before) {
  const Matrix s = magnitude_product(absolute(a, ta), absolute(b, tb));
  const double K = static_cast<double>(ta ? a.size(0) : a.size(1));
  const double product = bf16_product_error(K) + f32_product_error(K);
  const std::int64_t ld = out_before.defined() ? out_before.strides()[0] : 0;
  std::vector<double> bound(s.v.size());
  for (std::int64_t i = 0; i < s.rows; ++i) {
    for (std::int64_t j = 0; j < s.cols; ++j) {
      const double scaled = std::fabs(alpha) * s.at(i, j);
      const double kept = beta == 0.0f ? 0.0 : std::fabs(beta) * magnitude(out_before, i * ld + j);
      // beta out_before is added in fp32 on both devices (two roundings each).
      bound[static_cast<std::size_t>(i * s.cols + j)] =
          product * scaled + 2.0 * gamma(2.0, kF32Unit) * (scaled + kept);
    }
  }
  return bound;
}

std::vector<double> linear_forward_bound(const Tensor& x, const Tensor& w, const Tensor& b) {
  const std::int64_t oc = w.size(0), c = w.size(1), n = x.numel() / c;
  const Matrix s = magnitude_product(absolute(x.view({n, c}), false), absolute(w, true));
  const double product =
      bf16_product_error(static_cast<double>(c)) + f32_product_error(static_cast<double>(c));
  std::vector<double> bound(s.v.size());
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < oc; ++j) {
      const double sum = s.at(i, j);
      // The bias is added in fp32 on both devices.
      bound[static_cast<std::size_t>(i * oc + j)] =
          product * sum + 2.0 * kF32Unit * (sum + magnitude(b, j));
    }
  }
  return bound;
}

LinearBackwardBounds linear_backward_bounds(const Tensor& dout, const Tensor& x, const Tensor& w,
                                            const Tensor& dw_before, const Tensor& db_before) {
  const std::int64_t oc = w.size(0), c = w.size(1), n = x.numel() / c;
  const Tensor d = dout.view({n, oc}), rows = x.view({n, c});
  LinearBackwardBounds out;
  out.dx = matmul_bound(d, false, w, false, 1.0f, 0.0f, Tensor());
  out.dw = matmul_bound(d, true, rows, false, 1.0f, 1.0f, dw_before);
  // Column sums in fp32 on both devices, in different orders: gamma_n of the sum of magnitudes,
  // each; then one more rounding adding them to db_before.
  out.db.assign(static_cast<std::size_t>(oc), 0.0);
  const float* g = d.data<float>();
  for (std::int64_t j = 0; j < oc; ++j) {
    double sum = 0.0;
    for (std::int64_t r = 0; r < n; ++r) sum += std::fabs(static_cast<double>(g[r * oc + j]));
    out.db[static_cast<std::size_t>(j)] =
        2.0 * gamma(static_cast<double>(n) + 1.0, kF32Unit) * (sum + magnitude(db_before, j));
  }
  return out;
}

namespace {

// One (sequence, head) of qkv[B,T,3C], in double: rows of q, k and v, hs values each.
struct Head {
  std::int64_t T, hs;
  std::vector<double> q, k, v;
  double at(const std::vector<double>& m, std::int64_t row, std::int64_t d) const {
    return m[static_cast<std::size_t>(row * hs + d)];
  }
};

Head head_of(const Tensor& qkv, std::int64_t b, std::int64_t h, int heads) {
  const std::int64_t T = qkv.size(1), C = qkv.size(2) / 3, hs = C / heads;
  Head head{T, hs, {}, {}, {}};
  const float* base = qkv.data<float>() + b * T * 3 * C;
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t d = 0; d < hs; ++d) {
      head.q.push_back(base[t * 3 * C + h * hs + d]);
      head.k.push_back(base[t * 3 * C + C + h * hs + d]);
      head.v.push_back(base[t * 3 * C + 2 * C + h * hs + d]);
    }
  }
  return head;
}

// The bound on |device probability - CPU probability| of each element of one head's T x T
// block: the score errors E of the row (both devices' products) carried through the softmax,
// plus both devices' fp32 evaluation of it. Zero past the diagonal (both write exact zeros).
std::vector<double> probability_bounds(const Head& head, const float* probs, double scale) {
  const std::int64_t T = head.T;
  const double score_error = bf16_product_error(static_cast<double>(head.hs)) +
                             f32_product_error(static_cast<double>(head.hs));
  std::vector<double> bound(static_cast<std::size_t>(T * T), 0.0);
  std::vector<double> score(static_cast<std::size_t>(T));
  for (std::int64_t i = 0; i < T; ++i) {
    double widest_error = 0.0, max = -INFINITY, min = INFINITY;
    for (std::int64_t j = 0; j <= i; ++j) {
      double s = 0.0, magnitude = 0.0;
      for (std::int64_t d = 0; d < head.hs; ++d) {
        s += head.at(head.q, i, d) * head.at(head.k, j, d);
        magnitude += std::fabs(head.at(head.q, i, d) * head.at(head.k, j, d));
      }
      score[static_cast<std::size_t>(j)] = scale * s;
      widest_error = std::max(widest_error, score_error * scale * magnitude);
      max = std::max(max, scale * s);
      min = std::min(min, scale * s);
    }
    const double grow = std::expm1(2.0 * widest_error);
    for (std::int64_t j = 0; j <= i; ++j) {
      const double p = probs[i * T + j];
      const double f32 = f32_softmax_error(max - score[static_cast<std::size_t>(j)], max - min,
                                           static_cast<double>(T));
      bound[static_cast<std::size_t>(i * T + j)] = p * grow + p * (1.0 + grow) * f32;
    }
  }
  return bound;
}

}  // namespace

AttentionBounds attention_forward_bounds(const Tensor& qkv, int heads, const Tensor& probs) {
  const std::int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, hs = C / heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  const double product = bf16_product_error(static_cast<double>(T));
  const double product32 = f32_product_error(static_cast<double>(T));
  AttentionBounds out;
  out.probs.reserve(static_cast<std::size_t>(B * heads * T * T));
  out.out.assign(static_cast<std::size_t>(B * T * C), 0.0);
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t h = 0; h < heads; ++h) {
      const Head head = head_of(qkv, b, h, heads);
      const float* p = probs.data<float>() + (b * heads + h) * T * T;
      const std::vector<double> dp = probability_bounds(head, p, scale);
      out.probs.insert(out.probs.end(), dp.begin(), dp.end());
      // out = probs v: the device multiplies its own probabilities (within dp of the CPU's).
      for (std::int64_t i = 0; i < T; ++i) {
        for (std::int64_t d = 0; d < hs; ++d) {
          double moved = 0.0, rounded = 0.0, f32 = 0.0;
          for (std::int64_t j = 0; j <= i; ++j) {
            const double v = std::fabs(head.at(head.v, j, d)), pij = p[i * T + j];
            const double e = dp[static_cast<std::size_t>(i * T + j)];
            moved += e * v;
            rounded += (pij + e) * v;
            f32 += pij * v;
          }
          out.out[static_cast<std::size_t>((b * T + i) * C + h * hs + d)] =
              moved + product * rounded + product32 * f32;
        }
      }
    }
  }
  return out;
}

std::vector<double> attention_backward_bound(const Tensor& dout, const Tensor& qkv,
                                             const Tensor& probs,
                                             const std::vector<double>& probs_bound, int heads) {
  const std::int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, hs = C / heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  const double dp_error =
      bf16_product_error(static_cast<double>(hs)) + f32_product_error(static_cast<double>(hs));
  const double product = bf16_product_error(static_cast<double>(T));
  const double product32 = f32_product_error(static_cast<double>(T));
  const double row_sum = 2.0 * gamma(static_cast<double>(T) + 1.0, kF32Unit);
  const double three = 2.0 * gamma(3.0, kF32Unit);
  std::vector<double> bound(static_cast<std::size_t>(B * T * 3 * C), 0.0);
  const std::size_t tt = static_cast<std::size_t>(T * T);
  std::vector<double> ds(tt), ds_error(tt), dprobs(tt), dprobs_error(tt);
  for (std::int64_t b = 0; b < B; ++b) {
    const float* g = dout.data<float>() + b * T * C;
    for (std::int64_t h = 0; h < heads; ++h) {
      const Head head = head_of(qkv, b, h, heads);
      const float* p = probs.data<float>() + (b * heads + h) * T * T;
      const double* dp = probs_bound.data() + (b * heads + h) * T * T;
      auto grad = [&](std::int64_t t, std::int64_t d) {
        return static_cast<double>(g[t * C + h * hs + d]);
      };
      // dprobs = dout v^T, a product of exact inputs; dot = sum_j p dprobs; ds = p (dprobs - dot).
      for (std::int64_t i = 0; i < T; ++i) {
        double dot = 0.0;
        for (std::int64_t j = 0; j <= i; ++j) {
          double s = 0.0, magnitude = 0.0;
          for (std::int64_t d = 0; d < hs; ++d) {
            s += grad(i, d) * head.at(head.v, j, d);
            magnitude += std::fabs(grad(i, d) * head.at(head.v, j, d));
          }
          dprobs[static_cast<std::size_t>(i * T + j)] = s;
          dprobs_error[static_cast<std::size_t>(i * T + j)] = dp_error * magnitude;
          dot += p[i * T + j] * s;
        }
        double dot_error = 0.0, dot_terms = 0.0;
        for (std::int64_t j = 0; j <= i; ++j) {
          const std::size_t at = static_cast<std::size_t>(i * T + j);
          const double pij = p[i * T + j], e = dp[at];
          dot_error += e * (std::fabs(dprobs[at]) + dprobs_error[at]) + pij * dprobs_error[at];
          dot_terms += (pij + e) * (std::fabs(dprobs[at]) + dprobs_error[at]);
        }
        dot_error += row_sum * dot_terms;
        for (std::int64_t j = 0; j < T; ++j) {
          const std::size_t at = static_cast<std::size_t>(i * T + j);
          if (j > i) {
            ds[at] = ds_error[at] = 0.0;
            continue;
          }
          const double pij = p[i * T + j], e = dp[at];
          ds[at] = pij * (dprobs[at] - dot);
          ds_error[at] =
              e * (std::fabs(dprobs[at] - dot) + dprobs_error[at] + dot_error) +
              pij * (dprobs_error[at] + dot_error) +
              three * (pij + e) *
                  (std::fabs(dprobs[at]) + std::fabs(dot) + dprobs_error[at] + dot_error);
        }
      }
      // dq = ds k scale; dk = ds^T q scale; dv = probs^T dout: each device multiplies its own
      // ds and probabilities (within ds_error and dp of the CPU's).
      for (std::int64_t t = 0; t < T; ++t) {
        for (std::int64_t d = 0; d < hs; ++d) {
          double q_moved = 0, q_rounded = 0, q_f32 = 0;
          for (std::int64_t j = 0; j <= t; ++j) {
            const std::size_t at = static_cast<std::size_t>(t * T + j);
            const double k = std::fabs(head.at(head.k, j, d));
            q_moved += ds_error[at] * k;
            q_rounded += (std::fabs(ds[at]) + ds_error[at]) * k;
            q_f32 += std::fabs(ds[at]) * k;
          }
          double k_moved = 0, k_rounded = 0, k_f32 = 0, v_moved = 0, v_rounded = 0, v_f32 = 0;
          for (std::int64_t i = t; i < T; ++i) {
            const std::size_t at = static_cast<std::size_t>(i * T + t);
            const double q = std::fabs(head.at(head.q, i, d)), gi = std::fabs(grad(i, d));
            k_moved += ds_error[at] * q;
            k_rounded += (std::fabs(ds[at]) + ds_error[at]) * q;
            k_f32 += std::fabs(ds[at]) * q;
            v_moved += dp[at] * gi;
            v_rounded += (p[i * T + t] + dp[at]) * gi;
            v_f32 += p[i * T + t] * gi;
          }
          double* row = bound.data() + (b * T + t) * 3 * C + h * hs + d;
          row[0] = scale * (q_moved + product * q_rounded + product32 * q_f32);
          row[C] = scale * (k_moved + product * k_rounded + product32 * k_f32);
          row[2 * C] = v_moved + product * v_rounded + product32 * v_f32;
        }
      }
    }
  }
  return bound;
}

}  // namespace trellis::gpu_test

namespace trellis::gpu_test {

namespace {

// <|x|, |y|> over two tensors (or 2-D views) of one shape.
double magnitude_dot(const Tensor& x, const Tensor& y) {
  const Matrix a = absolute(
      x.rank() == 2 ? x : x.view({x.numel() / x.size(x.rank() - 1), x.size(x.rank() - 1)}), false);
  const Matrix b = absolute(
      y.rank() == 2 ? y : y.view({y.numel() / y.size(y.rank() - 1), y.size(y.rank() - 1)}), false);
  double sum = 0.0;
  for (std::size_t i = 0; i < a.v.size(); ++i) sum += a.v[i] * b.v[i];
  return sum;
}

double accumulation_error(double K) {
  const double u = kBf16Unit;
  return u * u + (1.0 + u) * (1.0 + u) * gamma(2.0 * K + 1.0, kAccumulationUnit) +
         gamma(K + 1.0, kF32Unit);
}

}  // namespace

double loss_change_bound(const Tensor& a, bool ta, const Tensor& b, bool tb, float alpha,
                         const Tensor& da, const Tensor& db, const Tensor& dout) {
  const Matrix s = magnitude_product(absolute(a, ta), absolute(b, tb));
  const Matrix g = absolute(dout, false);
  double weighted = 0.0;
  for (std::size_t i = 0; i < s.v.size(); ++i) weighted += s.v[i] * g.v[i];
  const double K = static_cast<double>(ta ? a.size(0) : a.size(1));
  return kBf16Unit * (magnitude_dot(a, da) + magnitude_dot(b, db)) +
         accumulation_error(K) * std::fabs(alpha) * weighted;
}

double attention_loss_change_bound(const Tensor& qkv, const Tensor& probs, const Tensor& dout,
                                   const Tensor& dqkv, int heads) {
  const std::int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3, hs = C / heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  const double u = kBf16Unit;
  double bound = 0.0;
  std::vector<double> dprobs(static_cast<std::size_t>(T * T)),
      magnitudes(static_cast<std::size_t>(T));
  for (std::int64_t b = 0; b < B; ++b) {
    const float* g = dout.data<float>() + b * T * C;
    const float* dq = dqkv.data<float>() + b * T * 3 * C;
    for (std::int64_t h = 0; h < heads; ++h) {
      const Head head = head_of(qkv, b, h, heads);
      const float* p = probs.data<float>() + (b * heads + h) * T * T;
      auto grad = [&](std::int64_t t, std::int64_t d) {
        return static_cast<double>(g[t * C + h * hs + d]);
      };
      auto dqkv_at = [&](std::int64_t t, std::int64_t part, std::int64_t d) {
        return std::fabs(static_cast<double>(dq[t * 3 * C + part * C + h * hs + d]));
      };
      // Operands against their gradients: q, k (scores) and v (out), then probs against
      // dprobs = dout v^T (out).
      for (std::int64_t t = 0; t < T; ++t) {
        for (std::int64_t d = 0; d < hs; ++d) {
          bound += u * (std::fabs(head.at(head.q, t, d)) * dqkv_at(t, 0, d) +
                        std::fabs(head.at(head.k, t, d)) * dqkv_at(t, 1, d) +
                        std::fabs(head.at(head.v, t, d)) * dqkv_at(t, 2, d));
        }
      }
      for (std::int64_t i = 0; i < T; ++i) {
        double dot = 0.0, widest = 0.0;
        for (std::int64_t j = 0; j <= i; ++j) {
          double s = 0.0, qk = 0.0;
          for (std::int64_t d = 0; d < hs; ++d) {
            s += grad(i, d) * head.at(head.v, j, d);
            qk += std::fabs(head.at(head.q, i, d) * head.at(head.k, j, d));
          }
          dprobs[static_cast<std::size_t>(i * T + j)] = s;
          magnitudes[static_cast<std::size_t>(j)] = scale * qk;
          widest = std::max(widest, scale * qk);
          dot += p[i * T + j] * s;
          bound += u * p[i * T + j] * std::fabs(s);
        }
        // The accumulation of the scores weighted by |dL/dscores| = |p (dprobs - dot)|; the fp32
        // softmax's rounding of p (scores within 2 * widest of the row's max) weighted by
        // |dL/dp| = |dprobs|.
        for (std::int64_t j = 0; j <= i; ++j) {
          const double pij = p[i * T + j], dp = dprobs[static_cast<std::size_t>(i * T + j)];
          bound += accumulation_error(static_cast<double>(hs)) *
                   magnitudes[static_cast<std::size_t>(j)] * std::fabs(pij * (dp - dot));
          bound += f32_softmax_error(2.0 * widest, 2.0 * widest, static_cast<double>(T)) * pij *
                   std::fabs(dp);
        }
        for (std::int64_t d = 0; d < hs; ++d) {
          double pv = 0.0;
          for (std::int64_t j = 0; j <= i; ++j)
            pv += p[i * T + j] * std::fabs(head.at(head.v, j, d));
          bound += accumulation_error(static_cast<double>(T)) * pv * std::fabs(grad(i, d));
        }
      }
    }
  }
  return bound;
}

double f32_loss_change_bound(const Tensor& x, const Tensor& dx, double roundings) {
  return 2.0 * roundings * kF32Unit * magnitude_dot(x, dx);
}

}  // namespace trellis::gpu_test
