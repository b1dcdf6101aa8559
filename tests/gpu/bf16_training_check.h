// The bf16 training check: steps of TinyGpt on the CPU in fp32 and on the device in bf16 mixed
// precision, each step from the same state (the device's parameters and AdamW moments are made
// the CPU's first, so a step's differences are that step's rounding, not earlier steps'), with
// three checks per step, each within a bound derived where it is computed:
//  - products: every matrix product of the device's step against the CPU's on the same inputs,
//    element by element (product_checks.h);
//  - loss: |bf16 loss - fp32 loss| within the first-order bound of rounding the forward's
//    product operands (TinyGpt::loss_rounding_bound);
//  - movement: for every parameter element, the device's update (param_after - param_before)
//    against the CPU's, within what AdamW's sensitivity allows for the two gradients
//    (adam_movement_bound below). A wrong learning rate or bias correction fails it.
#pragma once

#include <string>
#include <vector>

#include "gpu_pair.h"
#include "trellis/kernels.h"

namespace trellis::gpu_test {

// How AdamW's update moves with the gradient, for step `optim.step`: with the same parameter and
// moments, gradients g (CPU) and g' (device) give updates that differ by at most
//   lr * K * |g' - g| / |g|   (and never by more than 2 lr s_max),
// where s_max bounds |m_hat| / (sqrt(v_hat) + eps) for every gradient history (Cauchy-Schwarz on
// the moments' weights) and K = max(4 s_max, 2 L), L bounding |g ds/dg|: see the .cpp.
struct AdamSensitivity {
  double s_max = 0.0;
  double K = 0.0;
};
AdamSensitivity adam_sensitivity(const AdamWStep& optim);

struct TrainingCheckResult {
  std::vector<std::string> failures;  // empty when every check of every step passed
  std::vector<std::string> figures;   // one line per step: losses, bounds, worst ratios
};

// `steps` steps of lr `lr` (AdamW 0.9, 0.95, eps 1e-8, weight decay 0.1) on fresh TinyGpts.
TrainingCheckResult check_bf16_training(Devices& devices, int steps, float lr);

}  // namespace trellis::gpu_test
