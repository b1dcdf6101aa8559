// How far float32 rounding can move a parameter trained by AdamW: the bound the golden and
// equivalence tests hold the trained parameters to, element by element.
//
// AdamW's step is p -= lr * u with u = m_hat / (sqrt(v_hat) + eps): the gradient divided by its
// own running size. So an error of eta in the gradient moves u by about eta / sqrt(v_hat), and
// where the true gradient vanishes (a key bias, whose exact gradient is 0 because adding a
// constant to every key leaves the softmax as it is; an element whose gradient happens to pass
// near 0 on some step) rounding noise alone sets u, which can then be anything up to its limit.
// Per step t and element, with w_s and o_s the weights AdamW's bias-corrected moments give step
// s's gradient (m_hat = sum w_s g_s, v_hat = sum o_s g_s^2, each summing to 1):
//   - |u| <= rho_t = sqrt(sum w_s^2 / o_s) (Cauchy-Schwarz; 1 at step 1, ~1.0005 by step 5), so
//     two runs' steps differ by at most 2 rho_t: the bound where the gradient is at noise level.
//   - With gradient errors |dg_s| <= eta_s: |d m_hat| <= eta_m = sum w_s eta_s and, sqrt(v_hat)
//     being a weighted 2-norm of the gradients, |d sqrt(v_hat)| <= eta_v = sqrt(sum o_s eta_s^2).
//     Then |du| <= (eta_m + rho_t eta_v) / (b - eta_v), b = sqrt(v_hat) + eps the exact
//     denominator. The reference run's own sqrt(v_hat) is within eta_v of it, hence b - 2 eta_v
//     with the reference's b (and 4u of it for the rounding of v itself).
//   - |du| <= min(2 rho_t, that), and e_t = e_{t-1} + lr_t |du| + u (3 |p| + 3 lr_t rho_t) for the
//     rounding of the step itself (decay, product, subtraction; the decay factor 1 - lr wd <= 1
//     only shrinks e).
// Not in the bound: earlier parameter errors feeding later gradients (the Hessian times e). The
// bound assumes that stays below eta; the per-step loss and gradient-norm checks would show it.
#pragma once

#include <span>
#include <vector>

namespace trellis::test::numerics {

struct AdamwSettings {
  double beta1 = 0.0;
  double beta2 = 0.0;
  double eps = 0.0;
};

// One parameter tensor in the reference run after each step 1..T: AdamW's raw moments (as
// torch.optim.AdamW keeps them: m_t = beta1 m + (1 - beta1) g, likewise v with g^2) and the
// parameter's values.
struct AdamwTensorHistory {
  std::vector<std::vector<float>> m, v, param;  // [step - 1][element]
};

// rho_t: the largest |m_hat / sqrt(v_hat)| after t steps, whatever the gradients.
double adamw_direction_limit(int t, const AdamwSettings& settings);

// The gradients AdamW was given (after clipping), recovered from the moments:
// g_t = (m_t - beta1 m_{t-1}) / (1 - beta1); the largest |g_t| of the tensor at each step.
std::vector<double> max_abs_gradient_per_step(const AdamwTensorHistory& history,
                                              const AdamwSettings& settings);

// The bound on |p_T - p_T(exact)| for each element after the history's T steps, given each
// step's learning rate and a bound eta_t on the error of every gradient element of the tensor.
std::vector<double> adamw_parameter_bound(const AdamwTensorHistory& history,
                                          std::span<const double> lr, std::span<const double> eta,
                                          const AdamwSettings& settings);

}  // namespace trellis::test::numerics
