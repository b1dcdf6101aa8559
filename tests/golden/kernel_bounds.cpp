#include "kernel_bounds.h"

#include <algorithm>
#include <cmath>

#include "error_bound.h"

namespace trellis::test::numerics::kernel_bounds {

namespace {

constexpr double u = kUnitRoundoff;
constexpr double kExpUlps = 4.0;  // vexp's error, in ulps of its result
constexpr double kSqrt2OverPi = 0.7978845608028654, kCubic = 0.044715;

double g(double n) {
  return gamma(n);
}

}  // namespace

Values linear_out(const Values& x, const Values& w, const Values* b, std::int64_t n, std::int64_t c,
                  std::int64_t oc) {
  // K = c products, plus the bias added after: gamma(c + 1) times the sum of magnitudes.
  Values out(static_cast<std::size_t>(n * oc));
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t o = 0; o < oc; ++o) {
      double m = b ? std::abs((*b)[o]) : 0.0;
      for (std::int64_t k = 0; k < c; ++k) m += std::abs(x[r * c + k] * w[o * c + k]);
      out[r * oc + o] = g(static_cast<double>(c + (b ? 1 : 0))) * m;
    }
  }
  return out;
}

Values linear_dx(const Values& dout, const Values& w, std::int64_t n, std::int64_t c,
                 std::int64_t oc) {
  Values out(static_cast<std::size_t>(n * c));
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t k = 0; k < c; ++k) {
      double m = 0.0;
      for (std::int64_t o = 0; o < oc; ++o) m += std::abs(dout[r * oc + o] * w[o * c + k]);
      out[r * c + k] = g(static_cast<double>(oc)) * m;
    }
  }
  return out;
}

Values linear_dw(const Values& dout, const Values& x, const Values& prefill, int calls,
                 std::int64_t n, std::int64_t c, std::int64_t oc) {
  // The prefill plus `calls` sums of n products each, in whatever blocks sgemm adds them.
  Values out(static_cast<std::size_t>(oc * c));
  const double terms = static_cast<double>(calls * n + calls);
  for (std::int64_t o = 0; o < oc; ++o) {
    for (std::int64_t k = 0; k < c; ++k) {
      double m = 0.0;
      for (std::int64_t r = 0; r < n; ++r) m += std::abs(dout[r * oc + o] * x[r * c + k]);
      out[o * c + k] = g(terms) * (std::abs(prefill[o * c + k]) + calls * m);
    }
  }
  return out;
}

Values linear_db(const Values& dout, const Values& prefill, int calls, std::int64_t n,
                 std::int64_t oc) {
  Values out(static_cast<std::size_t>(oc));
  const double terms = static_cast<double>(calls * n + calls);
  for (std::int64_t o = 0; o < oc; ++o) {
    double m = 0.0;
    for (std::int64_t r = 0; r < n; ++r) m += std::abs(dout[r * oc + o]);
    out[o] = g(terms) * (std::abs(prefill[o]) + calls * m);
  }
  return out;
}

LayerNorm layernorm(const Values& x, const Values& w, const Values& b, const Values& dout,
                    const Values& prefill_dw, const Values& prefill_db, int calls, std::int64_t n,
                    std::int64_t c, double eps) {
  // Per row, exact mean mu, d = x - mu, var = mean(d^2), s = 1 / sqrt(var + eps):
  //   mean:  e_mu = gamma(c + 1) mean|x|                      (sum of c, divide)
  //   d_i:   e_d = e_mu + u (|x_i| + |mu|)                      (the subtraction)
  //   var:   e_var = gamma(c + 2) var + 2 mean(|d| e_d) + mean(e_d^2)
  //   rstd:  e_s = s (e_var / (2 (var + eps)) + gamma(3))     (+ eps, sqrt, divide)
  //   out:   |w| (e_d s + |d| e_s) + gamma(3) (|d s w| + |b|)
  // Backward, with norm = d s (e_n = e_d s + |d| e_s + 2u |d s|), dnorm = w dout:
  //   A = mean(dnorm):        e_A = gamma(c + 2) mean|dnorm|
  //   B = mean(dnorm norm):   e_B = gamma(c + 3) mean|dnorm norm| + mean(|dnorm| e_n)
  //   dx = (dnorm - A - norm B) s: e_I = u|dnorm| + e_A + e_n |B| + |norm| e_B
  //        + gamma(3) (|dnorm| + |A| + |norm B|); e_dx = e_I s + |I| e_s + u |I s|
  //   dw, db: sums over rows (and threads' partial sums) added onto the prefill `calls` times.
  const double C = static_cast<double>(c);
  LayerNorm r;
  r.out.resize(n * c), r.dx.resize(n * c), r.mean.resize(n), r.rstd.resize(n);
  Values dw_mag(c, 0.0), dw_prop(c, 0.0), db_mag(c, 0.0);
  for (std::int64_t row = 0; row < n; ++row) {
    const double* xr = x.data() + row * c;
    const double* dr = dout.data() + row * c;
    double mu = 0.0, abs_mean = 0.0;
    for (std::int64_t i = 0; i < c; ++i) mu += xr[i], abs_mean += std::abs(xr[i]);
    mu /= C, abs_mean /= C;
    const double e_mu = g(C + 1) * abs_mean;
    std::vector<double> d(c), e_d(c);
    double var = 0.0, cross = 0.0, second = 0.0;
    for (std::int64_t i = 0; i < c; ++i) {
      d[i] = xr[i] - mu;
      e_d[i] = e_mu + u * (std::abs(xr[i]) + std::abs(mu));
      var += d[i] * d[i], cross += std::abs(d[i]) * e_d[i], second += e_d[i] * e_d[i];
    }
    var /= C, cross /= C, second /= C;
    const double e_var = g(C + 2) * var + 2.0 * cross + second;
    const double s = 1.0 / std::sqrt(var + eps);
    const double e_s = s * (e_var / (2.0 * (var + eps)) + g(3));
    r.mean[row] = e_mu;
    r.rstd[row] = e_s;
    double a = 0.0, a_mag = 0.0, bm = 0.0, bm_mag = 0.0, bm_prop = 0.0;
    std::vector<double> norm(c), e_n(c), dnorm(c);
    for (std::int64_t i = 0; i < c; ++i) {
      r.out[row * c + i] = std::abs(w[i]) * (e_d[i] * s + std::abs(d[i]) * e_s) +
                           g(3) * (std::abs(d[i] * s * w[i]) + std::abs(b[i]));
      norm[i] = d[i] * s;
      e_n[i] = e_d[i] * s + std::abs(d[i]) * e_s + 2.0 * u * std::abs(norm[i]);
      dnorm[i] = w[i] * dr[i];
      a += dnorm[i], a_mag += std::abs(dnorm[i]);
      bm += dnorm[i] * norm[i], bm_mag += std::abs(dnorm[i] * norm[i]);
      bm_prop += std::abs(dnorm[i]) * e_n[i];
      dw_mag[i] += std::abs(norm[i] * dr[i]);
      dw_prop[i] += std::abs(dr[i]) * e_n[i];
      db_mag[i] += std::abs(dr[i]);
    }
    a /= C, bm /= C;
    const double e_a = g(C + 2) * a_mag / C;
    const double e_b = g(C + 3) * bm_mag / C + bm_prop / C;
    for (std::int64_t i = 0; i < c; ++i) {
      const double inner = dnorm[i] - a - norm[i] * bm;
      const double e_i = u * std::abs(dnorm[i]) + e_a + e_n[i] * std::abs(bm) +
                         std::abs(norm[i]) * e_b +
                         g(3) * (std::abs(dnorm[i]) + std::abs(a) + std::abs(norm[i] * bm));
      r.dx[row * c + i] = e_i * s + std::abs(inner) * e_s + u * std::abs(inner * s);
    }
  }
  // Rows, plus a partial sum per thread (at most n), `calls` times, onto the prefill.
  const double terms = static_cast<double>(calls) * (2.0 * static_cast<double>(n) + 1.0) + 1.0;
  r.dw.resize(c), r.db.resize(c);
  for (std::int64_t i = 0; i < c; ++i) {
    r.dw[i] = g(terms) * (std::abs(prefill_dw[i]) + calls * dw_mag[i]) + calls * dw_prop[i];
    r.db[i] = g(terms) * (std::abs(prefill_db[i]) + calls * db_mag[i]);
  }
  return r;
}

namespace {

// GELU's pieces at x, exact, and the error bounds of the float steps that make them.
struct GeluParts {
  double z, tanh_z, one_plus, sech2;
  double e_z;         // |z| error: the cubic and the products, gamma(5) |z| (no cancellation)
  double e_exp;       // relative error of exp(2z): vexp's ulps and 2 e_z in the argument
  double e_one_plus;  // 2e/(e+1): its derivative in log e is sech2 / 2; three roundings
};

GeluParts gelu_parts(double x) {
  GeluParts p;
  p.z = kSqrt2OverPi * (x + kCubic * x * x * x);
  p.tanh_z = std::tanh(p.z);
  // From e = exp(2z) as the kernel does, without the cancellation of 1 + tanh in the tails.
  const double e = std::exp(2.0 * std::clamp(p.z, -40.0, 40.0));
  p.one_plus = 2.0 * e / (e + 1.0);
  p.sech2 = 4.0 * e / ((e + 1.0) * (e + 1.0));
  p.e_z = g(5) * std::abs(p.z);
  // Past |z| = 40 the kernel clamps z: both parts are then below float resolution of their
  // limits, and so is the clamp's effect.
  p.e_exp = kExpUlps * u + 2.0 * p.e_z;
  p.e_one_plus = p.sech2 / 2.0 * p.e_exp + g(3) * p.one_plus;
  return p;
}

}  // namespace

// PyTorch's float64 reference computes 1 + tanh(z) and 1 - tanh(z)^2 as written: in the tails,
// where they are far below 1, it is off by float64's roundoff of 1, more than Trellis (which
// never forms them from tanh) is. That error of the reference is part of the bound.
constexpr double kReferenceRoundoff = 0x1p-53;

Values gelu_out(const Values& x) {
  // out = 0.5 x (1 + tanh z): 0.5 |x| e_one_plus + gamma(2) |out|, and the reference's 0.5 |x|
  // times two float64 roundings of magnitude 1.
  Values out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    GeluParts p = gelu_parts(x[i]);
    out[i] = 0.5 * std::abs(x[i]) * (p.e_one_plus + 2.0 * kReferenceRoundoff) +
             g(2) * std::abs(0.5 * x[i] * p.one_plus);
  }
  return out;
}

Values gelu_dx(const Values& x, const Values& dout) {
  // local = 0.5 (1 + tanh) + 0.5 x sech2 k (1 + 3 c x^2); sech2 = 4e/(e+1)^2 has relative
  // rounding gamma(5) and, in log e, derivative -tanh sech2; the second term's products and
  // polynomial are gamma(8) of it; dx = local dout, one more rounding.
  Values out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    GeluParts p = gelu_parts(v);
    const double poly = 0.5 * std::abs(v) * kSqrt2OverPi * (1.0 + 3.0 * kCubic * v * v);
    const double term1 = 0.5 * p.one_plus, term2 = poly * p.sech2;
    const double e_sech2 = g(5) * p.sech2 + std::abs(p.tanh_z) * p.sech2 * p.e_exp;
    const double e_local = 0.5 * p.e_one_plus + poly * e_sech2 + g(8) * term2 + u * (term1 + term2);
    const double reference = 2.0 * kReferenceRoundoff * (0.5 + poly);
    out[i] = (e_local + reference) * std::abs(dout[i]) + u * std::abs((term1 + term2) * dout[i]);
  }
  return out;
}

Attention attention(const Values& qkv, const Values& dout, std::int64_t B, std::int64_t T,
                    std::int64_t C, std::int64_t heads) {
  // Per (sequence, head), row t over keys j <= t:
  //   scores s = q.k / sqrt(hs):   e_s = gamma(hs + 1) |q|.|k| / sqrt(hs)
  //   e_j = exp(s_j - max):        relative e_s_j + e_s_max + u |s_j - max| + vexp's ulps
  //   sum S:                       relative max_j(rel e_j) + gamma(t + 1)
  //   p_j = e_j / S:               relative rel e_j + rel S + u
  //   out = sum_j p_j v_j:         gamma(t + 1) sum p |v| + sum |dp| |v|
  // Backward, dP = dout.v (gamma(hs) |dout|.|v|), D = sum_j p dP, dS = p (dP - D),
  // dq = dS k / sqrt(hs), dk = dS^T q / sqrt(hs), dv = P^T dout: each a sum with its gamma plus
  // the errors of the factors it was given times the other factor's magnitude.
  const std::int64_t hs = C / heads, ld = 3 * C;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  Attention r;
  r.out.assign(B * T * C, 0.0), r.probs.assign(B * heads * T * T, 0.0);
  r.dqkv.assign(B * T * ld, 0.0);
  for (std::int64_t bi = 0; bi < B; ++bi) {
    for (std::int64_t h = 0; h < heads; ++h) {
      auto q = [&](std::int64_t t, std::int64_t c) { return qkv[(bi * T + t) * ld + h * hs + c]; };
      auto k = [&](std::int64_t t, std::int64_t c) {
        return qkv[(bi * T + t) * ld + C + h * hs + c];
      };
      auto v = [&](std::int64_t t, std::int64_t c) {
        return qkv[(bi * T + t) * ld + 2 * C + h * hs + c];
      };
      auto d_o = [&](std::int64_t t, std::int64_t c) {
        return dout[(bi * T + t) * C + h * hs + c];
      };
      std::vector<double> p(T * T, 0.0), e_p(T * T, 0.0), ds(T * T, 0.0), e_ds(T * T, 0.0);
      for (std::int64_t t = 0; t < T; ++t) {
        std::vector<double> s(t + 1), e_s(t + 1);
        double mx = -HUGE_VAL;
        std::int64_t at_max = 0;
        for (std::int64_t j = 0; j <= t; ++j) {
          double dot = 0.0, mag = 0.0;
          for (std::int64_t c = 0; c < hs; ++c)
            dot += q(t, c) * k(j, c), mag += std::abs(q(t, c) * k(j, c));
          s[j] = dot * scale;
          e_s[j] = g(static_cast<double>(hs + 1)) * mag * scale;
          if (s[j] > mx) mx = s[j], at_max = j;
        }
        double sum = 0.0, worst_rel = 0.0;
        std::vector<double> ex(t + 1), rel(t + 1);
        for (std::int64_t j = 0; j <= t; ++j) {
          ex[j] = std::exp(s[j] - mx);
          rel[j] = e_s[j] + e_s[at_max] + u * std::abs(s[j] - mx) + kExpUlps * u;
          sum += ex[j], worst_rel = std::max(worst_rel, rel[j]);
        }
        const double rel_sum = worst_rel + g(static_cast<double>(t + 1));
        for (std::int64_t j = 0; j <= t; ++j) {
          p[t * T + j] = ex[j] / sum;
          e_p[t * T + j] = p[t * T + j] * (rel[j] + rel_sum + u);
          r.probs[((bi * heads + h) * T + t) * T + j] = e_p[t * T + j];
        }
        for (std::int64_t c = 0; c < hs; ++c) {
          double mag = 0.0, prop = 0.0;
          for (std::int64_t j = 0; j <= t; ++j) {
            mag += p[t * T + j] * std::abs(v(j, c)), prop += e_p[t * T + j] * std::abs(v(j, c));
          }
          r.out[(bi * T + t) * C + h * hs + c] = g(static_cast<double>(t + 1)) * mag + prop;
        }
        // Backward of row t.
        std::vector<double> dp(t + 1), e_dp(t + 1);
        double dsum = 0.0, dsum_mag = 0.0, dsum_prop = 0.0;
        for (std::int64_t j = 0; j <= t; ++j) {
          double dot = 0.0, mag = 0.0;
          for (std::int64_t c = 0; c < hs; ++c)
            dot += d_o(t, c) * v(j, c), mag += std::abs(d_o(t, c) * v(j, c));
          dp[j] = dot;
          e_dp[j] = g(static_cast<double>(hs)) * mag;
          dsum += p[t * T + j] * dp[j];
          dsum_mag += std::abs(p[t * T + j] * dp[j]);
          dsum_prop += e_p[t * T + j] * std::abs(dp[j]) + p[t * T + j] * e_dp[j];
        }
        const double e_dsum = g(static_cast<double>(t + 2)) * dsum_mag + dsum_prop;
        for (std::int64_t j = 0; j <= t; ++j) {
          const double diff = dp[j] - dsum;
          ds[t * T + j] = p[t * T + j] * diff;
          e_ds[t * T + j] = e_p[t * T + j] * std::abs(diff) + p[t * T + j] * (e_dp[j] + e_dsum) +
                            g(2) * p[t * T + j] * (std::abs(dp[j]) + std::abs(dsum));
        }
      }
      for (std::int64_t t = 0; t < T; ++t) {
        for (std::int64_t c = 0; c < hs; ++c) {
          // dq[t] = scale sum_{j <= t} dS[t, j] k[j]
          double mag = 0.0, prop = 0.0;
          for (std::int64_t j = 0; j <= t; ++j) {
            mag += std::abs(ds[t * T + j] * k(j, c)), prop += e_ds[t * T + j] * std::abs(k(j, c));
          }
          r.dqkv[(bi * T + t) * ld + h * hs + c] =
              scale * (g(static_cast<double>(t + 2)) * mag + prop);
          // dk[t] = scale sum_{i >= t} dS[i, t] q[i];  dv[t] = sum_{i >= t} p[i, t] dout[i]
          double kmag = 0.0, kprop = 0.0, vmag = 0.0, vprop = 0.0;
          for (std::int64_t i = t; i < T; ++i) {
            kmag += std::abs(ds[i * T + t] * q(i, c)), kprop += e_ds[i * T + t] * std::abs(q(i, c));
            vmag += p[i * T + t] * std::abs(d_o(i, c)),
                vprop += e_p[i * T + t] * std::abs(d_o(i, c));
          }
          const double terms = static_cast<double>(T - t + 2);
          r.dqkv[(bi * T + t) * ld + C + h * hs + c] = scale * (g(terms) * kmag + kprop);
          r.dqkv[(bi * T + t) * ld + 2 * C + h * hs + c] = g(terms) * vmag + vprop;
        }
      }
    }
  }
  return r;
}

Values embedding_out(const Values& out) {
  Values r(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) r[i] = u * std::abs(out[i]);
  return r;
}

Values embedding_grad(const std::vector<std::int64_t>& row_of_position, const Values& dout,
                      const Values& prefill, std::int64_t rows, std::int64_t c) {
  // Each row: the prefill plus the dout of every position that read it, and a partial sum per
  // thread: gamma(count + 3) times the magnitudes.
  Values mag(rows * c, 0.0);
  std::vector<double> count(rows, 0.0);
  for (std::size_t pos = 0; pos < row_of_position.size(); ++pos) {
    const std::int64_t row = row_of_position[pos];
    if (row < 0 || row >= rows) continue;
    count[row] += 1.0;
    for (std::int64_t i = 0; i < c; ++i) mag[row * c + i] += std::abs(dout[pos * c + i]);
  }
  Values r(rows * c);
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t i = 0; i < c; ++i) {
      r[row * c + i] = g(count[row] + 3.0) * (std::abs(prefill[row * c + i]) + mag[row * c + i]);
    }
  }
  return r;
}

namespace {

// exp(z - max) of one logit: its value and relative error (the subtraction, vexp's ulps).
double exp_term_rel(double z, double max) {
  return u * std::abs(z - max) + kExpUlps * u;
}

}  // namespace

Values xent_sumexp(const Values& logits, const Values& max, std::int64_t n, std::int64_t cols,
                   std::int64_t begin, std::int64_t end) {
  // sum of (end - begin) positive terms: gamma(count) sum + sum of each term's own error.
  Values r(n);
  for (std::int64_t row = 0; row < n; ++row) {
    double sum = 0.0, prop = 0.0;
    for (std::int64_t j = begin; j < end; ++j) {
      const double e = std::exp(logits[row * cols + j] - max[row]);
      sum += e, prop += e * exp_term_rel(logits[row * cols + j], max[row]);
    }
    r[row] = g(static_cast<double>(std::max<std::int64_t>(1, end - begin))) * sum + prop;
  }
  return r;
}

double xent_loss_sum(const Values& sumexp, const Values& sumexp_bound, const Values& max,
                     const Values& target_logit) {
  // Per row in float: log S (relative error of S, plus 2 ulps of log), + max, - target (one
  // rounding each); rows added in double; the result rounded to float once.
  double bound = 0.0, total = 0.0;
  for (std::size_t row = 0; row < sumexp.size(); ++row) {
    const double ls = std::log(sumexp[row]);
    const double loss = ls + max[row] - target_logit[row];
    bound += sumexp_bound[row] / sumexp[row] + 2.0 * u * std::abs(ls) +
             u * std::abs(ls + max[row]) + u * std::abs(loss);
    total += loss;
  }
  return bound + u * std::abs(total);
}

Values xent_dlogits(const Values& logits, const Values& max, const Values& sumexp,
                    const Values& sumexp_bound, const std::vector<std::int64_t>& targets,
                    double scale, std::int64_t n, std::int64_t cols, std::int64_t begin,
                    std::int64_t vocab) {
  // exp(z - max) * (scale / S): relative error of the term, of S, two roundings, and scale's
  // own (the kernel is given 1/N as a float); the target column then subtracts scale (one
  // rounding, and scale's representation again). Padding columns are exactly 0.
  Values r(n * cols, 0.0);
  for (std::int64_t row = 0; row < n; ++row) {
    const double rel_s = sumexp_bound[row] / sumexp[row];
    for (std::int64_t j = 0; j < cols; ++j) {
      if (begin + j >= vocab) continue;
      const double z = logits[row * cols + j];
      const double value = std::exp(z - max[row]) * scale / sumexp[row];
      double b = value * (exp_term_rel(z, max[row]) + rel_s + 3.0 * u);
      if (targets[row] == begin + j) b += u * std::abs(value - scale) + u * scale;
      r[row * cols + j] = b;
    }
  }
  return r;
}

AdamW adamw(const Values& param, const std::vector<Values>& grads, double lr, double beta1,
            double beta2, double eps, double weight_decay) {
  // torch's AdamW in exact arithmetic (the reference) and, alongside, the bound on each float
  // step (adamw.cpp): the hyperparameters are float32 there (beta1 = 0.9 is 0.9 + 2e-8), so
  // each carries a relative error of u/2 and 1 - beta1 (in float) one of u beta1 / (1 - beta1)
  // more; decay 1 - lr wd and the bias corrections are computed in double from the float values
  // and rounded once.
  //   m' = beta1 m + (1 - beta1) g:       beta1 e_m + gamma(2) beta1 |m| + (gamma(2) + r1) (1 -
  //   beta1) |g| v' = beta2 v + (1 - beta2) g^2:     likewise, with gamma(3) for g * g D = sqrt(v')
  //   / c2 + eps:            sqrt's range over v' +- e_v, relative gamma(2) + r_c2, + u D U = m' /
  //   D:                         (e_m + |U| e_D) / (D - e_D) + u |U| p' = p decay - step U: decay
  //   e_p + 2u |p| + step (e_U + (r_step + u) |U|) + u |p'|
  const std::size_t n = param.size();
  const double r_beta1 = u * beta1 / (1.0 - beta1) + u, r_beta2 = u * beta2 / (1.0 - beta2) + u;
  AdamW out;
  Values p = param, m(n, 0.0), v(n, 0.0), e_p(n, 0.0), e_m(n, 0.0), e_v(n, 0.0);
  for (std::size_t s = 0; s < grads.size(); ++s) {
    const int t = static_cast<int>(s) + 1;
    const double bc1 = 1.0 - std::pow(beta1, t), bc2 = 1.0 - std::pow(beta2, t);
    const double c2 = std::sqrt(bc2);
    const double r_c2 = u + 0.5 * t * std::pow(beta2, t - 1) * u * beta2 / bc2;
    const double step = lr / bc1;
    const double r_step = 2.0 * u + t * std::pow(beta1, t - 1) * u * beta1 / bc1;
    const double decay = 1.0 - lr * weight_decay;
    const double r_decay = 2.0 * u * lr * weight_decay / decay + u;
    for (std::size_t i = 0; i < n; ++i) {
      const double gi = grads[s][i];
      const double m2 = beta1 * m[i] + (1.0 - beta1) * gi;
      const double v2 = beta2 * v[i] + (1.0 - beta2) * gi * gi;
      const double em = beta1 * e_m[i] + g(2) * beta1 * std::abs(m[i]) +
                        (g(2) + r_beta1) * (1.0 - beta1) * std::abs(gi);
      const double ev =
          beta2 * e_v[i] + g(2) * beta2 * v[i] + (g(3) + r_beta2) * (1.0 - beta2) * gi * gi;
      const double root = std::sqrt(v2);
      const double d = root / c2 + eps;
      const double e_root = std::sqrt(v2 + ev) - std::sqrt(std::max(0.0, v2 - ev));
      const double e_d = e_root / c2 + (g(2) + r_c2) * root / c2 + u * d + u * eps;
      const double upd = m2 / d;
      const double e_u =
          (e_d < d ? (em + std::abs(upd) * e_d) / (d - e_d) : HUGE_VAL) + u * std::abs(upd);
      const double p2 = p[i] * decay - step * upd;
      e_p[i] = decay * e_p[i] + (u + r_decay) * std::abs(p[i] * decay) +
               step * (e_u + (r_step + u) * std::abs(upd)) + u * std::abs(p2);
      p[i] = p2, m[i] = m2, v[i] = v2, e_m[i] = em, e_v[i] = ev;
    }
    out.param.push_back(e_p), out.m.push_back(e_m), out.v.push_back(e_v);
  }
  return out;
}

RmsNorm rmsnorm(const Values& x, const Values& w, const Values& dout, const Values& prefill_dw,
                int calls, std::int64_t n, std::int64_t c, double eps) {
  // Per row, exact ms = mean(x^2), s = 1 / sqrt(ms + eps), for float sums in any order (the
  // kernel's sums in double are within these):
  //   ms:    e_ms = gamma(c + 1) ms                          (squares, sum of c, divide)
  //   rstd:  e_s = s (e_ms / (2 (ms + eps)) + gamma(3))      (+ eps, sqrt, divide)
  //   out = (x s) w:  |x w| e_s + gamma(2) |x s w|
  // Backward, with norm = x s (e_n = |x| e_s + u |norm|), dnorm = w dout (u |dnorm|):
  //   M = mean(dnorm norm), rounded to float: e_M = gamma(c + 3) mean|dnorm norm|
  //        + mean(|dnorm| e_n + u |dnorm norm|)
  //   dx = (dnorm - norm M) s:  e_I = u |dnorm| + e_n |M| + |norm| e_M
  //        + gamma(2) (|dnorm| + |norm M|);  e_dx = e_I s + |I| e_s + u |I s|
  //   dw: sums over rows of dout norm (and threads' partial sums) added onto the prefill.
  const double C = static_cast<double>(c);
  RmsNorm r;
  r.out.resize(n * c), r.dx.resize(n * c), r.rstd.resize(n);
  Values dw_mag(c, 0.0), dw_prop(c, 0.0);
  for (std::int64_t row = 0; row < n; ++row) {
    const double* xr = x.data() + row * c;
    const double* dr = dout.data() + row * c;
    double ms = 0.0;
    for (std::int64_t i = 0; i < c; ++i) ms += xr[i] * xr[i];
    ms /= C;
    const double s = 1.0 / std::sqrt(ms + eps);
    const double e_s = s * (g(C + 1) * ms / (2.0 * (ms + eps)) + g(3));
    r.rstd[row] = e_s;
    std::vector<double> norm(c), e_n(c), dnorm(c);
    double m = 0.0, m_mag = 0.0, m_prop = 0.0;
    for (std::int64_t i = 0; i < c; ++i) {
      r.out[row * c + i] = std::abs(xr[i] * w[i]) * e_s + g(2) * std::abs(xr[i] * s * w[i]);
      norm[i] = xr[i] * s;
      e_n[i] = std::abs(xr[i]) * e_s + u * std::abs(norm[i]);
      dnorm[i] = w[i] * dr[i];
      m += dnorm[i] * norm[i], m_mag += std::abs(dnorm[i] * norm[i]);
      m_prop += std::abs(dnorm[i]) * e_n[i] + u * std::abs(dnorm[i] * norm[i]);
      dw_mag[i] += std::abs(norm[i] * dr[i]);
      dw_prop[i] += std::abs(dr[i]) * e_n[i];
    }
    m /= C;
    const double e_m = g(C + 3) * m_mag / C + m_prop / C;
    for (std::int64_t i = 0; i < c; ++i) {
      const double inner = dnorm[i] - norm[i] * m;
      const double e_i = u * std::abs(dnorm[i]) + e_n[i] * std::abs(m) + std::abs(norm[i]) * e_m +
                         g(2) * (std::abs(dnorm[i]) + std::abs(norm[i] * m));
      r.dx[row * c + i] = e_i * s + std::abs(inner) * e_s + u * std::abs(inner * s);
    }
  }
  // Rows, plus a partial sum per thread (at most n), `calls` times, onto the prefill.
  const double terms = static_cast<double>(calls) * (2.0 * static_cast<double>(n) + 1.0) + 1.0;
  r.dw.resize(c);
  for (std::int64_t i = 0; i < c; ++i) {
    r.dw[i] = g(terms) * (std::abs(prefill_dw[i]) + calls * dw_mag[i]) + calls * dw_prop[i];
  }
  return r;
}

SwiGlu swiglu(const Values& gate_up, const Values& dout, std::int64_t n, std::int64_t f) {
  // From e = exp(-|g|) (vexp's ulps): 1 + e has relative error 5u, 1 / (1 + e) 6u, e / (1 + e)
  // 11u; so sigmoid and 1 - sigmoid each carry r = kExpUlps u + gamma(7). Then:
  //   out = (g sig) up, d up = dout (g sig):  (r + gamma(2)) of the magnitude
  //   t = g (1 - sig): e_t = |t| (r + u);  one = 1 + t: e_one = e_t + u |one|
  //   local = sig one:  e_l = sig e_one + sig |one| r + u sig |one|
  //   d gate = (dout up) local:  |dout up| e_l + gamma(2) |dout up local|
  const double r_sig = kExpUlps * u + g(7);
  SwiGlu r;
  r.out.resize(n * f), r.dgate_up.resize(n * 2 * f);
  for (std::int64_t row = 0; row < n; ++row) {
    for (std::int64_t i = 0; i < f; ++i) {
      const double gate = gate_up[row * 2 * f + i], up = gate_up[row * 2 * f + f + i];
      const double d = dout[row * f + i];
      const double e = std::exp(-std::abs(gate));
      const double sig = gate >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      const double comp = gate >= 0.0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
      const double silu = std::abs(gate * sig);
      r.out[row * f + i] = silu * std::abs(up) * (r_sig + g(2));
      r.dgate_up[row * 2 * f + f + i] = silu * std::abs(d) * (r_sig + g(2));
      const double t = gate * comp, one = 1.0 + t;
      const double e_one = std::abs(t) * (r_sig + u) + u * std::abs(one);
      const double e_local = sig * e_one + sig * std::abs(one) * (r_sig + u);
      const double du = std::abs(d * up);
      r.dgate_up[row * 2 * f + i] = du * e_local + g(2) * du * sig * std::abs(one);
    }
  }
  return r;
}

Values rope(const Values& in, const Values& exact, std::int64_t B, std::int64_t W, std::int64_t col,
            std::int64_t heads, std::int64_t head_dim, const std::vector<std::int64_t>& positions,
            double theta) {
  // The kernel turns each pair in double and rounds each result to float once: u |exact|. The
  // double arithmetic (the power, the angle, its cosine and sine, two products and a sum), and
  // the float64 reference's own, are within 16 float64 roundings of (1 + |angle|) times the
  // pair's magnitudes, many orders below u.
  constexpr double kDoubleRoundoff = 0x1p-53;
  const std::int64_t T = static_cast<std::int64_t>(positions.size()), half = head_dim / 2;
  Values r(in.size(), 0.0);
  for (std::int64_t row = 0; row < B * T; ++row) {
    const double position = static_cast<double>(positions[row % T]);
    for (std::int64_t h = 0; h < heads; ++h) {
      for (std::int64_t i = 0; i < half; ++i) {
        const double angle = position * std::pow(theta, -2.0 * static_cast<double>(i) / head_dim);
        const std::int64_t first = row * W + col + h * head_dim + i, second = first + half;
        const double pair = std::abs(in[first]) + std::abs(in[second]);
        const double arithmetic = 16.0 * kDoubleRoundoff * (1.0 + std::abs(angle)) * pair;
        r[first] = u * std::abs(exact[first]) + arithmetic;
        r[second] = u * std::abs(exact[second]) + arithmetic;
      }
    }
  }
  return r;
}

Values matmul(const Values& a, const Values& b, const Values& before, double alpha, double beta,
              std::int64_t m, std::int64_t n, std::int64_t k) {
  Values r(m * n);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double mag = 0.0;
      for (std::int64_t p = 0; p < k; ++p) mag += std::abs(a[i * k + p] * b[p * n + j]);
      r[i * n + j] = g(static_cast<double>(k + 2)) *
                     (std::abs(alpha) * mag + std::abs(beta) * std::abs(before[i * n + j]));
    }
  }
  return r;
}

}  // namespace trellis::test::numerics::kernel_bounds
