#include "adamw_bound.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "error_bound.h"

namespace trellis::test::numerics {

namespace {

// Step s's weight (s = 1..t) in m_hat and in v_hat after t steps.
double first_moment_weight(int s, int t, const AdamwSettings& a) {
  return (1.0 - a.beta1) * std::pow(a.beta1, t - s) / (1.0 - std::pow(a.beta1, t));
}
double second_moment_weight(int s, int t, const AdamwSettings& a) {
  return (1.0 - a.beta2) * std::pow(a.beta2, t - s) / (1.0 - std::pow(a.beta2, t));
}

}  // namespace

double adamw_direction_limit(int t, const AdamwSettings& a) {
  double sum = 0.0;
  for (int s = 1; s <= t; ++s) {
    const double w = first_moment_weight(s, t, a);
    sum += w * w / second_moment_weight(s, t, a);
  }
  return std::sqrt(sum);
}

std::vector<double> max_abs_gradient_per_step(const AdamwTensorHistory& h, const AdamwSettings& a) {
  std::vector<double> out;
  for (std::size_t t = 0; t < h.m.size(); ++t) {
    double largest = 0.0;
    for (std::size_t i = 0; i < h.m[t].size(); ++i) {
      const double before = t == 0 ? 0.0 : h.m[t - 1][i];
      largest = std::max(largest, std::abs((h.m[t][i] - a.beta1 * before) / (1.0 - a.beta1)));
    }
    out.push_back(largest);
  }
  return out;
}

std::vector<double> adamw_parameter_bound(const AdamwTensorHistory& h, std::span<const double> lr,
                                          std::span<const double> eta, const AdamwSettings& a) {
  const std::size_t steps = h.m.size();
  if (h.v.size() != steps || h.param.size() != steps || lr.size() != steps || eta.size() != steps ||
      steps == 0) {
    throw std::invalid_argument("adamw_parameter_bound: " + std::to_string(steps) +
                                " steps of moments, " + std::to_string(lr.size()) +
                                " learning rates, " + std::to_string(eta.size()) +
                                " gradient bounds");
  }
  const std::size_t n = h.m[0].size();
  const double u = kUnitRoundoff;
  std::vector<double> e(n, 0.0);
  for (std::size_t t = 1; t <= steps; ++t) {
    const int ti = static_cast<int>(t);
    const double rho = adamw_direction_limit(ti, a);
    double eta_m = 0.0, eta_v2 = 0.0;
    for (int s = 1; s <= ti; ++s) {
      eta_m += first_moment_weight(s, ti, a) * eta[s - 1];
      eta_v2 += second_moment_weight(s, ti, a) * eta[s - 1] * eta[s - 1];
    }
    const double eta_v = std::sqrt(eta_v2);
    const double v_correction = 1.0 - std::pow(a.beta2, ti);
    for (std::size_t i = 0; i < n; ++i) {
      const double root = std::sqrt(static_cast<double>(h.v[t - 1][i]) / v_correction);
      const double b = root * (1.0 - 4.0 * u) + a.eps - 2.0 * eta_v;
      const double du = b > 0.0 ? std::min(2.0 * rho, (eta_m + rho * eta_v) / b) : 2.0 * rho;
      const double p = std::abs(static_cast<double>(h.param[t - 1][i]));
      e[i] += lr[t - 1] * du + u * (3.0 * p + 3.0 * lr[t - 1] * rho);
    }
  }
  return e;
}

}  // namespace trellis::test::numerics
