// A one-block GPT-2 (tied head, pre-LayerNorm, GELU MLP) written with the kernels, held on the
// CPU and on the device under test from the same initial parameters: each step runs on either
// copy, so the two can be trained side by side and compared.
#pragma once

#include <string>
#include <vector>

#include "gpu_pair.h"
#include "product_checks.h"

namespace trellis::gpu_test {

class TinyGpt {
 public:
  static constexpr int kVocab = 64, kChannels = 32, kHeads = 4, kSeq = 16, kBatch = 2;
  static constexpr int kRows = kBatch * kSeq;

  struct Param {
    std::string name;
    Pair value, grad, m, v;
  };
  struct Figures {
    double loss = 0.0, grad_norm = 0.0;
  };
  enum class Side { cpu, device };

  explicit TinyGpt(Devices& devices);

  // The forward and the backward on one copy: the loss and the gradients' norm. With `checks`,
  // the device's products run through it (each checked against the CPU on the same inputs).
  Figures forward_backward(Side side, const Pair& tokens, const Pair& targets,
                           ProductChecks* checks = nullptr);
  // AdamW on every parameter of one copy.
  void update(Side side, const AdamWStep& optim);
  // Both of the above.
  Figures step(Side side, const Pair& tokens, const Pair& targets, const AdamWStep& optim);

  // The device copy's parameters and AdamW moments made equal to the CPU's.
  void copy_state_to_device();

  // After forward_backward on the CPU copy (before its update): a bound on how far the loss of a
  // bf16 forward from the same parameters may be from the CPU's (bf16_bounds.h,
  // loss_change_bound), summed over the forward's products and fp32 steps.
  double loss_rounding_bound();

  std::vector<Param>& params() { return params_; }

 private:
  Devices& d_;
  std::vector<Param> params_;
  // activations and their gradients, both devices
  Pair x0_, h1_, mean1_, rstd1_, qkv_, probs_, att_, a_, x1_, h2_, mean2_, rstd2_, f_, g_, mm_, x2_,
      hf_, meanf_, rstdf_, logits_, max_, sumexp_, tlogit_;
  Pair dhf_, dx2_, dg_, df_, dh2_, dtmp_, dx1_, datt_, dqkv_, dh1_, dx0_;
};

}  // namespace trellis::gpu_test
