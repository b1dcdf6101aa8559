#include "bf16_training_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bf16_bounds.h"
#include "product_checks.h"
#include "tiny_gpt.h"

namespace trellis::gpu_test {

// AdamW (decoupled decay, PyTorch's form) at step t from moments m0, v0 and gradient g:
//   m = b1 m0 + (1 - b1) g,  v = b2 v0 + (1 - b2) g^2,
//   s(g) = (m / c1) / (sqrt(v / c2) + eps),  c1 = 1 - b1^t, c2 = 1 - b2^t,
//   param_after = param (1 - lr wd) - lr s(g).
// With the same param, m0 and v0 on both devices the updates differ by lr |s(g') - s(g)|.
// - s_max: m0 and v0 sum the same history of gradients g_1..g_{t-1} with weights, so
//   |m / c1| = |sum_i a_i g_i| <= sqrt(sum a_i^2 / b_i) sqrt(sum b_i g_i^2) = s_max sqrt(v / c2)
//   (a_i = (1 - b1) b1^(t-i) / c1, b_i = (1 - b2) b2^(t-i) / c2), hence |s| <= s_max.
// - L: d s / d g = ((1 - b1) / c1) / (sqrt(v/c2) + eps) - s (1 - b2) g / (c2 sqrt(v/c2)
//   (sqrt(v/c2) + eps)); as v / c2 >= (1 - b2) g^2 / c2, |g ds/dg| <= L =
//   ((1 - b1) / c1) sqrt(c2 / (1 - b2)) + s_max.
// - If |g' - g| >= |g| / 2: |s(g') - s(g)| <= 2 s_max, so |g| |s(g') - s(g)| <= 4 s_max |g' - g|.
//   Else g' has g's sign and every point between them is at least |g| / 2 from zero, where
//   |ds/dg| <= L / (|g| / 2): |g| |s(g') - s(g)| <= 2 L |g' - g|. Either way K |g' - g|.
AdamSensitivity adam_sensitivity(const AdamWStep& optim) {
  const int t = optim.step;
  const double b1 = optim.beta1, b2 = optim.beta2;
  const double c1 = 1.0 - std::pow(b1, t), c2 = 1.0 - std::pow(b2, t);
  double sum = 0.0;
  for (int i = 1; i <= t; ++i) {
    const double a = (1.0 - b1) * std::pow(b1, t - i) / c1;
    const double b = (1.0 - b2) * std::pow(b2, t - i) / c2;
    sum += a * a / b;
  }
  AdamSensitivity out;
  out.s_max = std::sqrt(sum);
  const double L = (1.0 - b1) / c1 * std::sqrt(c2 / (1.0 - b2)) + out.s_max;
  out.K = std::max(4.0 * out.s_max, 2.0 * L);
  return out;
}

namespace {

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", x);
  return text;
}

// Every element of every parameter: |g| |moved' - moved| <= lr K |g' - g| + |g| fp32, where
// fp32 is both devices' rounding of the update: param (1 - lr wd) and the subtraction (one
// rounding of |param| each) and the step, about ten roundings of lr s_max (the moments, the
// square root, the divisions), 16 allowed; twice, one per device.
// Returns "" or the element furthest outside its bound; `worst` gets the largest lhs / rhs.
std::string check_movement(Devices& d, TinyGpt::Param& p, const std::vector<float>& before,
                           const AdamWStep& optim, double& worst) {
  const AdamSensitivity adam = adam_sensitivity(optim);
  const std::vector<float> after_device = d.download(p.value.device);
  const std::vector<float> grad_device = d.download(p.grad.device);
  const float* after = p.value.host.data<float>();
  const float* grad = p.grad.host.data<float>();
  std::string wrong;
  double furthest = 1.0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double g = std::fabs(static_cast<double>(grad[i]));
    const double moved = static_cast<double>(after[i]) - before[i];
    const double moved_device = static_cast<double>(after_device[i]) - before[i];
    const double fp32 =
        2.0 * kF32Unit *
        (2.0 * std::fabs(static_cast<double>(before[i])) + 16.0 * optim.lr * adam.s_max);
    const double lhs = g * std::fabs(moved_device - moved);
    const double rhs =
        optim.lr * adam.K * std::fabs(static_cast<double>(grad_device[i]) - grad[i]) + g * fp32;
    const double ratio = lhs == 0.0 ? 0.0 : lhs / rhs;
    worst = std::max(worst, ratio);
    if (!(ratio <= furthest)) {
      furthest = std::isnan(ratio) ? INFINITY : ratio;
      wrong = p.name + "[" + std::to_string(i) + "] moved " + number(moved_device) +
              " on the device, " + number(moved) + " on the cpu (gradients " +
              number(grad_device[i]) + ", " + number(grad[i]) + "): |g| |difference| " +
              number(lhs) + " > bound " + number(rhs);
    }
  }
  return wrong;
}

}  // namespace

TrainingCheckResult check_bf16_training(Devices& d, int steps, float lr) {
  TrainingCheckResult result;
  TinyGpt model(d);
  for (int s = 1; s <= steps; ++s) {
    const std::string at = "step " + std::to_string(s) + ": ";
    const Pair tokens = d.tokens({TinyGpt::kBatch, TinyGpt::kSeq}, 200 + s, TinyGpt::kVocab);
    const Pair targets = d.tokens({TinyGpt::kRows}, 300 + s, TinyGpt::kVocab);
    const AdamWStep optim{lr, 0.9f, 0.95f, 1e-8f, 0.1f, s};
    model.copy_state_to_device();
    std::vector<std::vector<float>> before;
    for (TinyGpt::Param& p : model.params()) before.push_back(d.download(p.value.device));

    const TinyGpt::Figures cpu = model.forward_backward(TinyGpt::Side::cpu, tokens, targets);
    const double loss_bound = model.loss_rounding_bound();
    ProductChecks checks(d);
    const TinyGpt::Figures device =
        model.forward_backward(TinyGpt::Side::device, tokens, targets, &checks);
    model.update(TinyGpt::Side::cpu, optim);
    model.update(TinyGpt::Side::device, optim);

    for (const std::string& failure : checks.failures()) result.failures.push_back(at + failure);
    const double loss_error = std::fabs(device.loss - cpu.loss);
    if (!(loss_error <= loss_bound)) {
      result.failures.push_back(at + "loss " + number(device.loss) + " on the device, " +
                                number(cpu.loss) + " on the cpu: difference " + number(loss_error) +
                                " > bound " + number(loss_bound));
    }
    double worst_movement = 0.0;
    for (std::size_t i = 0; i < model.params().size(); ++i) {
      const std::string wrong =
          check_movement(d, model.params()[i], before[i], optim, worst_movement);
      if (!wrong.empty()) result.failures.push_back(at + "movement " + wrong);
    }
    result.figures.push_back(
        at + "loss cpu " + number(cpu.loss) + ", device " + number(device.loss) + ", difference " +
        number(loss_error) + " (bound " + number(loss_bound) + "); " +
        std::to_string(checks.outputs_checked()) + " product outputs checked; movement at most " +
        number(worst_movement) + " of its bound");
  }
  return result;
}

}  // namespace trellis::gpu_test
